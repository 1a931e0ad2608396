"""Event types, upcasting of stored old versions, canonical JSON and the hash chain (pure logic)."""

from typing import ClassVar

import pytest

from jinlin.events import (
    GENESIS_HASH,
    CloudEvent,
    DomainEvent,
    EventRegistry,
    UnknownEventType,
    event_hash,
    find_chain_break,
)
from jinlin.events.canonical import canonical_json

registry = EventRegistry("complaints")


@registry.register
class ComplaintFiled(DomainEvent):
    """Version 3: v1 had ``text``; v2 renamed it ``description``; v3 added ``priority``."""

    event_version: ClassVar[int] = 3
    subject_token: ClassVar[str] = "filed"
    description: str
    priority: str


@registry.upcaster("ComplaintFiled", 1)
def _v1_to_v2(data: dict[str, object]) -> dict[str, object]:
    return {"description": data["text"]}


@registry.upcaster("ComplaintFiled", 2)
def _v2_to_v3(data: dict[str, object]) -> dict[str, object]:
    return {**data, "priority": "normal"}


def test_types_name_service_event_and_version() -> None:
    assert registry.type_of(ComplaintFiled) == "jinlin.complaints.ComplaintFiled.v3"
    assert ComplaintFiled.token() == "filed"
    assert registry.model_for("jinlin.complaints.ComplaintFiled.v1") is ComplaintFiled


def test_old_versions_are_upcast_step_by_step_on_read() -> None:
    assert registry.decode("jinlin.complaints.ComplaintFiled.v1", {"text": "楼道"}) == ComplaintFiled(
        description="楼道", priority="normal"
    )
    assert registry.decode("jinlin.complaints.ComplaintFiled.v2", {"description": "x"}).priority == "normal"


@pytest.mark.parametrize(
    "type_",
    [
        "jinlin.complaints.ComplaintFiled.v4",  # newer than the code
        "jinlin.complaints.Nope.v1",
        "jinlin.mediation.ComplaintFiled.v1",  # another service's
        "complaints.ComplaintFiled",
        "jinlin.complaints.ComplaintFiled.vX",
    ],
)
def test_unknown_types_are_refused(type_: str) -> None:
    with pytest.raises(UnknownEventType):
        registry.decode(type_, {"description": "x", "priority": "p"})


def test_a_missing_upcaster_is_refused() -> None:
    other = EventRegistry("complaints")

    @other.register
    class Later(DomainEvent):
        event_version: ClassVar[int] = 2
        n: int

    with pytest.raises(UnknownEventType, match="no upcaster"):
        other.decode("jinlin.complaints.Later.v1", {"n": 1})


def test_canonical_json_ignores_key_order_and_keeps_chinese() -> None:
    assert canonical_json({"b": 1, "a": "楼道"}) == canonical_json({"a": "楼道", "b": 1})
    assert canonical_json({"a": "楼道"}) == '{"a":"楼道"}'.encode()


def _chain(count: int) -> list[CloudEvent]:
    events: list[CloudEvent] = []
    prev = GENESIS_HASH
    for n in range(1, count + 1):
        fields = {
            "specversion": "1.0",
            "id": f"e{n}",
            "source": "/jinlin/complaints",
            "type": "jinlin.complaints.ComplaintFiled.v3",
            "subject": "c1",
            "time": "2026-11-29T02:00:00+00:00",
            "datacontenttype": "application/json",
            "data": {"n": n},
            "caseid": "c1",
            "causationid": "cmd",
            "actor": "staff:a",
            "streamversion": n,
            "sequence": n,
            "prevhash": prev,
        }
        prev = event_hash(fields)
        events.append(CloudEvent(**fields, hash=prev))
    return events


def test_an_intact_chain_verifies_and_each_kind_of_break_is_named() -> None:
    chain = _chain(5)
    assert find_chain_break(chain) is None
    altered = [*chain[:2], chain[2].model_copy(update={"data": {"n": 99}}), *chain[3:]]
    assert find_chain_break(altered).sequence == 3  # type: ignore[union-attr]
    assert find_chain_break([*chain[:2], *chain[3:]]).sequence == 3  # type: ignore[union-attr]
    swapped = [chain[0], chain[2], chain[1], *chain[3:]]
    assert find_chain_break(swapped).sequence == 2  # type: ignore[union-attr]


def test_the_envelope_round_trips_through_json() -> None:
    event = _chain(1)[0]
    assert CloudEvent.from_json_bytes(event.to_json_bytes()) == event


def test_an_unknown_extension_attribute_is_kept_and_hashed() -> None:
    event = _chain(1)[0]
    raw = event.model_dump() | {"tenant": "tianchang"}
    raw["hash"] = event_hash({k: v for k, v in raw.items() if k != "hash"})
    newer = CloudEvent.model_validate(raw)
    assert newer.model_dump()["tenant"] == "tianchang"
    assert find_chain_break([newer]) is None
    tampered = CloudEvent.model_validate(raw | {"tenant": "elsewhere"})
    assert find_chain_break([tampered]) is not None
