"""The relay makes the service's stream an exact copy of its log: every committed event once, in log order."""

import asyncio
import random
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType
from nats.js.errors import APIError
from sqlalchemy import insert, select, text

from jinlin.events import CloudEvent, DomainEvent, EventRegistry
from jinlin.messaging import (
    DEADLETTER_STREAM,
    Relay,
    RelayDivergedError,
    ensure_deadletter_stream,
    ensure_stream,
    event_headers,
)
from jinlin.runtime.nats_server import NatsServer
from jinlin.store import ANY_VERSION, CommandContext, EventStore, Stream, create_engines

STREAM = "TESTING"
SUBJECTS = "jinlin.testing.>"

registry = EventRegistry("testing")


@registry.register
class SlowThingDone(DomainEvent):
    n: int


async def assert_stream_is_the_log(js: JetStreamContext, store: EventStore, read_stream: Any) -> None:
    """Message i of the stream is event i of the log: same id, subject and body; nothing missing or extra."""
    log = await store.read_log(limit=100_000)
    messages = await read_stream(js, STREAM)
    assert [m.seq for m in messages] == [e.sequence for e in log] == list(range(1, len(log) + 1))
    assert [m.headers["Nats-Msg-Id"] for m in messages] == [e.id for e in log]
    assert [m.subject for m in messages] == [e.nats_subject for e in log]
    assert [CloudEvent.from_json_bytes(m.data) for m in messages] == [e.envelope for e in log]
    assert all(m.headers["Content-Type"] == "application/cloudevents+json" for m in messages)


@pytest.fixture
def js(nc: Client) -> JetStreamContext:
    return nc.jetstream()


async def test_relay_publishes_the_log_once_in_order_and_continues(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any, read_stream: Any
) -> None:
    assert await Relay(store, nc, stream=STREAM).publish_pending() == 0, "an empty store publishes nothing"

    await append_things(store, 20)
    await append_things(store, 9, start=20, per_transaction=3)
    relay = Relay(store, nc, stream=STREAM, batch_size=8)
    assert await relay.publish_pending() == 29
    await assert_stream_is_the_log(js, store, read_stream)
    assert await store.position("relay") == 29
    assert await relay.lag() == 0

    assert await relay.publish_pending() == 0
    assert await Relay(store, nc, stream=STREAM).publish_pending() == 0, "a restarted relay publishes nothing again"
    assert (await js.stream_info(STREAM)).state.messages == 29

    await append_things(store, 4, start=29)
    assert await relay.lag() == 4
    assert await relay.publish_pending() == 4
    await assert_stream_is_the_log(js, store, read_stream)
    assert await store.position("relay") == 33


async def test_streams_are_durable_and_ensuring_them_is_idempotent(js: JetStreamContext) -> None:
    # A stream someone made by hand with weaker settings is brought in line.
    await js.add_stream(name=STREAM, subjects=[SUBJECTS], storage=StorageType.FILE, duplicate_window=10)
    for _ in range(2):
        info = await ensure_stream(js, STREAM, SUBJECTS)
        dead = await ensure_deadletter_stream(js)
    for config in (info.config, dead.config):
        assert config.storage == StorageType.FILE
        assert (config.deny_delete, config.deny_purge) == (True, True)
        assert config.duplicate_window is not None
        assert config.duplicate_window >= 120
        assert not config.max_age, "no age limit: the stream is the audit trail"
    assert info.config.subjects == [SUBJECTS]
    assert dead.config.name == DEADLETTER_STREAM
    assert dead.config.subjects == ["jinlin.dlq.>"]

    ack = await js.publish("jinlin.testing.thing.t1.thing_counted", b"{}")
    with pytest.raises(APIError):
        await js.purge_stream(STREAM)
    with pytest.raises(APIError):
        await js.delete_msg(STREAM, ack.seq)
    assert (await js.stream_info(STREAM)).state.messages == 1


async def test_a_relay_that_died_before_recording_its_position_resumes_from_the_stream(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any, read_stream: Any
) -> None:
    await append_things(store, 12)
    assert await Relay(store, nc, stream=STREAM).publish_pending() == 12
    await append_things(store, 10, start=12)
    # A relay published events 13-15 and was killed before it recorded position 15.
    for event in await store.read_log(after=12, limit=3):
        await js.publish(event.nats_subject, event.envelope.to_json_bytes(), headers=event_headers(event, STREAM))
    assert await store.position("relay") == 12

    relay = Relay(store, nc, stream=STREAM)
    assert await relay.publish_pending() == 7
    await assert_stream_is_the_log(js, store, read_stream)
    assert await store.position("relay") == 22


async def test_a_stale_publish_is_refused_by_the_stream(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any, read_stream: Any
) -> None:
    """A publish retried after its ack was lost (or sent twice by two relays) cannot land a second time."""
    await append_things(store, 3)
    await Relay(store, nc, stream=STREAM).publish_pending()
    second = (await store.read_log(after=1, limit=1))[0]
    with pytest.raises(APIError) as refused:
        await js.publish(second.nats_subject, second.envelope.to_json_bytes(), headers=event_headers(second, STREAM))
    assert refused.value.err_code == 10071, "wrong last sequence"
    await assert_stream_is_the_log(js, store, read_stream)


