"""A service's contract documents: valid AsyncAPI 3.0, schemas that fit the real messages, and drift detection."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import BaseModel, ConfigDict

from jinlin.contracts import (
    Aggregate,
    ConsumedEvent,
    Consumption,
    ServiceContract,
    asyncapi_document,
    dangling_references,
    draft_7_violations,
    drift,
    render,
    undeclared_parameters,
    write,
)
from jinlin.contracts.schemas import envelope_file_schema
from jinlin.events import DomainEvent, EventRegistry
from jinlin.store import CommandContext, EventStore, Stream, create_engines

ASYNCAPI_SCHEMA = json.loads((Path(__file__).parent / "asyncapi-3.0.0.schema.json").read_text())

registry = EventRegistry("testing")


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Tag(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    colour: Colour
    label: str


@registry.register
class ThingPainted(DomainEvent):
    """A thing got a new colour.

    Longer explanation of what this means.
    """

    subject_token: ClassVar[str] = "painted"

    thing_id: str
    tags: tuple[Tag, ...]


@registry.register
class ThingForgotten(DomainEvent):
    owner_ref: str


class OrderPlacedData(BaseModel):
    model_config = ConfigDict(extra="allow")

    order_id: str


def contract(*, events: list[type[DomainEvent]] | None = None, address: str | None = None) -> ServiceContract:
    return ServiceContract(
        service="testing",
        title="testing events",
        version="1.2.3",
        description="A contract for the tests.",
        registry=registry,
        aggregates=[
            Aggregate("thing", "thing_id", "The thing's id.", events if events is not None else [ThingPainted]),
            Aggregate("owner", "owner_ref", "The owner.", [ThingForgotten]),
        ],
        consumes=[
            Consumption(
                durable="testing-orders",
                stream="SHOP",
                filter_subjects=("jinlin.shop.>",),
                events=[
                    ConsumedEvent(
                        event_type="jinlin.shop.OrderPlaced.v2",
                        address=address or "jinlin.shop.order.{order_id}.placed",
                        parameters={"order_id": "The order."},
                        data_model=OrderPlacedData,
                        summary="An order was placed.",
                    )
                ],
            )
        ],
        servers={"local": {"host": "127.0.0.1:14222", "protocol": "nats"}},
    )


def asyncapi_errors(document: dict[str, Any]) -> list[str]:
    return [
        f"{list(error.absolute_path)}: {error.message}"
        for error in Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(document)
    ]


def test_the_document_is_valid_asyncapi_3_and_self_contained() -> None:
    document = asyncapi_document(contract())
    assert asyncapi_errors(document) == []
    assert undeclared_parameters(document) == []
    assert dangling_references(document) == []
    assert draft_7_violations(document) == []


def test_the_official_schema_and_the_extra_checks_catch_broken_documents() -> None:
    document = asyncapi_document(contract())
    broken = json.loads(json.dumps(document))
    broken["operations"]["publishThingPainted"]["action"] = "publish"  # AsyncAPI 2 wording, invalid in 3
    assert asyncapi_errors(broken)
    broken = json.loads(json.dumps(document))
    del broken["channels"]["ThingPainted"]["parameters"]
    assert asyncapi_errors(broken) == []  # the JSON Schema cannot see it...
    assert undeclared_parameters(broken) == ["ThingPainted: address has ['thing_id'], parameters []"]  # ...this can
    del broken["components"]["schemas"]["Tag"]
    assert dangling_references(broken) == ["#/components/schemas/Tag"]


def test_published_events_get_their_subject_envelope_headers_and_correlation_id() -> None:
    document = asyncapi_document(contract())
    channel = document["channels"]["ThingPainted"]
    assert channel["address"] == "jinlin.testing.thing.{thing_id}.painted"
    assert channel["parameters"] == {"thing_id": {"description": "The thing's id."}}
    assert document["channels"]["ThingForgotten"]["address"] == "jinlin.testing.owner.{owner_ref}.thing_forgotten"
    message = document["components"]["messages"]["ThingPainted.v1"]
    assert message["contentType"] == "application/cloudevents+json"
    assert message["summary"] == "A thing got a new colour."
    assert message["payload"]["allOf"][1]["properties"]["type"] == {"const": "jinlin.testing.ThingPainted.v1"}
    assert message["correlationId"] == {"$ref": "#/components/correlationIds/caseid"}
    assert document["components"]["correlationIds"]["caseid"]["location"] == "$message.payload#/caseid"
    headers = document["components"]["schemas"]["EventHeaders"]
    assert set(headers["required"]) == {"Content-Type", "Nats-Msg-Id"}
    assert document["operations"]["publishThingPainted"]["action"] == "send"


def test_consumed_events_and_their_dead_letters_are_described() -> None:
    document = asyncapi_document(contract())
    channel = document["channels"]["shop.OrderPlaced"]
    assert channel["address"] == "jinlin.shop.order.{order_id}.placed"
    operation = document["operations"]["receiveOrderPlaced"]
    assert operation["action"] == "receive"
    assert "testing-orders" in operation["description"] and "SHOP" in operation["description"]
    assert document["channels"]["deadLetters.testing-orders"]["address"] == "jinlin.dlq.testing.testing-orders"
    assert document["operations"]["deadLetter.testing-orders"]["action"] == "send"


def test_a_contract_must_place_every_registered_event_and_name_every_parameter() -> None:
    with pytest.raises(ValueError, match="under no aggregate: ThingPainted"):
        contract(events=[])
    with pytest.raises(ValueError, match="parameters and address disagree"):
        contract(address="jinlin.shop.order.{id}.placed")


async def test_the_schemas_fit_the_messages_the_store_really_produces(tmp_path: Path) -> None:
    store = EventStore(create_engines(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"), registry)
    await store.create_schema()
    try:
        async with store.transaction(CommandContext("staff:someone", "request-1")) as tx:
            await tx.append(
                Stream("thing", "t-1"), 0, [ThingPainted(thing_id="t-1", tags=(Tag(colour=Colour.RED, label="x"),))]
            )
        (event,) = await store.read_log()
    finally:
        await store.close()
    message = json.loads(event.envelope.to_json_bytes())
    files = render(contract())
    envelope = Draft202012Validator(json.loads(files["cloudevent.schema.json"]))
    data = Draft202012Validator(json.loads(files["testing/ThingPainted.v1.schema.json"]))
    assert list(envelope.iter_errors(message)) == []
    assert list(data.iter_errors(message["data"])) == []
    # And they are not so loose that anything fits.
    assert list(envelope.iter_errors(message | {"hash": "not-a-hash"}))
    assert list(envelope.iter_errors(message | {"Not-An-Attribute": 1}))
    assert list(envelope.iter_errors({key: value for key, value in message.items() if key != "caseid"}))
    assert list(envelope.iter_errors(message | {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-01"})) == []
    assert list(data.iter_errors(message["data"] | {"tags": [{"colour": "green", "label": "x"}]}))


def test_envelope_schema_names_every_attribute_of_the_envelope() -> None:
    schema = envelope_file_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"caseid", "causationid", "actor", "streamversion", "sequence", "hash", "prevhash"} <= set(
        schema["required"]
    )


def test_drift_names_missing_changed_and_stale_files_and_write_repairs_them(tmp_path: Path) -> None:
    service_contract = contract()
    assert sorted(drift(service_contract, tmp_path))[0] == "cloudevent.schema.json: missing"
    written = write(service_contract, tmp_path)
    assert "testing/asyncapi.json" in written
    assert drift(service_contract, tmp_path) == []

    painted = tmp_path / "testing" / "ThingPainted.v1.schema.json"
    painted.write_text(painted.read_text().replace("A thing got a new colour.", "Edited by hand."))
    (tmp_path / "testing" / "ThingPainted.v0.schema.json").write_text("{}")
    problems = drift(service_contract, tmp_path)
    assert len(problems) == 2
    assert problems[0].startswith("testing/ThingPainted.v1.schema.json: differs")
    assert "Edited by hand." in problems[0] and "A thing got a new colour." in problems[0]
    assert problems[1].startswith("testing/ThingPainted.v0.schema.json: no longer generated")

    assert set(write(service_contract, tmp_path)) == {
        "testing/ThingPainted.v1.schema.json",
        "testing/ThingPainted.v0.schema.json",
    }
    assert drift(service_contract, tmp_path) == []
    assert not (tmp_path / "testing" / "ThingPainted.v0.schema.json").exists()


def test_rendering_is_deterministic() -> None:
    assert render(contract()) == render(contract())
