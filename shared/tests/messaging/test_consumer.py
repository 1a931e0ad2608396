"""Durable consumers apply each event exactly once, retry transient failures and dead-letter what cannot be done."""

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import OperationalError

from jinlin.events import CloudEvent, EventRegistry
from jinlin.messaging import (
    DEADLETTER_STREAM,
    DLQ_CONSUMER,
    DLQ_DELIVERIES,
    DLQ_ORIGINAL_MSG_ID,
    DLQ_REASON,
    DLQ_STREAM,
    DLQ_STREAM_SEQ,
    DLQ_SUBJECT,
    DurableConsumer,
    PermanentError,
    Relay,
    ensure_deadletter_stream,
    ensure_stream,
)
from jinlin.runtime.nats_server import NatsServer
from jinlin.store import EventStore, StoredEvent, Transaction, create_engines

STREAM = "TESTING"
SUBJECTS = "jinlin.testing.>"
DURABLE = "reader-things"

# The same table the consumer child writes (consumer_child.py): one row per application of an event.
effects_metadata = MetaData()
effects = Table(
    "effects",
    effects_metadata,
    Column("row", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("pid", Integer, nullable=False),
)


@pytest.fixture
def js(nc: Client) -> JetStreamContext:
    return nc.jetstream()


@pytest.fixture
def reader_url(tmp_path: Path) -> str:
    """The consuming service's own database, apart from the publishing service's store."""
    return f"sqlite+aiosqlite:///{tmp_path / 'reader.sqlite3'}"


@pytest.fixture
async def reader(reader_url: str) -> AsyncIterator[EventStore]:
    store = EventStore(create_engines(reader_url), EventRegistry("reader"))
    await store.create_schema(effects_metadata)
    yield store
    await store.close()


@pytest.fixture
async def advisories(nc: Client) -> AsyncIterator[list[Msg]]:
    """Every ``term()`` advisory the server emits during the test (there must be none)."""
    seen: list[Msg] = []

    async def collect(msg: Msg) -> None:
        seen.append(msg)

    subscription = await nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>", cb=collect)
    yield seen
    await subscription.unsubscribe()


async def publish_things(store: EventStore, nc: Client, append_things: Any, count: int) -> list[StoredEvent]:
    events = await append_things(store, count, start=await store.last_sequence())
    await Relay(store, nc, stream=STREAM).publish_pending()
    return list(events)


async def record_effect(tx: Transaction, event: CloudEvent) -> None:
    await tx.connection.execute(insert(effects).values(event_id=event.id, pid=0))


async def applied(reader: EventStore) -> Counter[str]:
    async with reader.engines.reader.connect() as conn:
        return Counter((await conn.execute(select(effects.c.event_id))).scalars().all())


async def all_acked(js: JetStreamContext) -> bool:
    try:
        info = await js.consumer_info(STREAM, DURABLE)
    except NotFoundError:
        return False  # not created yet
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)


class Running:
    """Consumers running in the background until the end of the test."""

    def __init__(self) -> None:
        self.consumers: list[DurableConsumer] = []
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, consumer: DurableConsumer) -> DurableConsumer:
        self.consumers.append(consumer)
        self.tasks.append(asyncio.create_task(consumer.run()))
        return consumer

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        assert all(task.done() for task in self.tasks), "stop() ends run()"


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    running = Running()
    yield running
    await running.stop()


def new_consumer(nc: Client, reader: EventStore, handler: Any, **options: Any) -> DurableConsumer:
    options = {"backoff": [0.2], "ack_wait": 2.0, "fetch_timeout": 0.5, **options}
    return DurableConsumer(
        nc, reader, stream=STREAM, durable=DURABLE, filter_subjects=SUBJECTS, handler=handler, **options
    )