async def test_relay_stops_loudly_rather_than_skip_past_a_foreign_message(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any
) -> None:
    await append_things(store, 2)
    await Relay(store, nc, stream=STREAM).publish_pending()
    await js.publish("jinlin.testing.thing.x.intruder", b"not from the log")
    await append_things(store, 2, start=2)
    with pytest.raises(RelayDivergedError, match="message 3 is not the log's event 3"):
        await Relay(store, nc, stream=STREAM).publish_pending()
    assert (await js.stream_info(STREAM)).state.messages == 3, "nothing was published past the foreign message"


async def test_relay_checks_every_message_it_did_not_see_acknowledged(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any
) -> None:
    """A foreign message landed in the middle of a pipelined batch, and the next event was accepted after it:
    the stream's last message is the log's, but an event is missing. The relay must not take the last one's word."""
    await append_things(store, 5)
    await Relay(store, nc, stream=STREAM).publish_pending()
    await append_things(store, 3, start=5)
    sixth, seventh, _ = await store.read_log(after=5)
    await js.publish("jinlin.testing.thing.x.intruder", b"not from the log")  # took position 6
    await js.publish(seventh.nats_subject, seventh.envelope.to_json_bytes(), headers=event_headers(seventh, STREAM))
    assert sixth.sequence == 6
    with pytest.raises(RelayDivergedError, match="message 6 is not the log's event 6"):
        await Relay(store, nc, stream=STREAM).publish_pending()


async def test_relay_never_publishes_past_a_hole_in_the_log(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any, read_stream: Any
) -> None:
    """Defence in depth: if a position ever committed late, the relay waits for it instead of skipping it."""
    from jinlin.store.schema import events as events_table

    await append_things(store, 6)
    rows = [dict(row._mapping) for row in (await _select_all(store, events_table)) if row.sequence in (4, 5, 6)]
    async with store.engines.writer.begin() as conn:
        await conn.execute(events_table.delete().where(events_table.c.sequence >= 4))
        await conn.execute(insert(events_table), [rows[1], rows[2]])  # 5 and 6 are visible, 4 is not (yet)
    relay = Relay(store, nc, stream=STREAM)
    assert await relay.publish_pending() == 3
    assert (await js.stream_info(STREAM)).state.last_seq == 3

    async with store.engines.writer.begin() as conn:
        await conn.execute(insert(events_table), [rows[0]])  # the late commit
    assert await relay.publish_pending() == 3
    await assert_stream_is_the_log(js, store, read_stream)


async def _select_all(store: EventStore, table: Any) -> list[Any]:
    async with store.engines.reader.connect() as conn:
        return list((await conn.execute(select(table).order_by(table.c.sequence))).all())


async def test_notify_wakes_the_relay_at_once(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any, eventually: Any
) -> None:
    relay = Relay(store, nc, stream=STREAM, poll_interval=30)
    running = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _published(relay, 0), timeout=5, what="relay started")
        await append_things(store, 3)
        relay.notify()
        await eventually(lambda: _published(relay, 3), timeout=5, what="published after notify()")
    finally:
        await relay.stop()
    assert running.done()


async def _published(relay: Relay, count: int) -> bool:
    return relay.published == count


async def test_relay_killed_with_sigkill_between_commit_and_publish(
    store: EventStore,
    sqlite_url: str,
    nats_server: NatsServer,
    js: JetStreamContext,
    append_things: Any,
    read_stream: Any,
    eventually: Any,
    children: Any,
) -> None:
    await ensure_stream(js, STREAM, SUBJECTS)
    total = 400

    async def writer() -> None:
        for start in range(0, total, 2):
            await append_things(store, 2, start=start, per_transaction=random.choice([1, 2]))
            await asyncio.sleep(0.003)

    async def stream_last() -> int:
        return (await js.stream_info(STREAM)).state.last_seq

    writing = asyncio.create_task(writer())
    relay = children.start("relay_child.py", sqlite_url, nats_server.url, STREAM)
    kills_with_backlog = 0
    for _ in range(5):
        seen = await stream_last()
        await eventually(lambda s=seen: _advanced(stream_last, s), timeout=30, what="the relay child publishing")
        await asyncio.sleep(random.uniform(0, 0.05))  # a random moment while it is publishing
        children.kill(relay)
        if await store.last_sequence() > await stream_last():
            kills_with_backlog += 1
        relay = children.start("relay_child.py", sqlite_url, nats_server.url, STREAM)
    await writing

    async def caught_up() -> bool:
        return await stream_last() == await store.last_sequence() == total

    await eventually(caught_up, timeout=30, what=f"all {total} events in the stream\n{children.logs()}")
    await assert_stream_is_the_log(js, store, read_stream)
    assert kills_with_backlog >= 1, "at least one kill left committed events unpublished"


