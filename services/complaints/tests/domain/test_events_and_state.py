"""The events as a contract (registry, subjects, JSON) and the state as their fold."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from complaints.domain import (
    AGGREGATE,
    Assignee,
    AssigneeKind,
    CallBackOutcome,
    ComplaintAcknowledged,
    ComplaintEvent,
    ComplaintFiled,
    HistoryError,
    MediationParty,
    NoteAdded,
    NoteVisibility,
    Open311Status,
    PartyRole,
    Status,
    acknowledge,
    add_note,
    apply,
    approve_extension,
    assign,
    escalate_to_mediation,
    link_to_case,
    mark_duplicate,
    mark_overdue,
    open311_status,
    record_call_back,
    record_information,
    record_mediation_agreement,
    refuse_extension,
    registry,
    replay,
    request_extension,
    request_information,
    resolve,
    return_from_mediation,
    withdraw,
)
from jinlin.events import DomainEvent

HANDLER = Assignee(kind=AssigneeKind.HANDLER, id="staff-li", name="李工")
TEAM = Assignee(kind=AssigneeKind.TEAM, id="station-jinyuan", name="金园华庭党群服务站")
PARTIES = (
    MediationParty(
        role=PartyRole.RESIDENT,
        person_ref="p-1",
        person_name_enc="pd1:bmFtZWNpcGhlcnRleHQtc2VhbGVkLWZvci1wZXJzb24tcC0x",
    ),
)


def _every_event_type(desk: Callable[..., Any]) -> list[ComplaintEvent]:
    """One history in which every registered event type occurs."""
    first = desk()
    first.do(acknowledge)
    first.do(assign, assignee=HANDLER)
    first.do(assign, assignee=TEAM, reason="转服务站")
    first.do(add_note, text="已电话联系", visibility=NoteVisibility.RESIDENT)
    first.later(hours=1).do(request_information, question="具体楼层？")
    first.later(hours=5).do(record_information, answer="6楼")
    first.do(request_extension, reason="需采购", requested_due_at=first.now + timedelta(days=20))
    first.do(refuse_extension, reason="可本地采购")
    first.do(request_extension, reason="需采购", requested_due_at=first.now + timedelta(days=21))
    first.do(approve_extension)
    first.later(days=22).do(mark_overdue)
    first.do(resolve, resolution_note="已修复")
    first.do(record_call_back, outcome=CallBackOutcome.NOT_FIXED, satisfaction=2)
    first.do(link_to_case, case_id="case-jinyuan-power")
    first.do(escalate_to_mediation, reason="需协商", parties=PARTIES)
    first.do(return_from_mediation, reason="未达成协议")
    first.do(escalate_to_mediation, reason="再次协商", parties=PARTIES)
    first.do(record_mediation_agreement, agreement_id="agr-1")
    first.do(record_call_back, outcome=CallBackOutcome.FIXED, satisfaction=5)
    second = desk(complaint_id="c-2")
    second.do(withdraw, reason="已解决")
    third = desk(complaint_id="c-3")
    third.do(mark_duplicate, duplicate_of="c-1", duplicate_of_case_id="case-jinyuan-power")
    return first.events + second.events + third.events


def _roundtrip(event: ComplaintEvent) -> DomainEvent:
    """As the store does it: JSON data under its CloudEvents type, decoded through the registry."""
    return registry.decode(registry.type_of(event), json.loads(event.model_dump_json()))


def test_every_event_type_is_registered_and_occurs_in_a_history(desk: Callable[..., Any]) -> None:
    seen = {type(event) for event in _every_event_type(desk)}
    assert seen == set(complaint_models())
    assert registry.service == "complaints"
    assert AGGREGATE == "complaint"


# The last token of each event's NATS subject: a published contract, so a change here must be deliberate.
SUBJECT_TOKENS = {
    "ComplaintFiled": "filed",
    "ComplaintAcknowledged": "acknowledged",
    "ComplaintAssigned": "assigned",
    "ComplaintReassigned": "reassigned",
    "NoteAdded": "note_added",
    "InformationRequested": "information_requested",
    "InformationReceived": "information_received",
    "ExtensionRequested": "extension_requested",
    "ExtensionApproved": "extension_approved",
    "ExtensionRefused": "extension_refused",
    "ComplaintResolved": "resolved",
    "CallBackRecorded": "called_back",
    "ComplaintClosed": "closed",
    "ComplaintReopened": "reopened",
    "ComplaintWithdrawn": "withdrawn",
    "ComplaintMarkedOverdue": "marked_overdue",
    "ComplaintMarkedDuplicate": "marked_duplicate",
    "ComplaintLinkedToCase": "linked_to_case",
    "ComplaintEscalatedToMediation": "escalated_to_mediation",
    "ComplaintResolvedByAgreement": "resolved_by_agreement",
    "ComplaintReturnedFromMediation": "returned_from_mediation",
    "PersonalDataErased": "erased",
}


def complaint_models() -> list[type[ComplaintEvent]]:
    """The complaint aggregate's events (the registry also holds the person aggregate's erasure event)."""
    return [model for model in registry.models() if issubclass(model, ComplaintEvent)]


def test_the_subject_tokens_are_the_published_ones() -> None:
    assert {model.event_name(): model.token() for model in registry.models()} == SUBJECT_TOKENS
    for model in registry.models():
        assert registry.type_of(model) == f"jinlin.complaints.{model.event_name()}.v1"


def test_events_survive_the_store_unchanged(desk: Callable[..., Any]) -> None:
    for event in _every_event_type(desk):
        assert _roundtrip(event) == event


def test_replaying_decoded_events_gives_the_same_state(desk: Callable[..., Any]) -> None:
    d = desk()
    d.do(acknowledge)
    d.do(assign, assignee=HANDLER)
    d.later(hours=3).do(request_information, question="？")
    d.later(days=2).do(record_information, answer="好")
    d.do(resolve, resolution_note="已修复")
    assert replay(_roundtrip(event) for event in d.events) == d.state


def test_every_event_has_a_json_schema_with_utc_datetimes() -> None:
    for model in complaint_models():
        schema = model.model_json_schema()
        assert schema["properties"]["occurred_at"]["format"] == "date-time"
        assert {"complaint_id", "occurred_at"} <= set(schema["required"])


def test_the_version_counts_the_events(desk: Callable[..., Any]) -> None:
    d = desk()
    d.do(acknowledge)
    d.do(add_note, text="a", visibility=NoteVisibility.INTERNAL)
    assert d.state.version == len(d.events) == 3


def test_a_history_starts_with_the_filing_and_has_only_one(desk: Callable[..., Any]) -> None:
    d = desk()
    filed, acknowledged = d.events[0], d.do(acknowledge)[0]
    with pytest.raises(HistoryError, match="starts with ComplaintFiled"):
        replay([acknowledged])
    with pytest.raises(HistoryError, match="already filed"):
        replay([filed, filed])
    with pytest.raises(HistoryError, match="cannot be empty"):
        replay([])


def test_another_complaints_event_does_not_fold_in(desk: Callable[..., Any]) -> None:
    d = desk()
    stranger = ComplaintAcknowledged(complaint_id="c-999", occurred_at=d.now)
    with pytest.raises(HistoryError, match="does not belong"):
        apply(d.state, stranger)


def test_a_deadline_out_of_sequence_is_a_damaged_history(desk: Callable[..., Any]) -> None:
    d = desk()
    d.do(acknowledge)
    d.do(request_information, question="？")
    [received] = d.do(record_information, answer="好")
    with pytest.raises(HistoryError, match="follows deadline"):
        apply(d.state, received)


def test_events_are_immutable(desk: Callable[..., Any]) -> None:
    [note] = desk().do(add_note, text="a", visibility=NoteVisibility.INTERNAL)
    assert isinstance(note, NoteAdded)
    with pytest.raises(Exception, match="frozen"):
        note.text = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.FILED, Open311Status.OPEN),
        (Status.ACKNOWLEDGED, Open311Status.OPEN),
        (Status.ASSIGNED, Open311Status.OPEN),
        (Status.AWAITING_INFORMATION, Open311Status.OPEN),
        (Status.ESCALATED, Open311Status.OPEN),
        (Status.RESOLVED, Open311Status.CLOSED),
        (Status.RESOLVED_BY_AGREEMENT, Open311Status.CLOSED),
        (Status.CLOSED, Open311Status.CLOSED),
        (Status.WITHDRAWN, Open311Status.CLOSED),
        (Status.DUPLICATE, Open311Status.CLOSED),
    ],
)
def test_statuses_map_to_open311(status: Status, expected: Open311Status) -> None:
    assert open311_status(status) is expected


def test_the_filing_event_is_the_only_one_with_reporter_fields() -> None:
    for model in registry.models():
        reporter_fields = {name for name in model.model_fields if name.startswith("reporter")}
        assert reporter_fields == (
            {"reporter_ref", "reporter_name_enc", "reporter_phone_enc"} if model is ComplaintFiled else set()
        )
