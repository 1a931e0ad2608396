"""Deadline rules, the priority that can only shorten them, and the clock that pauses."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from complaints.domain import (
    HANDLING_TIME,
    DeadlineClock,
    DeadlineRule,
    Priority,
    acknowledge,
    due_after,
    effective_rule,
    is_overdue,
    projected_due_at,
    record_information,
    request_information,
    resolve,
    should_mark_overdue,
    time_left,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("rule", "priority", "expected"),
    [
        (DeadlineRule.GENERAL, Priority.NORMAL, DeadlineRule.GENERAL),
        (DeadlineRule.COMPLEX, Priority.NORMAL, DeadlineRule.COMPLEX),
        (DeadlineRule.GENERAL, Priority.URGENT, DeadlineRule.UTILITY),
        (DeadlineRule.COMPLEX, Priority.URGENT, DeadlineRule.UTILITY),
        (DeadlineRule.UTILITY, Priority.URGENT, DeadlineRule.UTILITY),
        (DeadlineRule.EMERGENCY, Priority.URGENT, DeadlineRule.EMERGENCY),
        (DeadlineRule.COMPLEX, Priority.EMERGENCY, DeadlineRule.EMERGENCY),
        (DeadlineRule.UTILITY, Priority.EMERGENCY, DeadlineRule.EMERGENCY),
    ],
)
def test_priority_makes_a_deadline_stricter(rule: DeadlineRule, priority: Priority, expected: DeadlineRule) -> None:
    assert effective_rule(rule, priority) is expected


@pytest.mark.parametrize("rule", list(DeadlineRule))
@pytest.mark.parametrize("priority", list(Priority))
def test_priority_never_makes_a_deadline_later(rule: DeadlineRule, priority: Priority) -> None:
    assert HANDLING_TIME[effective_rule(rule, priority)] <= HANDLING_TIME[rule]


def test_due_time_counts_from_filing_in_utc() -> None:
    filed = datetime(2025, 3, 3, 17, 30, tzinfo=timezone(timedelta(hours=8)))
    assert due_after(DeadlineRule.UTILITY, filed) == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    assert due_after(DeadlineRule.EMERGENCY, filed) == datetime(2025, 3, 3, 11, 30, tzinfo=UTC)


def test_the_filing_records_deadline_one_from_the_rule_and_priority(desk: Callable[..., Any], t0: datetime) -> None:
    urgent_fees = desk(category_code="property_fees", priority=Priority.URGENT).state
    assert urgent_fees.deadline_rule is DeadlineRule.UTILITY
    assert urgent_fees.clock == DeadlineClock(number=1, due_at=t0 + DAY)
    assert desk(category_code="property_fees").state.clock.due_at == t0 + 15 * DAY
    assert desk(category_code="water", priority=Priority.EMERGENCY).state.clock.due_at == t0 + 2 * HOUR


def test_late_means_strictly_after_the_due_instant(desk: Callable[..., Any], t0: datetime) -> None:
    state = desk(category_code="water").state
    assert not is_overdue(state, t0 + DAY)
    assert is_overdue(state, t0 + DAY + timedelta(microseconds=1))


def test_while_paused_the_clock_shows_the_moment_it_stopped(desk: Callable[..., Any], t0: datetime) -> None:
    d = desk(category_code="water")
    d.do(acknowledge)
    d.later(hours=20).do(request_information, question="哪一栋停水？")
    assert d.state.clock.paused_at == t0 + 20 * HOUR
    for waited in (HOUR, 4 * HOUR, 30 * DAY):
        now = d.now + waited
        assert not is_overdue(d.state, now)
        assert time_left(d.state, now) == 4 * HOUR  # frozen
        assert projected_due_at(d.state, now) == t0 + DAY + waited  # the real deadline keeps moving


def test_resuming_moves_the_deadline_by_exactly_the_paused_time(desk: Callable[..., Any], t0: datetime) -> None:
    d = desk(category_code="water")
    d.do(acknowledge)
    d.later(hours=20).do(request_information, question="哪一栋停水？")
    d.later(hours=50, minutes=7)
    [received] = d.do(record_information, answer="5栋")
    assert received.due_at == t0 + DAY + timedelta(hours=50, minutes=7)
    assert d.state.clock == DeadlineClock(number=2, due_at=received.due_at)
    assert time_left(d.state, d.now) == 4 * HOUR
    assert not is_overdue(d.state, d.now + 4 * HOUR)
    assert is_overdue(d.state, d.now + 4 * HOUR + timedelta(seconds=1))


def test_a_complaint_already_late_when_paused_stays_late_but_no_later(desk: Callable[..., Any]) -> None:
    d = desk(category_code="water")
    d.do(acknowledge)
    d.later(hours=30).do(request_information, question="哪一栋停水？")
    assert is_overdue(d.state, d.now + 10 * DAY)
    assert time_left(d.state, d.now + 10 * DAY) == -6 * HOUR


def test_no_deadline_binds_once_resolved(desk: Callable[..., Any]) -> None:
    d = desk(category_code="water")
    d.do(acknowledge)
    d.do(resolve, resolution_note="已恢复供水")
    assert not is_overdue(d.state, d.now + 30 * DAY)
    assert not should_mark_overdue(d.state, d.now + 30 * DAY)
    assert projected_due_at(d.state, d.now) is None
    assert time_left(d.state, d.now) is None