async def test_a_transient_failure_is_retried_and_applied_once_never_terminated(
    store: EventStore,
    reader: EventStore,
    nc: Client,
    js: JetStreamContext,
    append_things: Any,
    eventually: Any,
    running: Running,
    advisories: list[Msg],
) -> None:
    events = await publish_things(store, nc, append_things, 30)
    flaky = {event.id for event in events[::3]}
    attempts: Counter[str] = Counter()

    async def fails_once(tx: Transaction, event: CloudEvent) -> None:
        attempts[event.id] += 1
        await record_effect(tx, event)  # written, then rolled back by the failure
        if event.id in flaky and attempts[event.id] == 1:
            raise ConnectionResetError("the downstream service hung up")

    consumer = new_consumer(nc, reader, fails_once)
    running.start(consumer)

    async def done() -> bool:
        return sum((await applied(reader)).values()) >= 30 and await all_acked(js)

    await eventually(done, what="all 30 events applied and acked")
    assert await applied(reader) == Counter({event.id: 1 for event in events})
    assert {event_id for event_id, count in attempts.items() if count == 2} == flaky
    assert (consumer.processed, consumer.retried, consumer.dead_lettered) == (30, 10, 0)
    assert (await js.stream_info(DEADLETTER_STREAM)).state.messages == 0
    await nc.flush()
    assert advisories == [], "no message was terminated"


async def test_poison_messages_are_dead_lettered_with_their_reason_and_the_rest_processed(
    store: EventStore,
    reader: EventStore,
    nc: Client,
    js: JetStreamContext,
    append_things: Any,
    eventually: Any,
    running: Running,
    advisories: list[Msg],
) -> None:
    await ensure_stream(js, STREAM, SUBJECTS)
    events = await append_things(store, 8)
    poison_subject = "jinlin.testing.thing.t0.thing_counted"
    # Published by hand so that garbage can sit between valid events (the relay would refuse to publish past it).
    for event in events[:4]:
        await js.publish(event.nats_subject, event.envelope.to_json_bytes(), headers={"Nats-Msg-Id": event.id})
    garbage = await js.publish(poison_subject, b"\x00 not json", headers={"Nats-Msg-Id": "garbage-1"})
    for event in events[4:]:
        await js.publish(event.nats_subject, event.envelope.to_json_bytes(), headers={"Nats-Msg-Id": event.id})
    always_failing, hopeless = events[2], events[6]
    attempts: Counter[str] = Counter()

    async def picky(tx: Transaction, event: CloudEvent) -> None:
        attempts[event.id] += 1
        if event.id == always_failing.id:
            raise RuntimeError("ledger rejects this entry")
        if event.id == hopeless.id:
            raise PermanentError("refers to a case that does not exist")
        await record_effect(tx, event)

    consumer = new_consumer(nc, reader, picky, max_deliver=3)
    await consumer.ensure()
    running.start(consumer)

    async def done() -> bool:
        dead = (await js.stream_info(DEADLETTER_STREAM)).state.messages
        return dead >= 3 and sum((await applied(reader)).values()) >= 6 and await all_acked(js)

    await eventually(done, what="3 dead letters, 6 effects, nothing left unacked")
    expected = {e.id: 1 for e in events if e not in (always_failing, hopeless)}
    assert await applied(reader) == Counter(expected), "the messages after the poison were processed"
    assert attempts[always_failing.id] == 3, "bounded retries"
    assert attempts[hopeless.id] == 1, "a PermanentError is not retried"
    assert consumer.dead_lettered == 3

    dead_letters = [await js.get_msg(DEADLETTER_STREAM, seq=seq) for seq in (1, 2, 3)]
    by_subject_seq = {int(m.headers[DLQ_STREAM_SEQ]): m for m in dead_letters}
    assert {m.subject for m in dead_letters} == {"jinlin.dlq.reader.reader-things"}

    poison = by_subject_seq[garbage.seq]
    assert poison.data == b"\x00 not json"
    assert poison.headers[DLQ_REASON].startswith("PermanentError: not a CloudEvent")
    assert poison.headers[DLQ_SUBJECT] == poison_subject
    assert (poison.headers[DLQ_STREAM], poison.headers[DLQ_CONSUMER]) == (STREAM, DURABLE)
    assert (poison.headers[DLQ_DELIVERIES], poison.headers[DLQ_ORIGINAL_MSG_ID]) == ("1", "garbage-1")

    failing = by_subject_seq[always_failing.sequence]
    assert failing.headers[DLQ_REASON] == "RuntimeError: ledger rejects this entry"
    assert failing.headers[DLQ_DELIVERIES] == "3"
    assert CloudEvent.from_json_bytes(failing.data) == always_failing.envelope, "the original body, unchanged"
    assert failing.headers[DLQ_ORIGINAL_MSG_ID] == always_failing.id

    gave_up = by_subject_seq[hopeless.sequence + 1]  # the garbage sits before it in the stream
    assert gave_up.headers[DLQ_REASON] == "PermanentError: refers to a case that does not exist"
    assert gave_up.headers[DLQ_DELIVERIES] == "1"
    await nc.flush()
    assert advisories == [], "dead-lettered messages are acked, never terminated"


