"""Aggregates folded from their streams, with a cache of recent states shared by the read models and the commands.

A projection folds each appended event into the state it keeps per aggregate; a command loading the same aggregate
in a later transaction finds that state already folded, as long as its version is still the stream's version (no
other process appended meanwhile). States are immutable, so sharing them is safe. The store calls ``forget`` after
every rollback: a cached state may then hold events that never happened.
"""

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from billing_escrow.application.rows import Writes
from billing_escrow.domain import registry
from jinlin.events import DomainEvent
from jinlin.store import StoredEvent, Stream
from jinlin.store.projection import LogBatch
from jinlin.store.schema import events


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


S = TypeVar("S", bound=Versioned)


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """How one kind of aggregate is folded: its stream's aggregate name and the domain's ``apply``."""

    name: str
    apply: Callable[[S | None, DomainEvent], S]

    def stream(self, aggregate_id: str) -> Stream:
        return Stream(self.name, aggregate_id)

    def fold(self, state: S | None, stored: Iterable[tuple[str, dict[str, Any]]]) -> S | None:
        """``state`` after the stored events, given as ``(type, data)``."""
        for type_, data in stored:
            state = self.apply(state, registry.decode(type_, data))
        return state


class StateCache(Generic[S]):
    """The latest folded states of recently used aggregates, least recently used dropped first."""

    def __init__(self, size: int = 2_000) -> None:
        self._states: OrderedDict[str, S] = OrderedDict()
        self._size = size

    def get(self, aggregate_id: str) -> S | None:
        state = self._states.get(aggregate_id)
        if state is not None:
            self._states.move_to_end(aggregate_id)
        return state

    def put(self, aggregate_id: str, state: S) -> None:
        self._states[aggregate_id] = state
        self._states.move_to_end(aggregate_id)
        while len(self._states) > self._size:
            self._states.popitem(last=False)

    def forget(self) -> None:
        self._states.clear()


async def load_state(
    conn: AsyncConnection, aggregate: Aggregate[S], aggregate_id: str, cache: StateCache[S], *, up_to: int | None = None
) -> S | None:
    """The aggregate as its stream holds it (up to version ``up_to``, else all of it); ``None`` if it has no events.

    A cached state of an earlier version is caught up with the events after it, not replayed from the start.
    """
    key = aggregate.stream(aggregate_id).key
    version = up_to if up_to is not None else await stream_version(conn, key)
    if version == 0:
        return None
    cached = cache.get(aggregate_id)
    if cached is not None and cached.version == version:
        return cached
    start = cached if cached is not None and cached.version < version else None
    from_version = start.version + 1 if start is not None else 1
    rows = await conn.execute(
        select(events.c.type, events.c.data)
        .where(events.c.stream == key, events.c.stream_version >= from_version, events.c.stream_version <= version)
        .order_by(events.c.stream_version)
    )
    state = aggregate.fold(start, ((row.type, json.loads(row.data)) for row in rows))
    if state is not None and state.version == version and (cached is None or cached.version < version):
        cache.put(aggregate_id, state)
    return state


async def stream_version(conn: AsyncConnection, key: str) -> int:
    query = select(func.max(events.c.stream_version)).where(events.c.stream == key)
    return int((await conn.execute(query)).scalar() or 0)


class FoldingProjection(Generic[S]):
    """A read model of one kind of aggregate: each event is folded into the aggregate's state (through the domain's
    own ``apply``), and ``update`` gathers the rows that follow from the state before and after it (``Writes``).

    Live, each event's rows are written at once. A rebuild folds a batch of the log the same way, event by event,
    but writes what the whole batch gathered once: each row in its last version, with one statement per table and
    shape (``executemany``).
    """

    name: str
    aggregate: Aggregate[S]
    tables: tuple[Table, ...]

    def __init__(self, cache_size: int = 2_000) -> None:
        self.cache: StateCache[S] = StateCache(cache_size)

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        if event.stream.partition(".")[0] != self.aggregate.name:
            return
        writes = Writes()
        await self._fold(conn, event, writes)
        await writes.flush(conn)

    async def apply_batch(self, conn: AsyncConnection, batch: LogBatch) -> None:
        prefix = self.aggregate.name + "."
        if not any(stream.startswith(prefix) for (stream,) in map(batch.columns("stream"), batch.rows)):
            return
        writes = Writes()
        for event in await batch.stored_events():
            if event.stream.partition(".")[0] == self.aggregate.name:
                await self._fold(conn, event, writes)
        await writes.flush(conn)

    async def _fold(self, conn: AsyncConnection, event: StoredEvent, writes: Writes) -> None:
        aggregate_id = event.envelope.subject
        version = event.envelope.streamversion
        cached = self.cache.get(aggregate_id)
        if cached is not None and cached.version == version - 1:
            before: S | None = cached
        else:
            before = await load_state(conn, self.aggregate, aggregate_id, self.cache, up_to=version - 1)
        domain_event = registry.decode(event.type, event.data)
        after = self.aggregate.apply(before, domain_event)
        self.cache.put(aggregate_id, after)
        self.update(writes, event, domain_event, before, after)

    def update(self, writes: Writes, stored: StoredEvent, event: DomainEvent, before: S | None, after: S) -> None:
        raise NotImplementedError

    def forget(self) -> None:
        self.cache.forget()
