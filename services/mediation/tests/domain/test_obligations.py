"""Obligations: fulfilled once (by evidence or by another service's event), overdue once per due date, extended,
waived; follow-up visits; the case closes only when every obligation is settled."""

from datetime import timedelta
from typing import Any

import pytest

from mediation.domain import (
    CaseClosed,
    CaseStatus,
    EventDoesNotFulfil,
    ExternalEventRef,
    InvalidTransition,
    NotAParty,
    ObligationAlreadySettled,
    ObligationFulfilled,
    ObligationMarkedOverdue,
    ObligationsOutstanding,
    ObligationStatus,
    UnknownItem,
    ValidationFailed,
    close,
    extend_obligation,
    fulfil_by_external_event,
    fulfil_obligation,
    mark_obligation_overdue,
    matching_terms,
    obligations_to_mark_overdue,
    record_follow_up_visit,
    waive_obligation,
)

Desk = Any
DAY = timedelta(days=1)
ARREARS_PAID = "jinlin.escrow.ArrearsPaid.v1"
PAID_DATA = {"compound_id": "jinyuan-huating", "amount_fen": 12_345_600}


def _paid(d: Desk, event_id: str = "esc-evt-1", **overrides: Any) -> list[Any]:
    arguments: dict[str, Any] = {
        "term_id": "t-arrears",
        "service": "escrow",
        "event_type": ARREARS_PAID,
        "event_id": event_id,
        "data": PAID_DATA,
    }
    arguments.update(overrides)
    events: list[Any] = d.do(fulfil_by_external_event, **arguments)
    return events


def _settle_all(d: Desk) -> None:
    d.do(fulfil_obligation, term_id="t-arrears", evidence="结清证明")
    d.do(waive_obligation, term_id="t-meters", reason="改造由政府项目承担")


# --- fulfilment ----------------------------------------------------------------------------------------------------


def test_an_obligation_is_fulfilled_with_evidence(agreed: Desk) -> None:
    [fulfilled] = agreed.later(days=3).do(fulfil_obligation, term_id="t-meters", evidence="竣工验收单 2025-118")
    assert isinstance(fulfilled, ObligationFulfilled)
    obligation = agreed.state.obligations["t-meters"]
    assert (obligation.status, obligation.evidence, obligation.settled_at) == (
        ObligationStatus.FULFILLED,
        "竣工验收单 2025-118",
        agreed.now,
    )


def test_evidence_is_required(agreed: Desk) -> None:
    with pytest.raises(ValidationFailed):
        agreed.do(fulfil_obligation, term_id="t-meters", evidence="  ")


def test_no_obligation_is_fulfilled_twice(agreed: Desk) -> None:
    agreed.do(fulfil_obligation, term_id="t-meters", evidence="验收单")
    with pytest.raises(ObligationAlreadySettled, match="already fulfilled"):
        agreed.do(fulfil_obligation, term_id="t-meters", evidence="again")
    agreed.do(waive_obligation, term_id="t-arrears", reason="x")
    with pytest.raises(ObligationAlreadySettled, match="already waived"):
        agreed.do(fulfil_obligation, term_id="t-arrears", evidence="late")


def test_an_unknown_term_is_not_found(agreed: Desk) -> None:
    with pytest.raises(UnknownItem, match="no obligation t-9"):
        agreed.do(fulfil_obligation, term_id="t-9", evidence="x")


def test_there_are_no_obligations_before_the_agreement_takes_effect(drafted: Desk) -> None:
    with pytest.raises(InvalidTransition):
        drafted.do(fulfil_obligation, term_id="t-meters", evidence="x")


def test_the_event_a_term_names_fulfils_it(agreed: Desk) -> None:
    [fulfilled] = _paid(agreed)
    assert isinstance(fulfilled, ObligationFulfilled)
    assert fulfilled.by_event == ExternalEventRef(service="escrow", event_type=ARREARS_PAID, event_id="esc-evt-1")
    assert agreed.state.obligations["t-arrears"].status is ObligationStatus.FULFILLED


