"""The case board: overdue obligations first, then cases past their month, then by next deadline; ended last."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from mediation.domain import (
    CaseState,
    Route,
    accept,
    decline,
    fulfil_obligation,
    is_past_its_month,
    next_deadline,
    order_for_board,
    overdue_obligations,
    sign_agreement,
)

Desk = Any
DAY = timedelta(days=1)


def _agreed(desk: Callable[..., Desk], case_id: str) -> Desk:
    d = desk(case_id=case_id)
    d.do(accept)
    d.later(days=1).draft()
    for party_id in ("party-1", "party-2", "party-3"):
        d.do(sign_agreement, party_id=party_id)
    return d


def test_overdue_obligations_come_first(desk: Callable[..., Desk]) -> None:
    now_ = desk().now + 20 * DAY  # the arrears (due day 11) are late in an agreed case; the meters (day 41) are not
    late = _agreed(desk, "case-late")
    on_time = _agreed(desk, "case-on-time")
    on_time.do(fulfil_obligation, term_id="t-arrears", evidence="结清证明")
    past_month = desk(case_id="case-past-month")
    past_month.do(accept)  # due day 30; now is day 20, so not past yet; see below
    fresh = desk(case_id="case-fresh")  # not accepted: no deadline
    declined = desk(case_id="case-declined")
    declined.do(decline, reason="x", routes_advised=[Route.LITIGATION])
    states: list[CaseState] = [declined.state, fresh.state, on_time.state, past_month.state, late.state]

    order = [s.case_id for s in order_for_board(states, now_)]
    assert order == ["case-late", "case-past-month", "case-on-time", "case-fresh", "case-declined"]
    assert [o.term_id for o in overdue_obligations(late.state, now_)] == ["t-arrears"]

    later = now_ + 15 * DAY  # day 35: the mediated case is past its month and comes before those merely due
    assert is_past_its_month(past_month.state, later)
    order = [s.case_id for s in order_for_board(states, later)]
    assert order == ["case-late", "case-past-month", "case-on-time", "case-fresh", "case-declined"]
    later = now_ + 30 * DAY  # day 50: the meters are late too, in both agreed cases
    order = [s.case_id for s in order_for_board(states, later)]
    assert order[:2] == ["case-late", "case-on-time"]


def test_the_next_deadline_is_the_earliest_open_obligation(desk: Callable[..., Desk]) -> None:
    d = _agreed(desk, "case-1")
    arrears_due = d.state.obligations["t-arrears"].due_at
    assert next_deadline(d.state) == arrears_due
    d.do(fulfil_obligation, term_id="t-arrears", evidence="结清证明")
    assert next_deadline(d.state) == d.state.obligations["t-meters"].due_at
    assert next_deadline(desk().state) is None


def test_a_settled_obligation_is_never_overdue(desk: Callable[..., Desk]) -> None:
    d = _agreed(desk, "case-1")
    d.do(fulfil_obligation, term_id="t-arrears", evidence="结清证明")
    assert overdue_obligations(d.state, d.now + 20 * DAY) == []
