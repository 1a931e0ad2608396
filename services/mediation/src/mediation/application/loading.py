"""Loading a case: its stream, decoded (old versions upcast) and folded into state."""

from jinlin.store import EventStore, StoredEvent, Stream, Transaction
from mediation.domain import AGGREGATE, CaseState, registry, replay


def case_stream(case_id: str) -> Stream:
    return Stream(AGGREGATE, case_id)


def fold(stored: list[StoredEvent]) -> CaseState | None:
    if not stored:
        return None
    return replay(registry.decode(event.type, event.data) for event in stored)


async def load_case(tx: Transaction, case_id: str) -> CaseState | None:
    """The case as it stands inside ``tx`` (``None`` when its stream is empty)."""
    return fold(await tx.read_stream(case_stream(case_id)))


async def read_case(store: EventStore, case_id: str) -> tuple[CaseState | None, list[StoredEvent]]:
    """The case and its stored events, for readers (outside any write transaction)."""
    stored = await store.read_stream(case_stream(case_id))
    return fold(stored), stored
