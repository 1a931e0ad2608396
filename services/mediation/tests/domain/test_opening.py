"""How a case starts: referral from the complaints desk (idempotent), direct application, acceptance, declining."""

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from mediation.domain import (
    CaseAccepted,
    CaseDeadlineExtended,
    CaseDeclined,
    CaseEndedWithoutAgreement,
    CaseOpened,
    CaseReopened,
    CaseStatus,
    ComplaintsJoinedCase,
    InvalidTransition,
    Origin,
    PartyDetails,
    PartyKind,
    Route,
    ValidationFailed,
    accept,
    apply_for_mediation,
    close,
    decline,
    end_without_agreement,
    extend_deadline,
    fulfil_obligation,
    open_by_referral,
    replay,
    sign_agreement,
)

DAY = timedelta(days=1)
Desk = Any


# --- referral ------------------------------------------------------------------------------------------------------


def test_a_referral_opens_the_case_under_the_complaints_case_id(referral_arguments: Callable[..., Any]) -> None:
    [opened] = open_by_referral(None, **referral_arguments())
    assert isinstance(opened, CaseOpened)
    state = replay([opened])
    assert state.case_id == "case-jinyuan-power"
    assert state.status is CaseStatus.OPENED
    assert state.origin is Origin.COMPLAINT_REFERRAL
    assert state.complaint_ids == ("c-1", "c-2")
    assert state.compound_id == "jinyuan-huating"
    assert state.escalation_event_ids == {"evt-escalated-1"}


def test_the_parties_are_numbered_in_the_order_the_desk_named_them(
    referral_arguments: Callable[..., Any], parties: tuple[PartyDetails, ...]
) -> None:
    state = replay(open_by_referral(None, **referral_arguments()))
    assert list(state.parties) == ["party-1", "party-2", "party-3", "party-4"]
    assert [record.party.details() for record in state.parties.values()] == list(parties)


def test_the_same_escalation_delivered_again_opens_nothing(desk: Callable[..., Desk]) -> None:
    d = desk()
    assert open_by_referral(d.state, **_again(d)) == []


def test_another_complaint_of_the_same_group_opens_nothing(desk: Callable[..., Desk]) -> None:
    # Each complaint of an escalated group records its own event, with the same case id and complaint ids.
    d = desk()
    assert open_by_referral(d.state, **_again(d, escalation_event_id="evt-escalated-2")) == []