async def test_a_database_outage_is_retried_past_max_deliver_not_dead_lettered(
    store: EventStore,
    reader: EventStore,
    nc: Client,
    js: JetStreamContext,
    append_things: Any,
    eventually: Any,
    running: Running,
) -> None:
    events = await publish_things(store, nc, append_things, 3)
    outage = {"attempts_left": 5}

    async def database_down_for_a_while(tx: Transaction, event: CloudEvent) -> None:
        if outage["attempts_left"] > 0:
            outage["attempts_left"] -= 1
            raise OperationalError("INSERT ...", {}, ConnectionRefusedError("database is restarting"))
        await record_effect(tx, event)

    running.start(new_consumer(nc, reader, database_down_for_a_while, max_deliver=2))

    async def done() -> bool:
        return sum((await applied(reader)).values()) >= 3 and await all_acked(js)

    await eventually(done, what="all events applied once the database is back")
    assert await applied(reader) == Counter({event.id: 1 for event in events})
    assert (await js.stream_info(DEADLETTER_STREAM)).state.messages == 0


async def test_consumer_killed_with_sigkill_mid_batch_applies_every_effect_once(
    store: EventStore,
    reader: EventStore,
    reader_url: str,
    nc: Client,
    js: JetStreamContext,
    nats_server: NatsServer,
    append_things: Any,
    eventually: Any,
    children: Any,
) -> None:
    total = 150
    events = await publish_things(store, nc, append_things, total)
    arguments = (reader_url, nats_server.url, STREAM, DURABLE)

    async def rows() -> int:
        return sum((await applied(reader)).values())

    child = children.start("consumer_child.py", *arguments)
    for _ in range(4):
        before = await rows()
        # Past a whole batch of progress, then a random moment inside the next one.
        await eventually(lambda b=before: _more_rows(rows, b + 12), timeout=30, what=f"progress\n{children.logs()}")
        await asyncio.sleep(random.uniform(0, 0.1))
        children.kill(child)
        child = children.start("consumer_child.py", *arguments)

    async def done() -> bool:
        return await rows() >= total and await all_acked(js)

    await eventually(done, timeout=60, what=f"all {total} effects\n{children.logs()}")
    assert await applied(reader) == Counter({event.id: 1 for event in events}), "each effect exactly once"
    async with reader.engines.reader.connect() as conn:
        pids = (await conn.execute(select(func.count(func.distinct(effects.c.pid))))).scalar_one()
    assert pids >= 2, "the work was split across killed and restarted processes"


