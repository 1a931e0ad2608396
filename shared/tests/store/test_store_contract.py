"""The store contract, written once and run on every backend (SQLite file, PostgreSQL database)."""

import asyncio
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events import DomainEvent, EventRegistry, find_chain_break
from jinlin.store import (
    ANY_VERSION,
    CommandContext,
    ConcurrencyError,
    EventStore,
    StoredEvent,
    StoredResponse,
    Stream,
    create_engines,
)

registry = EventRegistry("testing")


@registry.register
class ThingMade(DomainEvent):
    name: str


@registry.register
class ThingRenamed(DomainEvent):
    event_version: ClassVar[int] = 2
    name: str
    reason: str


@registry.upcaster("ThingRenamed", 1)
def _renamed_v1_to_v2(data: dict[str, object]) -> dict[str, object]:
    return {**data, "reason": "unknown"}


read_models = MetaData()
things = Table("things", read_models, Column("id", String(100), primary_key=True), Column("name", String(100)))
counts = Table("counts", read_models, Column("id", Integer, primary_key=True), Column("n", Integer))


class ThingNames:
    name = "thing_names"
    tables = (things,)

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        if event.type.startswith("jinlin.testing.ThingMade."):
            await conn.execute(insert(things).values(id=event.envelope.subject, name=event.data["name"]))
        elif event.type.startswith("jinlin.testing.ThingRenamed."):
            await conn.execute(
                things.update().where(things.c.id == event.envelope.subject).values(name=event.data["name"])
            )


CTX = CommandContext(actor="staff:alice", causationid="cmd-1")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    store = EventStore(create_engines(database_url), registry, projections=[ThingNames()])
    await store.create_schema(read_models)
    yield store
    await store.close()


async def test_round_trip_keeps_every_attribute(store: EventStore) -> None:
    stream = Stream("thing", "t1")
    appended = await store.append(stream, 0, [ThingMade(name="a"), ThingRenamed(name="b", reason="typo")], CTX)
    read = await store.read_stream(stream)
    assert [e.envelope for e in read] == [e.envelope for e in appended]
    first, second = read
    assert first.type == "jinlin.testing.ThingMade.v1"
    assert first.envelope.source == "/jinlin/testing"
    assert first.envelope.subject == "t1"
    assert first.envelope.caseid == "t1", "an event outside any case carries its aggregate's id"
    assert (first.envelope.actor, first.envelope.causationid) == ("staff:alice", "cmd-1")
    assert (first.envelope.streamversion, second.envelope.streamversion) == (1, 2)
    assert first.envelope.prevhash == "0" * 64
    assert second.envelope.prevhash == first.envelope.hash
    assert first.nats_subject == "jinlin.testing.thing.t1.thing_made"
    assert first.envelope.time.endswith("+00:00")
    assert registry.decode(second.type, second.data) == ThingRenamed(name="b", reason="typo")


async def test_read_stream_from_a_version(store: EventStore) -> None:
    stream = Stream("thing", "t1")
    await store.append(stream, 0, [ThingMade(name="a")], CTX)
    await store.append(stream, 1, [ThingRenamed(name="b", reason="r"), ThingRenamed(name="c", reason="r")], CTX)
    assert [e.envelope.streamversion for e in await store.read_stream(stream, from_version=2)] == [2, 3]
    assert await store.stream_version(stream) == 3
    assert await store.stream_version(Stream("thing", "none")) == 0


async def test_version_conflict_raises_and_writes_nothing(store: EventStore) -> None:
    stream = Stream("thing", "t1")
    await store.append(stream, 0, [ThingMade(name="a")], CTX)
    with pytest.raises(ConcurrencyError) as raised:
        await store.append(stream, 0, [ThingMade(name="again")], CTX)
    assert (raised.value.expected, raised.value.actual) == (0, 1)
    assert len(await store.read_log()) == 1
    await store.append(stream, ANY_VERSION, [ThingRenamed(name="z", reason="r")], CTX)
    assert await store.stream_version(stream) == 2


async def test_multi_stream_append_with_one_conflict_writes_nothing(store: EventStore) -> None:
    await store.append(Stream("thing", "b"), 0, [ThingMade(name="b")], CTX)
    with pytest.raises(ConcurrencyError):
        async with store.transaction(CTX) as tx:
            await tx.append(Stream("thing", "a"), 0, [ThingMade(name="a")])
            await tx.save_response("http", "key-1", StoredResponse(201, b"{}", fingerprint="f"))
            await tx.append(Stream("thing", "b"), 0, [ThingMade(name="b twice")])
    assert [e.envelope.subject for e in await store.read_log()] == ["b"]
    assert await store.find_response("http", "key-1") is None
    async with store.engines.reader.connect() as conn:
        assert (await conn.execute(select(things.c.id))).scalars().all() == ["b"]


