"""JSON Schemas of the wire format: the CloudEvents envelope every message travels in, and each event's ``data``.

The schemas keep to the keywords JSON Schema draft 7 and 2020-12 share (AsyncAPI's schema format is a draft 7
superset), so one schema serves both the standalone files and the AsyncAPI document; only where ``$ref`` points
differs.
"""

import inspect
from typing import Any, Final

from pydantic import BaseModel

from jinlin.events import DomainEvent
from jinlin.events.envelope import CONTENT_TYPE, CloudEvent

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
ID_BASE: Final = "https://jinlin.example/events/"
ENVELOPE_FILE: Final = "cloudevent.schema.json"

_IDENTIFIER: Final = r"^[a-z0-9][a-z0-9_-]{0,99}$"
_SHA256: Final = r"^[0-9a-f]{64}$"

# Keywords of JSON Schema 2020-12 that draft 7 (and so AsyncAPI) does not know; a generated schema must not use them.
NOT_IN_DRAFT_7: Final = frozenset(
    {"$defs", "prefixItems", "dependentRequired", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems"}
)


def describe(model: type[Any]) -> tuple[str, str]:
    """A class's docstring as (summary: its first line, description: all of it)."""
    doc = inspect.getdoc(model) or ""
    if model.__doc__ is None or doc == inspect.getdoc(DomainEvent) or doc == inspect.getdoc(BaseModel):
        doc = ""  # inherited from a base class: says nothing of this one
    return (doc.split("\n\n")[0].replace("\n", " ").strip(), doc.strip())


def envelope_schema() -> dict[str, Any]:
    """The CloudEvents 1.0 structured-mode envelope of every jinlin message, with jinlin's extension attributes."""
    properties: dict[str, Any] = {
        "specversion": {"const": "1.0", "description": "CloudEvents version."},
        "id": {
            "type": "string",
            "minLength": 1,
            "description": "Unique id of the event; also sent as the Nats-Msg-Id header. Consumers deduplicate on it.",
        },
        "source": {
            "type": "string",
            "pattern": r"^/jinlin/[a-z][a-z0-9-]*$",
            "description": "The publishing service: /jinlin/<service>.",
        },
        "type": {
            "type": "string",
            "pattern": r"^jinlin\.[a-z][a-z0-9-]*\.[A-Z][A-Za-z0-9]*\.v[1-9][0-9]*$",
            "description": "jinlin.<service>.<EventName>.v<N>; the version changes when the shape of data changes.",
        },
        "subject": {
            "type": "string",
            "pattern": _IDENTIFIER,
            "description": "The id of the aggregate the event happened to (also a token of the NATS subject).",
        },
        "time": {
            "type": "string",
            "format": "date-time",
            "description": "When the event was recorded (RFC 3339, with offset).",
        },
        "datacontenttype": {"const": "application/json", "description": "data is a JSON object."},
        "data": {"type": "object", "description": "The event itself: see the schema of its type."},
        "caseid": {
            "type": "string",
            "minLength": 1,
            "description": "The cross-service case (correlation) id. Every event has one: the case its aggregate "
            "belongs to, or the aggregate's own id while it belongs to none.",
        },
        "causationid": {
            "type": "string",
            "minLength": 1,
            "description": "The id of what caused the event: the HTTP command's request id, or the id of the event "
            "(of whichever service) that a consumer acted on.",
        },
        "actor": {
            "type": "string",
            "minLength": 1,
            "description": "Who: staff:<id> for a person, system:<job> for the service itself, "
            "consumer:<name> for a reaction to another event.",
        },
        "streamversion": {
            "type": "integer",
            "minimum": 1,
            "description": "Position of the event in its aggregate's stream (1 for the first).",
        },
        "sequence": {
            "type": "integer",
            "minimum": 1,
            "description": "Position in the service's log; equal to the JetStream stream sequence of the message.",
        },
        "hash": {
            "type": "string",
            "pattern": _SHA256,
            "description": "SHA-256 (hex) of the RFC 8785 canonical JSON of every other attribute, prevhash included.",
        },
        "prevhash": {
            "type": "string",
            "pattern": _SHA256,
            "description": "hash of the event at sequence - 1; 64 zeros for the first event of the log.",
        },
    }
    missing = set(CloudEvent.model_fields) ^ set(properties)
    if missing:  # the envelope model changed: this schema must say so too
        raise RuntimeError(f"envelope schema and CloudEvent disagree on {sorted(missing)}")
    return {
        "title": "jinlin CloudEvent",
        "description": "Every message of a jinlin stream: a CloudEvents 1.0 event in structured JSON mode (header "
        f"Content-Type: {CONTENT_TYPE}), with jinlin's extension attributes forming a hash chain over the log. "
        "A newer producer may add further extension attributes: keep them, they are covered by the hash.",
        "type": "object",
        # A newer producer may add extension attributes; consumers keep them (the hash covers them). CloudEvents
        # names attributes with lower-case letters and digits only.
        "propertyNames": {"pattern": "^[a-z0-9]{1,20}$"},
        "required": list(properties),
        "properties": properties,
    }


def model_schema(model: type[BaseModel], ref_prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's JSON Schema with its definitions split off: (schema, definitions by name).

    References point at ``<ref_prefix><Name>`` (``#/$defs/`` in a file, ``#/components/schemas/`` in AsyncAPI).
    """
    schema = model.model_json_schema(ref_template=ref_prefix + "{model}")
    definitions = schema.pop("$defs", {})
    return schema, definitions


def event_file_schema(type_: str, model: type[BaseModel], address: str | None) -> dict[str, Any]:
    """The standalone JSON Schema of an event's ``data`` (one file per event type and version)."""
    schema, definitions = model_schema(model, "#/$defs/")
    summary, description = describe(model)
    head: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{ID_BASE}{type_.split('.')[1]}/{type_.split('.', 2)[2]}.schema.json",
        "title": type_,
    }
    if description or summary:
        head["description"] = description or summary
    if address is not None:
        head["x-jinlin-subject"] = address
    body = {key: value for key, value in schema.items() if key not in ("title", "description")}
    return head | body | ({"$defs": definitions} if definitions else {})


def envelope_file_schema() -> dict[str, Any]:
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": ID_BASE + ENVELOPE_FILE} | envelope_schema()


def draft_7_violations(schema: Any, path: str = "#") -> list[str]:
    """Where ``schema`` uses keywords AsyncAPI's draft 7 schema format does not know. An AsyncAPI document must have
    none; the standalone files keep their definitions under ``$defs``, which is fine there."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in NOT_IN_DRAFT_7:
                found.append(f"{path}/{key}")
            found += draft_7_violations(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            found += draft_7_violations(item, f"{path}/{index}")
    return found
