"""The AsyncAPI 3.0 document of one service: the channels it sends on, the channels it receives from, and its
dead letters."""

from typing import Any, Final

from nats.js.api import Header

from jinlin.contracts.model import Aggregate, ConsumedEvent, Consumption, ServiceContract, address_parameters
from jinlin.contracts.schemas import describe, envelope_schema, model_schema
from jinlin.events import DomainEvent
from jinlin.events.envelope import CONTENT_TYPE
from jinlin.messaging import (
    DEADLETTER_STREAM,
    DLQ_CONSUMER,
    DLQ_DELIVERIES,
    DLQ_ORIGINAL_MSG_ID,
    DLQ_REASON,
    DLQ_STREAM,
    DLQ_STREAM_SEQ,
    DLQ_SUBJECT,
    DUPLICATE_WINDOW_SECONDS,
    dead_letter_subject,
)

ASYNCAPI_VERSION: Final = "3.0.0"
SCHEMAS: Final = "#/components/schemas/"
ENVELOPE: Final = "CloudEvent"
HEADERS: Final = "EventHeaders"
DEAD_LETTER_HEADERS: Final = "DeadLetterHeaders"


def _ref(path: str) -> dict[str, str]:
    return {"$ref": path}


def _event_headers(stream: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Content-Type", Header.MSG_ID.value],
        "properties": {
            "Content-Type": {"const": CONTENT_TYPE},
            Header.MSG_ID.value: {
                "type": "string",
                "description": "The CloudEvent id. JetStream drops a second message with the same id within its "
                f"duplicate window ({int(DUPLICATE_WINDOW_SECONDS)} s); consumers still deduplicate by id.",
            },
            Header.EXPECTED_STREAM.value: {
                "const": stream,
                "description": "The relay's guard: the message may only be stored in this stream.",
            },
            Header.EXPECTED_LAST_SEQUENCE.value: {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "The relay's guard: stored only right after sequence - 1, so the stream stays an "
                "exact, gap-free copy of the log.",
            },
        },
    }


def _dead_letter_headers() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": [DLQ_REASON, DLQ_SUBJECT, DLQ_STREAM, DLQ_STREAM_SEQ, DLQ_DELIVERIES, DLQ_CONSUMER],
        "properties": {
            DLQ_REASON: text | {"description": "Why the consumer gave up (the error's class and message)."},
            DLQ_SUBJECT: text | {"description": "The subject the message was read from."},
            DLQ_STREAM: text | {"description": "The stream it was read from."},
            DLQ_STREAM_SEQ: text | {"pattern": "^[0-9]+$", "description": "Its sequence in that stream."},
            DLQ_DELIVERIES: text | {"pattern": "^[0-9]+$", "description": "How many times it was delivered."},
            DLQ_CONSUMER: text | {"description": "The durable consumer that gave up."},
            DLQ_ORIGINAL_MSG_ID: text | {"description": "The original Nats-Msg-Id, when it had one."},
            Header.MSG_ID.value: text
            | {"description": "<stream>.<sequence>.<durable>: one dead letter per message and consumer."},
        },
    }