async def test_multi_stream_append_commits_all_streams_together(store: EventStore) -> None:
    async with store.transaction(CommandContext("staff:bob", "cmd-2", caseid="case-9")) as tx:
        await tx.append(Stream("thing", "a"), 0, [ThingMade(name="a")])
        await tx.append(Stream("thing", "b"), 0, [ThingMade(name="b")])
    log = await store.read_log()
    assert [(e.stream, e.sequence, e.envelope.caseid) for e in log] == [
        ("thing.a", 1, "case-9"),
        ("thing.b", 2, "case-9"),
    ]
    assert find_chain_break(e.envelope for e in log) is None


async def test_log_is_in_commit_order_and_pages(store: EventStore) -> None:
    for i in range(7):
        await store.append(Stream("thing", f"t{i}"), ANY_VERSION, [ThingMade(name=str(i))], CTX)
    everything = await store.read_log()
    assert [e.sequence for e in everything] == list(range(1, 8))
    assert [e.data["name"] for e in everything] == [str(i) for i in range(7)]
    page = await store.read_log(after=3, limit=2)
    assert [e.sequence for e in page] == [4, 5]
    assert await store.last_sequence() == 7
    assert find_chain_break(e.envelope for e in everything) is None


async def test_concurrent_appends_stay_dense_and_chained(store: EventStore) -> None:
    async def writer(n: int) -> None:
        for i in range(10):
            event = ThingMade(name=f"{n}") if i == 0 else ThingRenamed(name=f"{n}-{i}", reason="r")
            await store.append(Stream("thing", f"w{n}"), i, [event], CTX)

    await asyncio.gather(*(writer(n) for n in range(5)))
    log = await store.read_log()
    assert [e.sequence for e in log] == list(range(1, 51))
    assert find_chain_break(e.envelope for e in log) is None


async def test_many_writers_at_one_version_exactly_one_wins(store: EventStore) -> None:
    stream = Stream("thing", "contested")
    await store.append(stream, 0, [ThingMade(name="start")], CTX)

    async def contender(n: int) -> bool:
        try:
            await store.append(stream, 1, [ThingRenamed(name=f"by {n}", reason="race")], CTX)
        except ConcurrencyError:
            return False
        return True

    results = await asyncio.gather(*(contender(n) for n in range(12)))
    assert results.count(True) == 1
    assert await store.stream_version(stream) == 2


async def test_idempotency_record_commits_with_the_events(store: EventStore) -> None:
    response = StoredResponse(201, b'{"id":"t1"}', {"etag": '"1"'}, fingerprint="abc")
    async with store.transaction(CTX) as tx:
        await tx.append(Stream("thing", "t1"), 0, [ThingMade(name="a")])
        await tx.save_response("http", "key-1", response)
    assert await store.find_response("http", "key-1") == response
    assert await store.find_response("http", "other") is None


async def test_processed_message_is_claimed_once(store: EventStore) -> None:
    async with store.transaction(CTX) as tx:
        assert await tx.claim_message("consumer-a", "event-1") is True
        assert await tx.claim_message("consumer-a", "event-1") is False
        assert await tx.claim_message("consumer-b", "event-1") is True
    async with store.transaction(CTX) as tx:
        assert await tx.claim_message("consumer-a", "event-1") is False


