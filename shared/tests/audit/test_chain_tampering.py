"""Altering, deleting or reordering one stored event breaks the chain at that event's position."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select, update

from jinlin.audit import compare_store_with_stream
from jinlin.audit.verify import read_whole_log
from jinlin.events import DomainEvent, EventRegistry
from jinlin.store import CommandContext, EventStore, Stream, create_engines
from jinlin.store.schema import events

registry = EventRegistry("testing")


@registry.register
class Noted(DomainEvent):
    text: str


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    store = EventStore(create_engines(database_url), registry)
    await store.create_schema()
    for i in range(6):
        await store.append(Stream("note", f"n{i % 2}"), i // 2, [Noted(text=f"note {i}")], CommandContext("a", "c"))
    yield store
    await store.close()


async def _first_bad(store: EventStore) -> int | None:
    report = compare_store_with_stream("testing", await read_whole_log(store), None)
    return report.first_bad_position


async def test_untouched_log_verifies(store: EventStore) -> None:
    assert await _first_bad(store) is None


async def test_altered_event_is_named(store: EventStore) -> None:
    async with store.engines.writer.begin() as conn:
        await conn.execute(update(events).where(events.c.sequence == 4).values(data='{"text":"forged"}'))
    assert await _first_bad(store) == 4


async def test_altered_actor_is_named(store: EventStore) -> None:
    async with store.engines.writer.begin() as conn:
        await conn.execute(update(events).where(events.c.sequence == 2).values(actor="someone-else"))
    assert await _first_bad(store) == 2


async def test_deleted_event_is_named(store: EventStore) -> None:
    async with store.engines.writer.begin() as conn:
        await conn.execute(delete(events).where(events.c.sequence == 3))
    assert await _first_bad(store) == 3


async def test_deleted_last_event_is_not_detectable_from_the_store_alone(store: EventStore) -> None:
    """Why the audit also compares with JetStream: truncating the tail leaves a valid, shorter chain."""
    async with store.engines.writer.begin() as conn:
        await conn.execute(delete(events).where(events.c.sequence == 6))
    assert await _first_bad(store) is None


async def test_reordered_events_are_named(store: EventStore) -> None:
    async with store.engines.writer.begin() as conn:
        rows = {r.sequence: r for r in (await conn.execute(select(events).where(events.c.sequence.in_([2, 3])))).all()}
        # Swap the contents of positions 2 and 3, keeping the positions themselves.
        await conn.execute(delete(events).where(events.c.sequence.in_([2, 3])))
        for position, source in ((2, rows[3]), (3, rows[2])):
            values = source._asdict() | {"sequence": position}
            await conn.execute(events.insert().values(**values))
    assert await _first_bad(store) == 2