class _Builder:
    def __init__(self, contract: ServiceContract) -> None:
        self.contract = contract
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}
        self.schemas: dict[str, Any] = {
            ENVELOPE: envelope_schema(),
            HEADERS: _event_headers(contract.service.upper()),
        }

    # -- schemas -----------------------------------------------------------------------------------

    def _add_schema(self, name: str, schema: dict[str, Any]) -> None:
        existing = self.schemas.get(name)
        if existing is not None and existing != schema:
            raise ValueError(f"two different schemas are both called {name!r}; rename one of the models")
        self.schemas[name] = schema

    def _data_schema(self, name: str, model: type[Any]) -> dict[str, str]:
        schema, definitions = model_schema(model, SCHEMAS)
        for definition_name, definition in definitions.items():
            self._add_schema(definition_name, definition)
        self._add_schema(name, schema)
        return _ref(SCHEMAS + name)

    def _message(self, name: str, event_type: str, data_ref: dict[str, str], summary: str, description: str) -> None:
        message: dict[str, Any] = {
            "name": name.split(".")[0],
            "title": event_type,
            "contentType": CONTENT_TYPE,
            "headers": _ref(SCHEMAS + HEADERS),
            "correlationId": _ref("#/components/correlationIds/caseid"),
            "payload": {
                "allOf": [
                    _ref(SCHEMAS + ENVELOPE),
                    {"type": "object", "properties": {"type": {"const": event_type}, "data": data_ref}},
                ]
            },
        }
        if summary:
            message["summary"] = summary
        if description and description != summary:
            message["description"] = description
        self.messages[name] = message

    # -- channels ----------------------------------------------------------------------------------

    def published(self, aggregate: Aggregate, model: type[DomainEvent]) -> None:
        event_type = self.contract.registry.type_of(model)
        name = f"{model.event_name()}.v{model.event_version}"
        summary, description = describe(model)
        self._message(name, event_type, self._data_schema(name, model), summary, description)
        channel = model.event_name()
        self.channels[channel] = {
            "address": self.contract.address_of(model),
            "title": model.event_name(),
            "description": f"{summary} Published by the relay to the {self.contract.service.upper()} stream "
            f"in log order, once committed.",
            "parameters": {aggregate.id_name: {"description": aggregate.id_description}},
            "messages": {name: _ref(f"#/components/messages/{name}")},
        }
        self.operations[f"publish{model.event_name()}"] = {
            "action": "send",
            "channel": _ref(f"#/channels/{channel}"),
            "summary": summary or model.event_name(),
            "messages": [_ref(f"#/channels/{channel}/messages/{name}")],
        }

    def consumed(self, consumption: Consumption, event: ConsumedEvent) -> None:
        name = event.name
        channel = f"{event.service}.{event.name.split('.')[0]}"
        schema_name = f"{event.service}.{name}"
        self._message(name, event.event_type, self._data_schema(schema_name, event.data_model), event.summary, "")
        self.channels[channel] = {
            "address": event.address,
            "title": f"{event.event_type} (from {event.service})",
            "description": event.description or event.summary,
            "parameters": {param: {"description": event.parameters[param]} for param in event.parameters},
            "messages": {name: _ref(f"#/components/messages/{name}")},
        }
        filters = ", ".join(consumption.filter_subjects)
        self.operations[f"receive{event.name.split('.')[0]}"] = {
            "action": "receive",
            "channel": _ref(f"#/channels/{channel}"),
            "summary": event.summary,
            "description": f"Durable consumer {consumption.durable} on stream {consumption.stream} (filter "
            f"{filters}), explicit acks, effects applied once per event id. " + (consumption.description or ""),
            "messages": [_ref(f"#/channels/{channel}/messages/{name}")],
        }

    def dead_letters(self, consumption: Consumption) -> None:
        channel = f"deadLetters.{consumption.durable}"
        self.messages["DeadLetter"] = {
            "name": "DeadLetter",
            "title": "A message a consumer gave up on",
            "summary": "The original message body, unchanged, with the reason in headers.",
            "headers": _ref(SCHEMAS + DEAD_LETTER_HEADERS),
            "payload": {"description": "The original body, byte for byte (usually a CloudEvent; maybe not JSON)."},
        }
        self.schemas[DEAD_LETTER_HEADERS] = _dead_letter_headers()
        self.channels[channel] = {
            "address": dead_letter_subject(self.contract.service, consumption.durable),
            "title": f"Dead letters of {consumption.durable}",
            "description": f"Stored in the {DEADLETTER_STREAM} stream. A message lands here after bounded retries "
            "(or at once when it can never succeed: not a CloudEvent, missing fields) and the consumer goes on.",
            "messages": {"DeadLetter": _ref("#/components/messages/DeadLetter")},
        }
        self.operations[f"deadLetter.{consumption.durable}"] = {
            "action": "send",
            "channel": _ref(f"#/channels/{channel}"),
            "summary": f"{consumption.durable} gives up on a message",
            "messages": [_ref(f"#/channels/{channel}/messages/DeadLetter")],
        }

    def document(self) -> dict[str, Any]:
        contract = self.contract
        for aggregate in contract.aggregates:
            for model in aggregate.events:
                self.published(aggregate, model)
        for consumption in contract.consumes:
            for event in consumption.events:
                self.consumed(consumption, event)
            self.dead_letters(consumption)
        document: dict[str, Any] = {
            "asyncapi": ASYNCAPI_VERSION,
            "id": f"urn:jinlin:{contract.service}",
            "info": {"title": contract.title, "version": contract.version, "description": contract.description},
            "defaultContentType": CONTENT_TYPE,
        }
        if contract.servers:
            document["servers"] = contract.servers
        document |= {
            "channels": self.channels,
            "operations": self.operations,
            "components": {
                "schemas": self.schemas,
                "messages": self.messages,
                "correlationIds": {
                    "caseid": {
                        "description": "The case the event belongs to, in every service.",
                        "location": "$message.payload#/caseid",
                    }
                },
            },
        }
        return document


def asyncapi_document(contract: ServiceContract) -> dict[str, Any]:
    """The service's AsyncAPI 3.0 document, built from its contract. Deterministic: same code, same bytes."""
    return _Builder(contract).document()


def undeclared_parameters(document: dict[str, Any]) -> list[str]:
    """Channels whose address names a ``{parameter}`` the channel does not declare (or declares one it lacks).

    AsyncAPI 3 requires the declaration; its JSON Schema cannot check it, so the tests do.
    """
    wrong = []
    for name, channel in document.get("channels", {}).items():
        named = set(address_parameters(channel.get("address") or ""))
        declared = set(channel.get("parameters", {}))
        if named != declared:
            wrong.append(f"{name}: address has {sorted(named)}, parameters {sorted(declared)}")
    return wrong


def dangling_references(document: Any) -> list[str]:
    """Local ``$ref`` pointers (``#/...``) of the document that point at nothing."""
    dangling: list[str] = []

    def resolves(pointer: str) -> bool:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/") and not resolves(reference):
                dangling.append(reference)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return dangling