async def test_a_redelivery_after_a_lost_ack_changes_nothing(
    store: EventStore,
    reader: EventStore,
    nc: Client,
    js: JetStreamContext,
    append_things: Any,
    eventually: Any,
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process died after its commit but before its ack reached the server: the event comes back."""
    events = await publish_things(store, nc, append_things, 4)
    real_ack = Msg.ack
    lost: set[int] = set()

    async def ack_lost_the_first_time(msg: Msg) -> None:
        sequence = msg.metadata.sequence.stream
        if sequence not in lost:
            lost.add(sequence)
            return
        await real_ack(msg)

    monkeypatch.setattr(Msg, "ack", ack_lost_the_first_time)
    consumer = new_consumer(nc, reader, record_effect, ack_wait=0.5)
    running.start(consumer)
    await eventually(lambda: all_acked(js), timeout=15, what="every message acked on its redelivery")
    assert await applied(reader) == Counter({event.id: 1 for event in events})
    assert (consumer.processed, consumer.duplicates) == (4, 4)


async def _more_rows(rows: Any, before: int) -> bool:
    return bool(await rows() > before)


async def test_consumer_goes_on_after_a_nats_server_kill_and_restart(
    store: EventStore,
    reader: EventStore,
    nc: Client,
    js: JetStreamContext,
    nats_server: NatsServer,
    append_things: Any,
    eventually: Any,
    running: Running,
) -> None:
    first = await publish_things(store, nc, append_things, 10)
    consumer = new_consumer(nc, reader, record_effect)
    running.start(consumer)
    await eventually(lambda: _count_at_least(reader, 10), what="first events applied")

    nats_server.kill()
    await eventually(lambda: _disconnected(nc), timeout=10, what="the client noticing the outage")
    await asyncio.sleep(1.0)  # down for a couple of fetch rounds (fetch_timeout 0.5 s)
    nats_server.start()
    relay = Relay(store, nc, stream=STREAM)
    await append_things(store, 10, start=10)

    async def published() -> bool:
        try:
            await relay.publish_pending()
        except Exception:
            return False  # JetStream may still be recovering right after the restart
        return True

    await eventually(published, what="publishing after the restart")
    second = (await store.read_log())[10:]

    async def done() -> bool:
        return await _count_at_least(reader, 20) and await all_acked(js)

    await eventually(done, timeout=30, what="events published after the restart applied")
    assert await applied(reader) == Counter({event.id: 1 for event in [*first, *second]})


async def _count_at_least(reader: EventStore, count: int) -> bool:
    return sum((await applied(reader)).values()) >= count


async def _disconnected(nc: Client) -> bool:
    return not nc.is_connected


async def test_consumer_config_retries_on_the_server_without_dropping(
    reader: EventStore, nc: Client, js: JetStreamContext
) -> None:
    await ensure_stream(js, STREAM, SUBJECTS)
    await ensure_deadletter_stream(js)
    consumer = new_consumer(nc, reader, record_effect, ack_wait=10.0, backoff=[1.0, 5.0])
    await consumer.ensure()
    await consumer.ensure()  # idempotent on every start
    config = (await js.consumer_info(STREAM, DURABLE)).config
    assert config.ack_policy == "explicit"
    assert config.durable_name == DURABLE
    assert config.backoff == [11.0, 15.0], "each ack deadline is the allowance plus the retry delay"
    assert config.max_deliver == -1, "the bound is enforced by the consumer, which dead-letters instead of dropping"
    assert config.filter_subjects == [SUBJECTS] or config.filter_subject == SUBJECTS


@pytest.mark.parametrize("late_starts", [False, True], ids=["in-order", "late-starts"])
async def test_messages_are_handled_together_but_applied_in_stream_order(
    store: EventStore,
    reader: EventStore,
    nc: Client,
    js: JetStreamContext,
    append_things: Any,
    eventually: Any,
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
    late_starts: bool,
) -> None:
    """The messages in hand are handled concurrently (their transactions share commits), yet each handler runs after
    the one of the message delivered before it, as one at a time; also when transactions do not begin in the order
    they were asked for (a store that waits before its write section)."""
    events = await publish_things(store, nc, append_things, 120)
    if late_starts:
        real_transaction = reader.transaction

        @contextlib.asynccontextmanager
        async def late(context: Any) -> AsyncIterator[Transaction]:
            await asyncio.sleep(random.uniform(0, 0.003))
            async with real_transaction(context) as tx:
                yield tx

        monkeypatch.setattr(reader, "transaction", late)
    order: list[int] = []
    in_hand: list[int] = []
    handling = 0

    async def slow_and_uneven(tx: Transaction, event: CloudEvent) -> None:
        await asyncio.sleep(random.uniform(0, 0.004))
        await record_effect(tx, event)
        order.append(event.sequence)

    consumer = new_consumer(nc, reader, slow_and_uneven, batch_size=40)
    real_apply = consumer._apply

    async def counting_apply(*args: Any) -> bool:
        nonlocal handling
        handling += 1
        in_hand.append(handling)
        try:
            return await real_apply(*args)
        finally:
            handling -= 1

    consumer._apply = counting_apply  # type: ignore[method-assign,assignment]
    running.start(consumer)

    async def done() -> bool:
        return sum((await applied(reader)).values()) >= 120 and await all_acked(js)

    await eventually(done, what="all 120 events applied and acked")
    assert await applied(reader) == Counter({event.id: 1 for event in events})
    assert order == [event.sequence for event in events], "applied in stream order"
    assert max(in_hand) > 1, "several messages were in their transactions at once"
