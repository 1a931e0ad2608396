"""Rebuilding read models: batches of the log, projections with and without ``apply_batch``, on every backend."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events import DomainEvent, EventRegistry
from jinlin.store import CommandContext, EventStore, StoredEvent, Stream, create_engines
from jinlin.store.projection import BatchProjection, LogBatch, Projection

registry = EventRegistry("testing")


@registry.register
class ThingMade(DomainEvent):
    name: str


@registry.register
class ThingRenamed(DomainEvent):
    name: str


read_models = MetaData()
names = Table("rebuild_names", read_models, Column("id", String(100), primary_key=True), Column("name", String(100)))
counts = Table("rebuild_counts", read_models, Column("id", String(100), primary_key=True), Column("n", Integer))

CTX = CommandContext(actor="staff:alice", causationid="cmd-1")


class Names:
    """Event by event only: a rebuild hands it whole events."""

    name = "names"
    tables = (names,)

    def __init__(self) -> None:
        self.seen: list[StoredEvent] = []

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        self.seen.append(event)
        if event.type == registry.type_of(ThingMade):
            await conn.execute(insert(names).values(id=event.envelope.subject, name=event.data["name"]))
        else:
            await conn.execute(
                names.update().where(names.c.id == event.envelope.subject).values(name=event.data["name"])
            )


class Counts:
    """Events per thing; folds a batch at once, keeping the counts it folded (its cache) between batches."""

    name = "counts"
    tables = (counts,)

    def __init__(self, fail_on_batch: int | None = None) -> None:
        self.kept: dict[str, int] = {}
        self.batches: list[list[tuple[int, str, int, str, str, dict[str, Any]]]] = []
        self.forgotten = 0
        self._fail_on_batch = fail_on_batch

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self._write(conn, {event.envelope.subject: event.envelope.streamversion})

    async def apply_batch(self, conn: AsyncConnection, batch: LogBatch) -> None:
        columns = batch.columns("sequence", "stream", "stream_version", "type", "subject", "data")
        rows = [(*row[:5], json.loads(row[5])) for row in map(columns, batch.rows)]
        self.batches.append(rows)
        if self._fail_on_batch == len(self.batches):
            raise RuntimeError("the projection failed")
        await self._write(conn, {subject: version for _, _, version, _, subject, _ in rows})

    async def _write(self, conn: AsyncConnection, latest: dict[str, int]) -> None:
        for thing, n in latest.items():
            if thing in self.kept:
                await conn.execute(counts.update().where(counts.c.id == thing).values(n=n))
            else:
                await conn.execute(insert(counts).values(id=thing, n=n))
            self.kept[thing] = n

    def forget(self) -> None:
        self.kept.clear()
        self.forgotten += 1


def test_the_protocols_fit() -> None:
    def projection(p: Projection) -> Projection:
        return p

    def batched(p: BatchProjection) -> BatchProjection:
        return p

    projection(Names())
    batched(Counts())


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    store = EventStore(create_engines(database_url), registry, projections=[Names(), Counts()])
    await store.create_schema(read_models)
    for n in range(5):
        stream = Stream("thing", f"t{n}")
        await store.append(stream, 0, [ThingMade(name=f"a{n}")], CTX)
        await store.append(stream, 1, [ThingRenamed(name=f"b{n}"), ThingRenamed(name=f"c{n}")], CTX)
    yield store
    await store.close()


async def tables(store: EventStore) -> dict[str, list[tuple[Any, ...]]]:
    async with store.engines.reader.connect() as conn:
        return {
            table.name: [tuple(row) for row in (await conn.execute(select(table).order_by(table.c.id))).all()]
            for table in (names, counts)
        }


@pytest.mark.parametrize("batch_size", [1, 4, 10_000])
async def test_a_rebuild_gives_the_live_rows_with_and_without_batches(store: EventStore, batch_size: int) -> None:
    live = await tables(store)
    assert live["rebuild_counts"] == [(f"t{n}", 3) for n in range(5)]
    names_, counts_ = store.projections
    assert isinstance(names_, Names) and isinstance(counts_, Counts)
    names_.seen.clear()
    assert await store.rebuild_projections(batch_size=batch_size) == 15
    assert await tables(store) == live
    # The event-by-event projection had whole events, the very ones of the log, in log order.
    assert [e.envelope for e in names_.seen] == [e.envelope for e in await store.read_log(limit=100)]
    # The batch projection had the log's rows in batches of the size asked, in log order, data as stored.
    assert [len(b) for b in counts_.batches] == [min(batch_size, 15 - i) for i in range(0, 15, batch_size)]
    log = await store.read_log(limit=100)
    assert [row for b in counts_.batches for row in b] == [
        (e.sequence, e.stream, e.envelope.streamversion, e.type, e.envelope.subject, e.data) for e in log
    ]
    assert counts_.forgotten >= 1, "a rebuild starts from nothing kept"


async def test_a_failed_rebuild_changes_nothing_and_forgets_what_it_folded(database_url: str) -> None:
    failing = Counts(fail_on_batch=2)
    store = EventStore(create_engines(database_url), registry, projections=[Names(), failing])
    try:
        await store.create_schema(read_models)
        for n in range(3):
            await store.append(Stream("thing", f"t{n}"), 0, [ThingMade(name=f"a{n}")], CTX)
        before = await tables(store)
        forgotten = failing.forgotten
        with pytest.raises(RuntimeError, match="the projection failed"):
            await store.rebuild_projections(batch_size=2)
        assert await tables(store) == before
        assert failing.forgotten == forgotten + 2, "forgotten at the start and again after the failure"
        assert failing.kept == {}
    finally:
        await store.close()


async def test_an_empty_log_rebuilds_to_empty_tables(database_url: str) -> None:
    store = EventStore(create_engines(database_url), registry, projections=[Names(), Counts()])
    try:
        await store.create_schema(read_models)
        async with store.engines.writer.begin() as conn:
            await conn.execute(insert(names).values(id="stale", name="left over"))
        assert await store.rebuild_projections() == 0
        assert await tables(store) == {"rebuild_names": [], "rebuild_counts": []}
    finally:
        await store.close()
