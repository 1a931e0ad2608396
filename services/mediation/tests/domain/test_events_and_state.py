"""The events as a contract (registry, subjects, JSON, the fields the complaints desk reads) and the state as their
fold (which refuses histories no case can have)."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from jinlin.events import DomainEvent
from mediation.domain import (
    AGGREGATE,
    AgreementSigned,
    AgreementTookEffect,
    CaseAccepted,
    CaseEndedWithoutAgreement,
    CaseEvent,
    CaseOpened,
    HistoryError,
    JudicialOutcome,
    Mediator,
    ObligationFulfilled,
    ObligationMarkedOverdue,
    PartyDetails,
    PartyKind,
    Route,
    Rsvp,
    accept,
    add_party,
    amend_agreement,
    apply,
    apply_for_judicial_confirmation,
    assign_mediator,
    cancel_meeting,
    close,
    decline,
    discard_agreement,
    end_without_agreement,
    extend_deadline,
    extend_obligation,
    fulfil_by_external_event,
    fulfil_obligation,
    grant_party_access,
    inform_of_rights,
    invite_parties,
    mark_obligation_overdue,
    open_by_referral,
    post_agreement,
    record_attendance,
    record_follow_up_visit,
    record_judicial_decision,
    record_minutes,
    record_rsvp,
    registry,
    remove_party,
    replay,
    reschedule_meeting,
    revoke_party_access,
    schedule_meeting,
    sign_agreement,
    waive_obligation,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
Desk = Any


def _every_event_type(desk: Callable[..., Desk], terms_from: Callable[..., Any]) -> list[CaseEvent]:
    """Histories in which every registered event type occurs."""
    d = desk()
    d.do(assign_mediator, mediator=Mediator(id="staff-zhang", name="张调解员"))
    d.do(assign_mediator, mediator=Mediator(id="staff-liu", name="刘调解员"), reason="回避")
    d.do(inform_of_rights, party_id="party-1")
    d.do(grant_party_access, party_id="party-1", token_sha256="ab" * 32, expires_at=d.now + 90 * DAY)
    d.do(revoke_party_access, party_id="party-1", access_id="access-1", reason="链接丢失")
    d.do(add_party, party=PartyDetails(kind=PartyKind.COMMUNITY_COMMITTEE, organisation="金园社区居委会"))
    d.do(remove_party, party_id="party-5", reason="非争议方")
    d.do(accept)
    d.do(
        open_by_referral,
        case_id=d.state.case_id,
        complaint_ids=["c-3"],
        compound_id="jinyuan-huating",
        reason="同一问题",
        parties=[],
        escalation_event_id="evt-2",
    )
    d.do(extend_deadline, due_at=d.now + 40 * DAY, reason="双方同意")
    start = d.now + 2 * DAY
    d.do(schedule_meeting, place="服务站", starts_at=start, ends_at=start + HOUR, agenda=["欠费"])
    d.do(reschedule_meeting, meeting_id="meeting-1", starts_at=start + DAY, ends_at=start + DAY + HOUR, reason="改期")
    d.do(invite_parties, meeting_id="meeting-1", party_ids=["party-1", "party-2"])
    d.do(record_rsvp, meeting_id="meeting-1", party_id="party-1", rsvp=Rsvp.YES)
    d.do(schedule_meeting, place="服务站", starts_at=start, ends_at=start + HOUR, agenda=["欠费"])
    d.do(cancel_meeting, meeting_id="meeting-2", reason="重复")
    d.later(days=3).do(record_attendance, meeting_id="meeting-1", party_id="party-1", attended=True)
    d.do(record_minutes, meeting_id="meeting-1", minutes="同意先结清欠费")
    d.draft()
    text = {"party_ids": ["party-1", "party-2", "party-3"], "facts": "事实", "issues": ["欠费"]}
    d.do(amend_agreement, **text, terms=terms_from(d.now), reason="更正")
    d.do(discard_agreement, reason="重拟")
    d.draft()
    for party_id in ("party-1", "party-2", "party-3"):
        d.do(sign_agreement, party_id=party_id)
    d.do(post_agreement, place="公告栏")
    d.do(apply_for_judicial_confirmation, court="天长市人民法院")
    d.do(record_judicial_decision, outcome=JudicialOutcome.CONFIRMED)
    d.later(days=11).do(mark_obligation_overdue, term_id="t-arrears")
    d.do(extend_obligation, term_id="t-arrears", due_at=d.now + 5 * DAY, reason="归集中")
    d.do(
        fulfil_by_external_event,
        term_id="t-arrears",
        service="escrow",
        event_type="jinlin.escrow.ArrearsPaid.v1",
        event_id="e-1",
        data={"compound_id": "jinyuan-huating"},
    )
    d.do(waive_obligation, term_id="t-meters", reason="另行安排")
    d.do(record_follow_up_visit, performance="已履行", satisfaction=5)
    d.do(close)
    ended = desk(case_id="case-2")
    ended.do(accept)
    ended.do(end_without_agreement, reason="调解不成", routes_advised=[Route.LITIGATION])
    ended.do(
        open_by_referral,
        case_id="case-2",
        complaint_ids=["c-1"],
        compound_id="jinyuan-huating",
        reason="再议",
        parties=[],
        escalation_event_id="evt-9",
    )
    declined = desk(case_id="case-3")
    declined.do(decline, reason="不予受理", routes_advised=[Route.ARBITRATION])
    events: list[CaseEvent] = d.events + ended.events + declined.events
    return events


def _roundtrip(event: CaseEvent) -> DomainEvent:
    """As the store does it: JSON data under its CloudEvents type, decoded through the registry."""
    return registry.decode(registry.type_of(event), json.loads(event.model_dump_json()))


def test_every_event_type_is_registered_and_occurs_in_a_history(
    desk: Callable[..., Desk], terms_from: Callable[..., Any]
) -> None:
    seen = {type(event) for event in _every_event_type(desk, terms_from)}
    assert seen == set(registry.models())
    assert registry.service == "mediation"
    assert AGGREGATE == "case"


# The last token of each event's NATS subject: a published contract, so a change here must be deliberate.
SUBJECT_TOKENS = {
    "CaseOpened": "opened",
    "ComplaintsJoinedCase": "complaints_joined",
    "CaseReopened": "reopened",
    "CaseAccepted": "accepted",
    "CaseDeclined": "declined",
    "CaseDeadlineExtended": "deadline_extended",
    "MediatorAssigned": "mediator_assigned",
    "MediatorReassigned": "mediator_reassigned",
    "PartyAdded": "party_added",
    "PartyRemoved": "party_removed",
    "PartyInformedOfRights": "rights_informed",
    "PartyAccessGranted": "party_access_granted",
    "PartyAccessRevoked": "party_access_revoked",
    "MeetingScheduled": "meeting_scheduled",
    "MeetingRescheduled": "meeting_rescheduled",
    "MeetingCancelled": "meeting_cancelled",
    "PartiesInvited": "parties_invited",
    "RsvpRecorded": "rsvp_recorded",
    "AttendanceRecorded": "attendance_recorded",
    "MinutesRecorded": "minutes_recorded",
    "AgreementDrafted": "agreement_drafted",
    "AgreementAmended": "agreement_amended",
    "AgreementDiscarded": "agreement_discarded",
    "AgreementSigned": "agreement_signed",
    "AgreementTookEffect": "agreement_took_effect",
    "AgreementPosted": "agreement_posted",
    "JudicialConfirmationApplied": "judicial_confirmation_applied",
    "JudicialConfirmationDecided": "judicial_confirmation_decided",
    "ObligationFulfilled": "obligation_fulfilled",
    "ObligationMarkedOverdue": "obligation_overdue",
    "ObligationDueDateExtended": "obligation_extended",
    "ObligationWaived": "obligation_waived",
    "FollowUpVisitRecorded": "follow_up_recorded",
    "CaseClosed": "closed",
    "CaseEndedWithoutAgreement": "ended_without_agreement",
}


def test_the_subject_tokens_are_the_published_ones() -> None:
    assert {model.event_name(): model.token() for model in registry.models()} == SUBJECT_TOKENS
    for model in registry.models():
        assert registry.type_of(model) == f"jinlin.mediation.{model.event_name()}.v1"


def test_the_complaints_desk_reads_these_fields() -> None:
    # The contract the complaints service's consumer relies on: the names, and complaint ids on both events.
    assert registry.type_of(AgreementTookEffect) == "jinlin.mediation.AgreementTookEffect.v1"
    assert registry.type_of(CaseEndedWithoutAgreement) == "jinlin.mediation.CaseEndedWithoutAgreement.v1"
    assert {"case_id", "agreement_id", "complaint_ids", "occurred_at"} <= set(AgreementTookEffect.model_fields)
    assert {"case_id", "complaint_ids", "reason", "routes_advised"} <= set(CaseEndedWithoutAgreement.model_fields)


def test_events_survive_the_store_unchanged(desk: Callable[..., Desk], terms_from: Callable[..., Any]) -> None:
    for event in _every_event_type(desk, terms_from):
        assert _roundtrip(event) == event


def test_replaying_decoded_events_gives_the_same_state(agreed: Desk) -> None:
    agreed.do(fulfil_obligation, term_id="t-meters", evidence="验收单")
    assert replay(_roundtrip(event) for event in agreed.events) == agreed.state


def test_every_event_has_a_json_schema_with_utc_datetimes() -> None:
    for model in registry.models():
        schema = model.model_json_schema()
        assert schema["properties"]["occurred_at"]["format"] == "date-time"
        assert {"case_id", "occurred_at"} <= set(schema["required"])


def test_no_event_names_a_person_in_clear() -> None:
    # A person party is a reference and a sealed name; nothing else in any event is a person's name or phone.
    for model in registry.models():
        assert not {name for name in model.model_fields if "phone" in name or name.endswith("_name")}


def test_the_version_counts_the_events(agreed: Desk) -> None:
    assert agreed.state.version == len(agreed.events)


def test_a_history_starts_with_the_opening_and_has_only_one(desk: Callable[..., Desk]) -> None:
    d = desk()
    opened, [accepted] = d.events[0], d.do(accept)
    with pytest.raises(HistoryError, match="starts with CaseOpened"):
        replay([accepted])
    with pytest.raises(HistoryError, match="already opened"):
        replay([opened, opened])
    with pytest.raises(HistoryError, match="cannot be empty"):
        replay([])


def test_another_cases_event_does_not_fold_in(desk: Callable[..., Desk]) -> None:
    d = desk()
    stranger = CaseAccepted(case_id="case-999", occurred_at=d.now, due_at=d.now + 30 * DAY)
    with pytest.raises(HistoryError, match="does not belong"):
        apply(d.state, stranger)


def test_an_agreement_without_every_signature_cannot_have_taken_effect(drafted: Desk) -> None:
    forged = AgreementTookEffect(
        case_id=drafted.state.case_id,
        occurred_at=drafted.now,
        agreement_id="agreement-1",
        complaint_ids=("c-1", "c-2"),
        confirmation_window_ends_at=drafted.now + 30 * DAY,
    )
    with pytest.raises(HistoryError, match="without every signature"):
        apply(drafted.state, forged)


def test_a_signature_of_someone_not_named_is_a_damaged_history(drafted: Desk) -> None:
    forged = AgreementSigned(
        case_id=drafted.state.case_id,
        occurred_at=drafted.now,
        agreement_id="agreement-1",
        revision=1,
        party_id="party-4",
    )
    with pytest.raises(HistoryError, match="does not belong"):
        apply(drafted.state, forged)


def test_a_second_fulfilment_or_overdue_mark_is_a_damaged_history(agreed: Desk) -> None:
    [fulfilled] = agreed.do(fulfil_obligation, term_id="t-meters", evidence="验收单")
    with pytest.raises(HistoryError, match="settled twice"):
        apply(agreed.state, fulfilled)
    [marked] = agreed.later(days=11).do(mark_obligation_overdue, term_id="t-arrears")
    with pytest.raises(HistoryError, match="marked overdue twice"):
        apply(agreed.state, marked)


def test_an_access_out_of_turn_or_revoked_twice_is_a_damaged_history(desk: Callable[..., Desk]) -> None:
    d = desk()
    [granted] = d.do(grant_party_access, party_id="party-1", token_sha256="cd" * 32, expires_at=d.now + DAY)
    with pytest.raises(HistoryError, match="granted where access-2 was due"):
        apply(d.state, granted)
    [revoked] = d.do(revoke_party_access, party_id="party-1", access_id="access-1", reason="不再需要")
    with pytest.raises(HistoryError, match="revoked without being in force"):
        apply(d.state, revoked)


def test_events_are_immutable(desk: Callable[..., Desk]) -> None:
    [accepted] = desk().do(accept)
    with pytest.raises(Exception, match="frozen"):
        accepted.due_at = accepted.occurred_at


def test_an_opening_names_its_origin_consistently(desk: Callable[..., Desk]) -> None:
    opened = desk().events[0]
    assert isinstance(opened, CaseOpened)
    data = json.loads(opened.model_dump_json())
    breakages: list[dict[str, Any]] = [
        {"escalation_event_id": None},
        {"complaint_ids": []},
        {"referred_by": "法院"},
    ]
    for broken in breakages:
        with pytest.raises(ValueError, match="exactly for"):
            CaseOpened.model_validate({**data, **broken})


def test_a_fulfilment_shows_how(agreed: Desk) -> None:
    with pytest.raises(ValueError, match="needs evidence or the event"):
        ObligationFulfilled(case_id="c", occurred_at=agreed.now, term_id="t-1")
    with pytest.raises(ValueError, match="due_at"):
        ObligationMarkedOverdue(case_id="c", occurred_at=agreed.now, term_id="t-1", obligor="party-1", due_at="soon")
