"""Loading a complaint: its stream, decoded (old versions upcast) and folded into state."""

from complaints.domain import AGGREGATE, ComplaintState, registry
from complaints.domain.state import replay
from jinlin.store import Stream, Transaction


def complaint_stream(complaint_id: str) -> Stream:
    return Stream(AGGREGATE, complaint_id)


async def load_complaint(tx: Transaction, complaint_id: str) -> ComplaintState | None:
    stored = await tx.read_stream(complaint_stream(complaint_id))
    if not stored:
        return None
    return replay(registry.decode(event.type, event.data) for event in stored)