def test_a_later_escalation_brings_the_complaints_the_case_did_not_have(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.do(accept)
    [joined] = d.do(open_by_referral, **_again(d, escalation_event_id="evt-3", complaint_ids=["c-2", "c-3"]))
    assert isinstance(joined, ComplaintsJoinedCase)
    assert joined.complaint_ids == ("c-3",)
    assert d.state.complaint_ids == ("c-1", "c-2", "c-3")
    assert d.state.status is CaseStatus.ACCEPTED
    assert open_by_referral(d.state, **_again(d, escalation_event_id="evt-3", complaint_ids=["c-3"])) == []


def test_a_new_escalation_reopens_a_case_that_ended_without_agreement(drafted: Desk) -> None:
    d = drafted
    d.do(sign_agreement, party_id="party-1")
    d.later(days=30).do(end_without_agreement, reason="物业公司拒不签字", routes_advised=[Route.LITIGATION])
    [reopened] = d.later(days=3).do(open_by_referral, **_again(d, escalation_event_id="evt-9", reason="再次协商"))
    assert isinstance(reopened, CaseReopened)
    s = d.state
    assert (s.status, s.rounds, s.reason) == (CaseStatus.OPENED, 2, "再次协商")
    assert (s.accepted_at, s.due_at, s.ended_at, s.end_reason, s.routes_advised) == (None, None, None, None, ())
    assert s.escalation_event_ids == {"evt-escalated-1", "evt-9"}
    # The unsigned draft of the round that failed lapsed with it; the new round drafts anew, with a fresh month.
    assert s.agreement is None
    d.do(accept)
    assert d.state.due_at == d.now + 30 * DAY
    d.draft()
    assert d.state.agreement is not None
    assert (d.state.agreement.agreement_id, d.state.agreement.signatures) == ("agreement-2", {})


def test_the_escalation_that_reopened_a_case_does_not_reopen_it_again(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.do(decline, reason="材料不全", routes_advised=[Route.ADMINISTRATIVE_COMPLAINT])
    d.do(open_by_referral, **_again(d, escalation_event_id="evt-9"))
    d.do(decline, reason="仍不属于调解范围", routes_advised=[Route.LITIGATION])
    assert open_by_referral(d.state, **_again(d, escalation_event_id="evt-9")) == []
    assert d.state.status is CaseStatus.DECLINED


def test_a_new_escalation_reopens_a_declined_case(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.do(decline, reason="材料不全", routes_advised=[Route.ADMINISTRATIVE_COMPLAINT])
    d.later(days=2).do(open_by_referral, **_again(d, escalation_event_id="evt-9"))
    assert d.state.status is CaseStatus.OPENED
    assert d.state.decline_reason is None


def test_a_case_whose_agreement_took_effect_takes_in_no_new_complaints(agreed: Desk) -> None:
    more = {"escalation_event_id": "evt-9", "complaint_ids": ["c-1", "c-3"]}
    with pytest.raises(InvalidTransition, match="agreement already took effect"):
        open_by_referral(agreed.state, **_again(agreed, **more))
    for term_id in ("t-arrears", "t-meters"):
        agreed.do(fulfil_obligation, term_id=term_id, evidence="证明")
    agreed.do(close)
    with pytest.raises(InvalidTransition, match="agreement already took effect"):
        open_by_referral(agreed.state, **_again(agreed, **more))
    # ... while a redelivery of what it already took in is still harmless.
    assert open_by_referral(agreed.state, **_again(agreed)) == []


def test_another_complaint_of_the_group_changes_nothing_once_the_agreement_took_effect(agreed: Desk) -> None:
    # The group's other events may be delivered late (a consumer that was down, a stream read again from its start):
    # they name only complaints the agreement already answers, so there is nothing to refuse and nothing to record.
    sibling = _again(agreed, escalation_event_id="evt-escalated-2", complaint_ids=["c-2", "c-1", "c-2"])
    assert open_by_referral(agreed.state, **sibling) == []
    for term_id in ("t-arrears", "t-meters"):
        agreed.do(fulfil_obligation, term_id=term_id, evidence="证明")
    agreed.do(close)
    assert open_by_referral(agreed.state, **sibling) == []
    assert agreed.state.status is CaseStatus.CLOSED


def _in_every_status(desk: Callable[..., Desk]) -> dict[CaseStatus, Desk]:
    """One case in each status, all referred by the same escalation (evt-escalated-1, complaints c-1 and c-2)."""
    cases = {status: desk() for status in CaseStatus}
    for status in (CaseStatus.ACCEPTED, CaseStatus.AGREEMENT_IN_EFFECT, CaseStatus.CLOSED):
        cases[status].do(accept)
    for status in (CaseStatus.AGREEMENT_IN_EFFECT, CaseStatus.CLOSED):
        d = cases[status].later(days=1)
        d.draft()
        for party_id in ("party-1", "party-2", "party-3"):
            d.do(sign_agreement, party_id=party_id)
    for term_id in ("t-arrears", "t-meters"):
        cases[CaseStatus.CLOSED].do(fulfil_obligation, term_id=term_id, evidence="证明")
    cases[CaseStatus.CLOSED].do(close)
    cases[CaseStatus.DECLINED].later(days=1).do(decline, reason="材料不全", routes_advised=[Route.LITIGATION])
    ended = cases[CaseStatus.ENDED_WITHOUT_AGREEMENT].later(days=1)
    ended.do(accept)
    ended.later(days=30).do(end_without_agreement, reason="调解不成", routes_advised=[Route.LITIGATION])
    assert {status: d.state.status for status, d in cases.items()} == {status: status for status in CaseStatus}
    return cases


def test_a_redelivered_escalation_is_a_no_op_in_every_status(desk: Callable[..., Desk], t0: datetime) -> None:
    for status, d in _in_every_status(desk).items():
        d.later(days=2)
        assert open_by_referral(d.state, **_again(d)) == [], status
        assert open_by_referral(d.state, **_again(d, escalated_at=t0)) == [], status
        # Another complaint's event of the same escalation, made at the same time, however late it arrives.
        sibling = _again(d, escalation_event_id="evt-escalated-2", escalated_at=t0)
        assert open_by_referral(d.state, **sibling) == [], status


def test_an_escalation_made_after_the_round_ended_still_reopens_it(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.later(days=1).do(decline, reason="材料不全", routes_advised=[Route.ADMINISTRATIVE_COMPLAINT])
    ended_at = d.now
    late_sibling = _again(d.later(days=5), escalation_event_id="evt-escalated-2", escalated_at=ended_at)
    assert open_by_referral(d.state, **late_sibling) == []
    # The desk took its complaints back and escalated them again: the same complaints, escalated after the end.
    again = _again(d, escalation_event_id="evt-9", escalated_at=ended_at + timedelta(hours=3))
    [reopened] = d.do(open_by_referral, **again)
    assert isinstance(reopened, CaseReopened)
    assert d.state.status is CaseStatus.OPENED
    # A sibling made before the end that brings a complaint the case lacks is not a duplicate: it reopens too.
    e = desk(case_id="case-2")
    e.later(days=1).do(decline, reason="材料不全", routes_advised=[Route.LITIGATION])
    with_more = _again(e, escalation_event_id="evt-7", complaint_ids=["c-1", "c-9"], escalated_at=ended_at)
    [reopened] = e.do(open_by_referral, **with_more)
    assert isinstance(reopened, CaseReopened) and reopened.complaint_ids == ("c-9",)


def test_the_escalation_instant_must_carry_its_timezone(desk: Callable[..., Desk], t0: datetime) -> None:
    d = desk()
    with pytest.raises(ValidationFailed, match="escalated_at"):
        open_by_referral(d.state, **_again(d, escalated_at=t0.replace(tzinfo=None)))


def test_a_referral_for_another_case_is_refused(desk: Callable[..., Desk]) -> None:
    d = desk()
    with pytest.raises(ValidationFailed, match="case_id"):
        open_by_referral(d.state, **_again(d, case_id="case-other", escalation_event_id="evt-9"))


def test_a_referral_needs_complaints_and_parties(referral_arguments: Callable[..., Any]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        open_by_referral(None, **referral_arguments(complaint_ids=[], parties=[], reason=" "))
    fields = {problem.field for problem in refused.value.problems}
    assert {"parties", "reason", "complaint_ids"} <= fields


def test_a_party_named_twice_in_a_referral_is_refused(
    referral_arguments: Callable[..., Any], parties: tuple[PartyDetails, ...]
) -> None:
    with pytest.raises(ValidationFailed, match=r"parties\.1: names a party already listed"):
        open_by_referral(None, **referral_arguments(parties=[parties[0], parties[0]]))


def test_a_case_id_must_be_a_subject_token(referral_arguments: Callable[..., Any]) -> None:
    with pytest.raises(ValidationFailed, match="case_id"):
        open_by_referral(None, **referral_arguments(case_id="Case 1"))


def test_a_naive_instant_is_refused(referral_arguments: Callable[..., Any], t0: datetime) -> None:
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        open_by_referral(None, **referral_arguments(at=t0.replace(tzinfo=None)))


def test_instants_are_kept_in_utc(referral_arguments: Callable[..., Any], t0: datetime) -> None:
    beijing = t0.astimezone(timezone(timedelta(hours=8)))
    state = replay(open_by_referral(None, **referral_arguments(at=beijing)))
    assert state.opened_at == t0
    assert state.opened_at.utcoffset() == timedelta(0)


def _again(d: Desk, **overrides: Any) -> dict[str, Any]:
    """The desk's own referral again (same escalation event), with any argument overridden, at the desk's time."""
    arguments: dict[str, Any] = {
        "case_id": d.state.case_id,
        "complaint_ids": list(d.state.complaint_ids),
        "compound_id": "jinyuan-huating",
        "reason": "物业公司拖欠电费",
        "parties": [record.party.details() for record in d.state.parties.values()],
        "escalation_event_id": "evt-escalated-1",
        "at": d.now,
    }
    arguments.update(overrides)
    return arguments


# --- direct application --------------------------------------------------------------------------------------------


def test_a_party_applies_for_mediation(parties: tuple[PartyDetails, ...], t0: datetime) -> None:
    [opened] = apply_for_mediation(
        case_id="med-2025-001",
        origin=Origin.PARTY_APPLICATION,
        reason="电费分摊争议",
        parties=parties[:2],
        applicant=parties[1],
        at=t0,
    )
    state = replay([opened])
    assert state.origin is Origin.PARTY_APPLICATION
    assert state.applicant_party_id == "party-2"
    assert state.complaint_ids == ()
    assert state.escalation_event_ids == frozenset()


def test_a_court_refers_a_case_with_its_docket_number(parties: tuple[PartyDetails, ...], t0: datetime) -> None:
    [opened] = apply_for_mediation(
        case_id="med-2025-002",
        origin=Origin.COURT_REFERRAL,
        reason="诉前委派调解",
        parties=parties[:2],
        referred_by="天长市人民法院",
        referral_reference="(2025)皖1181民诉前调123号",
        at=t0,
    )
    assert isinstance(opened, CaseOpened)
    assert (opened.referred_by, opened.applicant_party_id) == ("天长市人民法院", None)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"origin": Origin.PARTY_APPLICATION}, "applicant"),
        ({"origin": Origin.PARTY_APPLICATION, "applicant": "outsider"}, "applicant"),
        ({"origin": Origin.STREET_OFFICE_REFERRAL}, "event"),  # who referred it is missing
        ({"origin": Origin.COURT_REFERRAL, "referred_by": "法院", "applicant": "first"}, "event"),
        ({"origin": Origin.COMPLAINT_REFERRAL}, "origin"),
    ],
)
def test_an_application_must_say_who_brought_it(
    arguments: dict[str, Any], field: str, parties: tuple[PartyDetails, ...], t0: datetime
) -> None:
    outsider = PartyDetails(kind=PartyKind.OTHER, organisation="无关单位")
    chosen = {"outsider": outsider, "first": parties[0]}
    if "applicant" in arguments:
        arguments = {**arguments, "applicant": chosen[arguments["applicant"]]}
    with pytest.raises(ValidationFailed) as refused:
        apply_for_mediation(case_id="med-1", reason="争议", parties=parties[:2], at=t0, **arguments)
    assert field in {problem.field for problem in refused.value.problems}


# --- acceptance ----------------------------------------------------------------------------------------------------


def test_accepting_starts_the_month(desk: Callable[..., Desk]) -> None:
    d = desk()
    [accepted] = d.later(hours=5).do(accept)
    assert isinstance(accepted, CaseAccepted)
    assert accepted.due_at == d.now + 30 * DAY
    assert (d.state.status, d.state.accepted_at, d.state.due_at) == (CaseStatus.ACCEPTED, d.now, d.now + 30 * DAY)


def test_a_case_is_accepted_once(accepted: Desk) -> None:
    with pytest.raises(InvalidTransition, match="cannot accept a case that is accepted"):
        accepted.do(accept)


def test_declining_tells_the_complaints_desk_too(desk: Callable[..., Desk]) -> None:
    d = desk()
    declined, ended = d.do(decline, reason="不属于调解范围", routes_advised=[Route.LITIGATION, Route.LITIGATION])
    assert isinstance(declined, CaseDeclined)
    assert isinstance(ended, CaseEndedWithoutAgreement)
    assert ended.complaint_ids == ("c-1", "c-2")
    assert ended.routes_advised == (Route.LITIGATION,)
    assert d.state.status is CaseStatus.DECLINED
    assert (d.state.decline_reason, d.state.ended_at) == ("不属于调解范围", d.now)


def test_declining_needs_a_reason_and_routes(desk: Callable[..., Desk]) -> None:
    d = desk()
    with pytest.raises(ValidationFailed):
        d.do(decline, reason="", routes_advised=[Route.LITIGATION])
    with pytest.raises(ValidationFailed, match="routes_advised"):
        d.do(decline, reason="不属于调解范围", routes_advised=[])
    assert d.state.status is CaseStatus.OPENED


def test_an_accepted_case_is_not_declined(accepted: Desk) -> None:
    with pytest.raises(InvalidTransition):
        accepted.do(decline, reason="x", routes_advised=[Route.LITIGATION])


def test_the_parties_may_agree_to_take_longer(accepted: Desk) -> None:
    first_due = accepted.state.due_at
    assert first_due is not None
    [extended] = accepted.later(days=25).do(extend_deadline, due_at=first_due + 15 * DAY, reason="等待供电公司核算")
    assert isinstance(extended, CaseDeadlineExtended)
    assert extended.previous_due_at == first_due
    assert accepted.state.due_at == first_due + 15 * DAY


def test_an_extension_must_be_later(accepted: Desk) -> None:
    due = accepted.state.due_at
    assert due is not None
    with pytest.raises(ValidationFailed, match="due_at"):
        accepted.do(extend_deadline, due_at=due, reason="x")


def test_only_a_case_being_mediated_is_extended(desk: Callable[..., Desk], t0: datetime) -> None:
    with pytest.raises(InvalidTransition):
        desk().do(extend_deadline, due_at=t0 + 60 * DAY, reason="x")


def test_commands_do_not_go_back_in_time(accepted: Desk) -> None:
    with pytest.raises(ValidationFailed, match="before the case's last"):
        accepted.do(end_without_agreement, reason="x", routes_advised=[Route.LITIGATION], at=accepted.now - DAY)


def test_end_without_agreement_only_while_mediating(desk: Callable[..., Desk], agreed: Desk) -> None:
    with pytest.raises(InvalidTransition):
        desk().do(end_without_agreement, reason="x", routes_advised=[Route.LITIGATION])
    with pytest.raises(InvalidTransition):
        agreed.do(end_without_agreement, reason="x", routes_advised=[Route.LITIGATION])
    with pytest.raises(InvalidTransition):
        desk().do(close)
