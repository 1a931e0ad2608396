"""The case board: which cases need attention first.

Overdue obligations come first (the agreement is not being carried out: chase the obligor), then cases past their
month, then everything else by its next deadline; ended cases last, newest first. The order is a pure function of
the cases and ``now``, so every reader of the board sees the same.
"""

from collections.abc import Iterable
from datetime import datetime

from mediation.domain.deadlines import is_late
from mediation.domain.obligations import Obligation
from mediation.domain.state import CaseState
from mediation.domain.status import CaseStatus


def overdue_obligations(state: CaseState, now: datetime) -> list[Obligation]:
    """Open obligations past their due instant, the longest overdue first."""
    if state.status is not CaseStatus.AGREEMENT_IN_EFFECT:
        return []
    return sorted((o for o in state.obligations.values() if o.is_late(now)), key=lambda o: o.due_at)


def is_past_its_month(state: CaseState, now: datetime) -> bool:
    """Still being mediated after the month (or the extension the parties agreed)."""
    return state.status is CaseStatus.ACCEPTED and state.due_at is not None and is_late(state.due_at, now)


def next_deadline(state: CaseState) -> datetime | None:
    """The earliest instant something is due: an open obligation, or the end of mediation."""
    if state.status is CaseStatus.AGREEMENT_IN_EFFECT:
        return min((o.due_at for o in state.obligations.values() if not o.settled), default=None)
    if state.status is CaseStatus.ACCEPTED:
        return state.due_at
    return None


def board_key(state: CaseState, now: datetime) -> tuple[int, int, float, str]:
    """Sort key: (group, without a deadline, instant, case id); lower sorts first."""
    if state.is_ended:
        return (3, 0, -(state.ended_at or state.updated_at).timestamp(), state.case_id)
    overdue = overdue_obligations(state, now)
    if overdue:
        return (0, 0, overdue[0].due_at.timestamp(), state.case_id)
    deadline = next_deadline(state)
    if deadline is None:  # awaiting acceptance: after the cases with a deadline, oldest first
        return (2, 1, state.opened_at.timestamp(), state.case_id)
    return (1 if is_past_its_month(state, now) else 2, 0, deadline.timestamp(), state.case_id)


def order_for_board(states: Iterable[CaseState], now: datetime) -> list[CaseState]:
    return sorted(states, key=lambda state: board_key(state, now))
