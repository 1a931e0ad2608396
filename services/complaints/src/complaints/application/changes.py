"""Running one decision of the domain against a stored complaint, inside the caller's transaction."""

from collections.abc import Callable, Sequence
from datetime import datetime

from complaints.application.loading import complaint_stream, load_complaint
from complaints.domain import ComplaintEvent, ComplaintState
from complaints.domain.state import apply
from jinlin.store import Transaction

Decision = Callable[[ComplaintState], list[ComplaintEvent]]


def not_before(state: ComplaintState, at: datetime) -> datetime:
    """``at``, or the complaint's last event when that is later: another replica's clock may run a little ahead, and
    a command must not be refused for happening "before" the complaint's history."""
    return max(at, state.updated_at)


class ComplaintNotFound(LookupError):
    def __init__(self, complaint_id: str) -> None:
        super().__init__(f"no complaint {complaint_id}")
        self.complaint_id = complaint_id


async def record(tx: Transaction, state: ComplaintState | None, new_events: Sequence[ComplaintEvent]) -> ComplaintState:
    """Append ``new_events`` after ``state`` and return the state after them.

    Each event's ``caseid`` is the case of the complaint *after* that event, so the event that links a complaint into
    a case already belongs to it.
    """
    if not new_events:
        if state is None:
            raise ValueError("a new complaint needs at least one event")
        return state
    stream = complaint_stream(new_events[0].complaint_id)
    for event in new_events:
        expected = state.version if state is not None else 0
        state = apply(state, event)
        await tx.append(stream, expected, [event], caseid=state.case_id)
    assert state is not None
    return state


async def change(tx: Transaction, complaint_id: str, decide: Decision) -> ComplaintState:
    state = await load_complaint(tx, complaint_id)
    if state is None:
        raise ComplaintNotFound(complaint_id)
    return await record(tx, state, decide(state))
