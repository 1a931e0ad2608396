"""How long the center has to handle a complaint, and whether it is late.

The rules follow 12345 hotline practice: emergency 2 hours, water/power/gas 24 hours, general 7 days, complex
15 days, in calendar time (there is no holiday calendar in the domain). A category names its rule; the priority can
only make it stricter. The clock runs while the complaint is being handled and stands still while the desk waits for
information from the resident: when the answer comes, the deadline moves later by exactly the time spent waiting.

Every change of deadline starts a new *numbered* deadline, so that "overdue" can be recorded once per deadline and
never twice for the same one.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from complaints.domain.status import DEADLINE_APPLIES

if TYPE_CHECKING:
    from complaints.domain.state import ComplaintState


class DeadlineRule(StrEnum):
    EMERGENCY = "emergency"
    UTILITY = "utility"  # water, power, gas
    GENERAL = "general"
    COMPLEX = "complex"


HANDLING_TIME: Final = {
    DeadlineRule.EMERGENCY: timedelta(hours=2),
    DeadlineRule.UTILITY: timedelta(hours=24),
    DeadlineRule.GENERAL: timedelta(days=7),
    DeadlineRule.COMPLEX: timedelta(days=15),
}


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


# The slowest rule a priority tolerates. Normal keeps the category's rule.
_PRIORITY_CAP: Final = {
    Priority.NORMAL: None,
    Priority.URGENT: DeadlineRule.UTILITY,
    Priority.EMERGENCY: DeadlineRule.EMERGENCY,
}


def effective_rule(category_rule: DeadlineRule, priority: Priority) -> DeadlineRule:
    """The category's rule, made stricter by the priority; a priority never makes a deadline later."""
    cap = _PRIORITY_CAP[priority]
    if cap is None:
        return category_rule
    return min(category_rule, cap, key=HANDLING_TIME.__getitem__)


def due_after(rule: DeadlineRule, start: datetime) -> datetime:
    return start + HANDLING_TIME[rule]


@dataclass(frozen=True)
class DeadlineClock:
    """The deadline in force: its number (1 at filing, +1 at each change), when it falls due, and the pause.

    ``due_at`` is the deadline as if the clock ran on from now; while paused, the real deadline is still moving
    and only becomes fixed when the clock resumes (see :func:`projected_due_at`).
    """

    number: int
    due_at: datetime
    paused_at: datetime | None = None
    overdue_marked: bool = False

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def effective_now(self, now: datetime) -> datetime:
        """The instant the clock shows: ``now`` while running, the moment it stopped while paused."""
        return self.paused_at if self.paused_at is not None else now

    def is_late(self, now: datetime) -> bool:
        # Late strictly after the due instant: a complaint answered at 10:00 for a 10:00 deadline is on time.
        return self.effective_now(now) > self.due_at

    def pause(self, at: datetime) -> "DeadlineClock":
        return replace(self, paused_at=at)

    def resumed_due_at(self, at: datetime) -> datetime:
        """Where the deadline moves to when the clock resumes at ``at``: later by the time it stood still."""
        if self.paused_at is None:
            raise ValueError("the clock is not paused")
        return self.due_at + (at - self.paused_at)

    def next(self, due_at: datetime) -> "DeadlineClock":
        """A new deadline: a new number, running, not yet marked overdue."""
        return DeadlineClock(number=self.number + 1, due_at=due_at)


def is_overdue(state: "ComplaintState", now: datetime) -> bool:
    """Late for the deadline in force. Only while a deadline binds; time spent paused never counts."""
    return state.status in DEADLINE_APPLIES and state.clock.is_late(now)


def should_mark_overdue(state: "ComplaintState", now: datetime) -> bool:
    """What the overdue watcher asks: late, and this deadline not yet marked (so it fires once per deadline)."""
    return is_overdue(state, now) and not state.clock.overdue_marked


def projected_due_at(state: "ComplaintState", now: datetime) -> datetime | None:
    """The deadline as it stands at ``now`` (Open311 ``expected_datetime``); ``None`` once no deadline binds.

    While the clock is paused the deadline keeps moving later, so it is projected as if the answer came ``now``.
    """
    if state.status not in DEADLINE_APPLIES:
        return None
    clock = state.clock
    return clock.resumed_due_at(now) if clock.paused else clock.due_at


def time_left(state: "ComplaintState", now: datetime) -> timedelta | None:
    """Handling time left (negative when late); frozen while paused. ``None`` once no deadline binds."""
    if state.status not in DEADLINE_APPLIES:
        return None
    return state.clock.due_at - state.clock.effective_now(now)