async def test_read_model_rows_roll_back_with_a_failed_command(store: EventStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction(CTX) as tx:
            await tx.append(Stream("thing", "t1"), 0, [ThingMade(name="a")])
            raise RuntimeError("the command failed after appending")
    async with store.engines.reader.connect() as conn:
        assert (await conn.execute(select(things))).all() == []
    assert await store.read_log() == []


async def test_projections_rebuild_from_the_log(store: EventStore) -> None:
    await store.append(Stream("thing", "t1"), 0, [ThingMade(name="a"), ThingRenamed(name="b", reason="r")], CTX)
    await store.append(Stream("thing", "t2"), 0, [ThingMade(name="c")], CTX)
    async with store.engines.writer.begin() as conn:
        await conn.execute(things.update().values(name="corrupted"))
    assert await store.rebuild_projections() == 3
    async with store.engines.reader.connect() as conn:
        assert sorted((await conn.execute(select(things.c.id, things.c.name))).all()) == [("t1", "b"), ("t2", "c")]


async def test_positions_only_move_forward(store: EventStore) -> None:
    assert await store.position("relay") == 0
    await store.set_position("relay", 5)
    await store.set_position("relay", 3)
    assert await store.position("relay") == 5


async def test_read_case_returns_the_case_events_in_order(store: EventStore) -> None:
    await store.append(Stream("thing", "a"), 0, [ThingMade(name="a")], CommandContext("x", "c", caseid="k"))
    await store.append(Stream("thing", "b"), 0, [ThingMade(name="b")], CTX)
    await store.append(Stream("thing", "a"), 1, [ThingRenamed(name="a2", reason="r")], CommandContext("x", "c", "k"))
    assert [e.sequence for e in await store.read_case("k")] == [1, 3]


async def test_concurrent_transactions_commit_together_and_fail_alone(store: EventStore) -> None:
    """Group commit: one member's failure rolls back its own work only; every other member's work is durable."""

    async def member(n: int) -> int:
        async with store.transaction(CommandContext("staff:x", f"cmd-{n}")) as tx:
            await tx.append(Stream("thing", f"g{n}"), 0, [ThingMade(name=f"g{n}")])
            await tx.save_response("http", f"key-{n}", StoredResponse(201, b"{}", fingerprint="f"))
            await asyncio.sleep(0)  # let the others queue behind this one
            if n % 7 == 3:
                raise RuntimeError(f"command {n} failed after appending")
        return n

    results = await asyncio.gather(*(member(n) for n in range(30)), return_exceptions=True)
    failed = {n for n, result in enumerate(results) if isinstance(result, RuntimeError)}
    assert failed == {3, 10, 17, 24}
    log = await store.read_log()
    assert sorted(e.envelope.subject for e in log) == sorted(f"g{n}" for n in range(30) if n not in failed)
    assert [e.sequence for e in log] == list(range(1, 27))
    assert find_chain_break(e.envelope for e in log) is None
    for n in range(30):
        assert (await store.find_response("http", f"key-{n}") is None) == (n in failed)
    async with store.engines.reader.connect() as conn:
        assert len((await conn.execute(select(things))).all()) == 26


async def test_a_cancelled_waiter_does_not_strand_the_group(store: EventStore) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> None:
        async with store.transaction(CTX) as tx:
            await tx.append(Stream("thing", "slow"), 0, [ThingMade(name="slow")])
            entered.set()
            await release.wait()

    async def queued(n: int) -> None:
        async with store.transaction(CTX) as tx:
            await tx.append(Stream("thing", f"q{n}"), 0, [ThingMade(name="q")])

    first = asyncio.create_task(slow())
    await entered.wait()
    waiters = [asyncio.create_task(queued(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    for waiter in waiters:
        waiter.cancel()
    release.set()
    await asyncio.wait_for(first, timeout=10)
    assert [e.envelope.subject for e in await store.read_log()] == ["slow"]
    await asyncio.wait_for(queued(9), timeout=10)
    assert await store.last_sequence() == 2


async def test_two_stores_on_one_database_keep_one_chain(store: EventStore, database_url: str) -> None:
    """Another process appends between this one's groups: each group must read the log's tail afresh."""
    other = EventStore(create_engines(database_url), registry, projections=[ThingNames()])
    try:
        for n in range(6):
            writer = store if n % 2 == 0 else other
            async with writer.transaction(CommandContext("staff:x", f"cmd-{n}")) as tx:
                await tx.append(Stream("thing", f"t{n}"), 0, [ThingMade(name=f"t{n}")])
                await tx.append(Stream("thing", f"u{n}"), 0, [ThingMade(name=f"u{n}")])
    finally:
        await other.close()
    log = await store.read_log()
    assert [e.sequence for e in log] == list(range(1, 13))
    assert find_chain_break(e.envelope for e in log) is None


async def test_a_stream_read_in_the_transaction_is_checked_against_what_was_read(store: EventStore) -> None:
    stream = Stream("thing", "v1")
    await store.append(stream, 0, [ThingMade(name="a")], CTX)
    async with store.transaction(CTX) as tx:
        assert [e.envelope.streamversion for e in await tx.read_stream(stream)] == [1]
        assert await tx.stream_version(stream) == 1
        await tx.append(stream, 1, [ThingRenamed(name="b", reason="r")])
        assert await tx.stream_version(stream) == 2
        with pytest.raises(ConcurrencyError):
            await tx.append(stream, 1, [ThingRenamed(name="c", reason="stale")])
    assert [e.envelope.streamversion for e in await store.read_stream(stream)] == [1, 2]