def test_the_same_event_again_records_nothing(agreed: Desk) -> None:
    _paid(agreed)
    assert _paid(agreed) == []
    # ... even after the case closed.
    agreed.do(waive_obligation, term_id="t-meters", reason="x")
    agreed.do(close)
    assert _paid(agreed) == []


def test_another_event_for_a_fulfilled_obligation_is_refused(agreed: Desk) -> None:
    _paid(agreed)
    with pytest.raises(ObligationAlreadySettled):
        _paid(agreed, event_id="esc-evt-2")
    agreed.do(fulfil_obligation, term_id="t-meters", evidence="验收单")
    with pytest.raises(ObligationAlreadySettled):
        _paid(agreed, term_id="t-meters", event_id="esc-evt-3")


@pytest.mark.parametrize(
    "overrides",
    [
        {"service": "complaints"},
        {"event_type": "jinlin.escrow.ArrearsPaid.v2"},
        {"event_type": "jinlin.escrow.PaymentReceived.v1"},
        {"data": {"compound_id": "another-compound"}},
        {"data": {}},
        {"term_id": "t-meters"},  # that term names no event
    ],
)
def test_an_event_that_does_not_match_the_term_is_refused(agreed: Desk, overrides: dict[str, Any]) -> None:
    with pytest.raises(EventDoesNotFulfil):
        _paid(agreed, **overrides)
    assert agreed.state.unsettled_term_ids == ("t-arrears", "t-meters")


def test_matching_terms_routes_an_event_to_the_open_obligations_it_fulfils(agreed: Desk, drafted: Desk) -> None:
    assert matching_terms(agreed.state, "escrow", ARREARS_PAID, PAID_DATA) == ["t-arrears"]
    assert matching_terms(agreed.state, "escrow", ARREARS_PAID, {"compound_id": "other"}) == []
    assert matching_terms(agreed.state, "escrow", "jinlin.escrow.Other.v1", PAID_DATA) == []
    _paid(agreed)
    assert matching_terms(agreed.state, "escrow", ARREARS_PAID, PAID_DATA) == []


def test_matching_terms_finds_nothing_before_the_agreement_took_effect(accepted: Desk) -> None:
    accepted.later(days=1).draft()
    assert matching_terms(accepted.state, "escrow", ARREARS_PAID, PAID_DATA) == []


# --- overdue -------------------------------------------------------------------------------------------------------


def test_overdue_is_marked_once_per_due_date(agreed: Desk) -> None:
    due = agreed.state.obligations["t-arrears"].due_at
    agreed.now = due
    assert obligations_to_mark_overdue(agreed.state, agreed.now) == []
    with pytest.raises(InvalidTransition, match="not yet due"):
        agreed.do(mark_obligation_overdue, term_id="t-arrears")
    agreed.later(seconds=1)
    assert obligations_to_mark_overdue(agreed.state, agreed.now) == ["t-arrears"]
    [marked] = agreed.do(mark_obligation_overdue, term_id="t-arrears")
    assert isinstance(marked, ObligationMarkedOverdue)
    assert (marked.obligor, marked.due_at) == ("party-3", due)
    assert obligations_to_mark_overdue(agreed.state, agreed.now) == []
    assert agreed.later(days=5).do(mark_obligation_overdue, term_id="t-arrears") == []  # idempotent


def test_an_extension_brings_a_new_deadline_to_mark(agreed: Desk) -> None:
    first_due = agreed.state.obligations["t-arrears"].due_at
    agreed.now = first_due + DAY
    agreed.do(mark_obligation_overdue, term_id="t-arrears")
    agreed.do(extend_obligation, term_id="t-arrears", due_at=first_due + 10 * DAY, reason="等待监管账户归集")
    obligation = agreed.state.obligations["t-arrears"]
    assert (obligation.due_at, obligation.overdue_marked) == (first_due + 10 * DAY, False)
    agreed.now = first_due + 11 * DAY
    agreed.do(mark_obligation_overdue, term_id="t-arrears")
    marked = [e.due_at for e in agreed.events if isinstance(e, ObligationMarkedOverdue)]
    assert marked == [first_due, first_due + 10 * DAY]
    assert agreed.state.obligations["t-arrears"].times_marked_overdue == 2


