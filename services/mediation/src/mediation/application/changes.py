"""Running one decision of the domain against a stored case, inside the caller's transaction."""

from collections.abc import Callable, Sequence
from datetime import datetime

from jinlin.store import Transaction
from mediation.application.loading import case_stream, load_case
from mediation.domain import CaseEvent, CaseState, apply_all

Decision = Callable[[CaseState, datetime], list[CaseEvent]]
"""A domain command with its arguments bound: the state and the instant it happens → the events to record."""


class CaseNotFound(LookupError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


def instant_for(state: CaseState | None, now: datetime) -> datetime:
    """``now``, or the case's last event when that is later (another replica's clock ran ahead): a command is
    never refused for happening "before" the case's history."""
    return now if state is None or now >= state.updated_at else state.updated_at


async def record(tx: Transaction, state: CaseState | None, new_events: Sequence[CaseEvent]) -> CaseState | None:
    """Append ``new_events`` after ``state`` (``None``: a new case) and return the state after them.

    Every event carries the case id as its ``caseid``: for a referred case that is the complaints desk's case id, so
    the whole trail, across services, is one case.
    """
    if not new_events:
        return state
    case_id = new_events[0].case_id
    await tx.append(case_stream(case_id), state.version if state else 0, list(new_events), caseid=case_id)
    return apply_all(state, new_events)


async def change(tx: Transaction, case_id: str, decide: Decision, now: datetime) -> CaseState:
    state = await load_case(tx, case_id)
    if state is None:
        raise CaseNotFound(case_id)
    after = await record(tx, state, decide(state, instant_for(state, now)))
    assert after is not None
    return after