async def _advanced(stream_last: Any, seen: int) -> bool:
    return bool(await stream_last() > seen)


async def test_relay_across_a_nats_server_kill_and_restart(
    store: EventStore,
    nc: Client,
    js: JetStreamContext,
    nats_server: NatsServer,
    append_things: Any,
    read_stream: Any,
    eventually: Any,
) -> None:
    relay = Relay(store, nc, stream=STREAM, poll_interval=0.02, ack_timeout=2, max_backoff=0.5)
    running = asyncio.create_task(relay.run())
    await append_things(store, 50)
    await eventually(lambda: _at_least(relay, 10), what="publishing under way")

    nats_server.kill()
    await append_things(store, 50, start=50)  # committed while NATS is down
    relay.notify()
    await eventually(lambda: _failed(relay), timeout=10, what="the relay noticing the outage")
    assert await relay.lag() > 0
    nats_server.start()
    await append_things(store, 50, start=100)

    await eventually(lambda: _at_least(relay, 150), timeout=40, what="everything published after the restart")
    await relay.stop()
    assert running.done()
    await assert_stream_is_the_log(js, store, read_stream)


async def _at_least(relay: Relay, count: int) -> bool:
    return (relay.published or 0) >= count


async def _failed(relay: Relay) -> bool:
    return relay.errors_total > 0


async def test_late_commit_on_postgresql_is_published_in_its_place(
    postgres_url: str, nc: Client, js: JetStreamContext, append_things: Any, read_stream: Any, eventually: Any
) -> None:
    """A slow transaction holds an earlier position while others try to commit: nothing is skipped or reordered."""
    store = EventStore(create_engines(postgres_url), registry)
    await store.create_schema()
    relay = Relay(store, nc, stream=STREAM, poll_interval=0.01)
    running = asyncio.create_task(relay.run())
    try:
        await append_things(store, 5)
        await eventually(lambda: _at_least(relay, 5), what="first events published")

        holding = asyncio.Event()
        release = asyncio.Event()

        async def slow_writer() -> int:
            async with store.transaction(CommandContext("test", "cmd-slow")) as tx:
                [event] = await tx.append(Stream("thing", "slow"), ANY_VERSION, [SlowThingDone(n=0)])
                holding.set()
                await release.wait()
            return event.sequence

        slow = asyncio.create_task(slow_writer())
        await holding.wait()
        # Other writers are other processes (replicas): stores of their own, queueing on the database's lock.
        # (Writers of one store queue in-process and commit as a group; see jinlin.store.group_commit.)
        replicas = [EventStore(create_engines(postgres_url), registry) for _ in range(8)]
        fast = [asyncio.create_task(append_things(replica, 1, start=100 + i)) for i, replica in enumerate(replicas)]
        await eventually(lambda: _writers_waiting(store, 8), what="the other writers queued behind the slow one")
        # A window for the relay to run ahead (30 polls); what is asserted is that it did not.
        await asyncio.sleep(0.3)
        assert relay.published == 5
        assert (await js.stream_info(STREAM)).state.last_seq == 5

        release.set()
        assert await slow == 6, "the slow transaction kept the earlier position"
        await asyncio.gather(*fast)
        await eventually(lambda: _at_least(relay, 14), what="everything published")
        await relay.stop()
        assert running.done()
        await assert_stream_is_the_log(js, store, read_stream)
        assert (await store.read_log())[5].envelope.subject == "slow"
        for replica in replicas:
            await replica.close()
    finally:
        await relay.stop()
        await store.close()


async def _writers_waiting(store: EventStore, count: int) -> bool:
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    async with store.engines.reader.connect() as conn:
        return bool((await conn.execute(query)).scalar_one() >= count)


async def test_a_running_relay_records_its_position_now_and_then_not_per_commit(
    store: EventStore, nc: Client, js: JetStreamContext, append_things: Any, read_stream: Any, eventually: Any
) -> None:
    """Each record is a write transaction competing with the commands: once per interval, and when it stops."""
    relay = Relay(store, nc, stream=STREAM, position_interval=60)
    recorded: list[int] = []
    real_set_position = store.set_position

    async def counting(name: str, position: int) -> None:
        recorded.append(position)
        await real_set_position(name, position)

    store.set_position = counting  # type: ignore[method-assign]
    running = asyncio.create_task(relay.run())
    try:
        for n in range(10):
            await append_things(store, 1, start=n)
            relay.notify()
            await eventually(lambda n=n: _published(relay, n + 1), timeout=5, what=f"event {n + 1} published")
        assert len(recorded) <= 1, f"recorded after every commit: {recorded}"
    finally:
        await relay.stop()
    assert running.done()
    assert await store.position("relay") == 10, "the position is recorded when the relay stops"
    await assert_stream_is_the_log(js, store, read_stream)
