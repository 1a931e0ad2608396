"""Loading an aggregate and recording what a command decided, inside the caller's transaction."""

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from billing_escrow.application.folding import Aggregate, StateCache, Versioned, load_state
from billing_escrow.domain import NotFound
from jinlin.events import DomainEvent
from jinlin.store import Stream, Transaction

S = TypeVar("S", bound=Versioned)
E = TypeVar("E", bound=DomainEvent)


class Repository(Generic[S]):
    """One kind of aggregate: ``kind`` names it in a 404 ("no account acc-1")."""

    def __init__(self, aggregate: Aggregate[S], cache: StateCache[S], kind: str) -> None:
        self.aggregate = aggregate
        self.cache = cache
        self.kind = kind

    def stream(self, aggregate_id: str) -> Stream:
        return self.aggregate.stream(aggregate_id)

    async def load(self, conn: AsyncConnection, aggregate_id: str) -> S | None:
        return await load_state(conn, self.aggregate, aggregate_id, self.cache)

    async def get(self, conn: AsyncConnection, aggregate_id: str) -> S:
        state = await self.load(conn, aggregate_id)
        if state is None:
            raise NotFound(self.kind, aggregate_id)
        return state

    async def record(
        self,
        tx: Transaction,
        aggregate_id: str,
        state: S | None,
        new_events: Sequence[DomainEvent],
        *,
        causationid: str | None = None,
    ) -> S | None:
        """Append ``new_events`` after ``state`` (``None``: a new stream); the state after them."""
        if not new_events:
            return state
        expected = state.version if state is not None else 0
        await tx.append(self.stream(aggregate_id), expected, new_events, causationid=causationid)
        folded = self.cache.get(aggregate_id)  # the read model folded them as they were appended
        if folded is not None and folded.version == expected + len(new_events):
            return folded
        after = state
        for event in new_events:
            after = self.aggregate.apply(after, event)
        return after

    async def change(self, tx: Transaction, aggregate_id: str, decide: Callable[[S], Sequence[E]]) -> tuple[S, list[E]]:
        """Load, decide, record: the state after the command and the events it recorded (none for a retry)."""
        state = await self.get(tx.connection, aggregate_id)
        new_events = list(decide(state))
        after = await self.record(tx, aggregate_id, state, new_events)
        assert after is not None
        return after, new_events