def test_an_extension_must_be_later(agreed: Desk) -> None:
    due = agreed.state.obligations["t-arrears"].due_at
    with pytest.raises(ValidationFailed, match="due_at"):
        agreed.do(extend_obligation, term_id="t-arrears", due_at=due, reason="x")
    agreed.now = due + 5 * DAY
    with pytest.raises(ValidationFailed, match="due_at"):
        agreed.do(extend_obligation, term_id="t-arrears", due_at=due + 2 * DAY, reason="x")  # already past


def test_a_settled_obligation_is_neither_overdue_nor_extended(agreed: Desk) -> None:
    agreed.do(fulfil_obligation, term_id="t-arrears", evidence="结清证明")
    agreed.later(days=60)
    assert obligations_to_mark_overdue(agreed.state, agreed.now) == ["t-meters"]
    with pytest.raises(ObligationAlreadySettled):
        agreed.do(mark_obligation_overdue, term_id="t-arrears")
    with pytest.raises(ObligationAlreadySettled):
        agreed.do(extend_obligation, term_id="t-arrears", due_at=agreed.now + DAY, reason="x")
    with pytest.raises(ObligationAlreadySettled):
        agreed.do(waive_obligation, term_id="t-arrears", reason="x")


def test_a_late_obligation_can_still_be_fulfilled(agreed: Desk) -> None:
    agreed.later(days=11).do(mark_obligation_overdue, term_id="t-arrears")
    _paid(agreed)
    assert agreed.state.obligations["t-arrears"].status is ObligationStatus.FULFILLED


# --- follow-up visits and closing ----------------------------------------------------------------------------------


def test_follow_up_visits_record_performance_and_satisfaction(agreed: Desk) -> None:
    agreed.later(days=15).do(
        record_follow_up_visit, performance="欠费已结清，改造施工中", party_id="party-3", satisfaction=4
    )
    agreed.do(record_follow_up_visit, performance="现场查看")
    visits = agreed.state.follow_up_visits
    assert [(v.party_id, v.satisfaction, v.at) for v in visits] == [
        ("party-3", 4, agreed.now),
        (None, None, agreed.now),
    ]
    with pytest.raises(ValidationFailed, match="satisfaction"):
        agreed.do(record_follow_up_visit, performance="x", satisfaction=6)
    with pytest.raises(NotAParty):
        agreed.do(record_follow_up_visit, performance="x", party_id="party-9")


def test_follow_up_visits_need_an_agreement(drafted: Desk) -> None:
    with pytest.raises(InvalidTransition):
        drafted.do(record_follow_up_visit, performance="x")


def test_closing_is_refused_while_obligations_are_open(agreed: Desk) -> None:
    agreed.do(fulfil_obligation, term_id="t-arrears", evidence="结清证明")
    with pytest.raises(ObligationsOutstanding) as refused:
        agreed.do(close)
    assert refused.value.term_ids == ("t-meters",)
    assert agreed.state.status is CaseStatus.AGREEMENT_IN_EFFECT


def test_the_case_closes_when_every_obligation_is_settled(agreed: Desk) -> None:
    _settle_all(agreed)
    [closed] = agreed.do(close, summary="欠费结清，直供电改造完成")
    assert isinstance(closed, CaseClosed)
    assert (agreed.state.status, agreed.state.ended_at) == (CaseStatus.CLOSED, agreed.now)
    with pytest.raises(InvalidTransition):
        agreed.do(close)
    # A visit after closing is still recorded: 回访 checks that the result lasts.
    agreed.later(days=30).do(record_follow_up_visit, performance="供电正常", satisfaction=5)
