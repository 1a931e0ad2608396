"""One active relay per store, and a takeover when it dies.

Replicas of a service share its store; each runs a :class:`ServiceRuntime`, and only the one holding the store's
relay leadership relays (``jinlin_relay_leader`` 1). When the leader's process is SIGKILLed, or its database
session is cut, another replica takes over within a few seconds, and the stream still holds every event of the
log exactly once, in log order. A leader that cannot reach NATS lets a replica that can take over.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client
from prometheus_client.parser import text_string_to_metric_families

from jinlin.messaging import connect_nats
from jinlin.runtime.leadership import FileLock, Leadership, relay_lock_key
from jinlin.runtime.nats_server import NatsServer
from jinlin.runtime.service_runtime import ServiceRuntime
from jinlin.store import EventStore
from tests.cluster.leader_child import STREAM, make_runtime, record_beats
from tests.faults.checker import eventually

CHILD = Path(__file__).with_name("leader_child.py")
TAKEOVER_WITHIN = 5.0
"""Seconds: followers retry every second; the lock of a dead process is free at once."""


async def leader_gauge(runtime: ServiceRuntime) -> float:
    content, _ = await runtime.metrics.render()
    for family in text_string_to_metric_families(content.decode()):
        for sample in family.samples:
            if sample.name == "jinlin_relay_leader":
                return sample.value
    raise AssertionError("/metrics has no jinlin_relay_leader")


async def assert_stream_is_the_log(nc: Client, store: EventStore) -> None:
    """Message i of the stream is event i of the log: nothing missing, nothing twice, nothing out of order."""
    js = nc.jetstream()
    log = await store.read_log(limit=100_000)
    info = await js.stream_info(STREAM)
    assert info.state.last_seq == len(log), f"stream holds {info.state.last_seq} messages, the log {len(log)} events"
    ids = [(await js.get_msg(STREAM, seq=seq)).headers["Nats-Msg-Id"] for seq in range(1, info.state.last_seq + 1)]
    assert ids == [event.id for event in log]
    assert len(set(ids)) == len(ids)


async def relayed_everything(nc: Client, store: EventStore) -> bool:
    return (await nc.jetstream().stream_info(STREAM)).state.last_seq == await store.last_sequence()


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await connect_nats(nats_server.url, name="leadership-test", first_connect_timeout=10)
    yield client
    await client.close()


@pytest.fixture
async def runtimes() -> AsyncIterator[list[ServiceRuntime]]:
    """Runtimes a test starts in this process; stopped at the end."""
    started: list[ServiceRuntime] = []
    yield started
    for runtime in started:
        with contextlib.suppress(Exception):
            await runtime.stop()


@pytest.fixture
def child_log(tmp_path: Path) -> Path:
    return tmp_path / "leader-child.log"


@pytest.fixture
def leader_child(child_log: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    spawned: list[subprocess.Popen[bytes]] = []
    yield spawned
    for process in spawned:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()


async def test_one_replica_relays_and_another_takes_over_when_its_process_is_killed(
    database_url: str,
    nats_server: NatsServer,
    nc: Client,
    runtimes: list[ServiceRuntime],
    leader_child,
    child_log,
    figures,
) -> None:
    with child_log.open("wb") as log:
        child = subprocess.Popen([sys.executable, str(CHILD), database_url, nats_server.url], stdout=log, stderr=log)
    leader_child.append(child)
    js = nc.jetstream()

    async def child_relays() -> bool:
        assert child.poll() is None, f"the child died: {child_log.read_text()}"
        with contextlib.suppress(Exception):
            return (await js.stream_info(STREAM)).state.last_seq >= 20
        return False

    await eventually(child_relays, timeout=30, what="the first replica relays its commits")

    follower = make_runtime(database_url, nats_server.url)
    await follower.start()
    runtimes.append(follower)

    async def campaigned() -> bool:
        return follower.is_leader or (follower.leadership is not None and follower.leadership.attempts >= 3)

    await eventually(campaigned, timeout=15, what="the second replica tries to lead three times")
    assert not follower.is_leader, "a second replica took the lock while the leader was alive"
    assert await leader_gauge(follower) == 0
    await record_beats(follower, 10, writer="follower")  # a follower takes commands; the leader relays them
    await eventually(lambda: relayed_everything(nc, follower.store), timeout=10, what="the leader relays them")

    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed = time.monotonic()

    async def took_over() -> bool:
        return follower.is_leader

    await eventually(took_over, timeout=TAKEOVER_WITHIN, what="the follower takes over", interval=0.05)
    takeover = time.monotonic() - killed
    assert await leader_gauge(follower) == 1
    await record_beats(follower, 30, writer="follower", start=10)
    await eventually(lambda: relayed_everything(nc, follower.store), timeout=15, what="the new leader relays all")
    await assert_stream_is_the_log(nc, follower.store)
    figures("takeover after SIGKILL of the leader's process", f"{takeover:.2f} s")


async def _lock_holder(admin: asyncpg.Connection) -> int | None:
    key = relay_lock_key(STREAM)
    pid = await admin.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2"
        " AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        key >> 32,
        key & 0xFFFFFFFF,
    )
    return int(pid) if pid is not None else None


async def test_a_leader_whose_database_session_is_cut_steps_down_and_the_other_takes_over(
    postgres_url: str, nats_server: NatsServer, nc: Client, runtimes: list[ServiceRuntime], figures
) -> None:
    first, second = make_runtime(postgres_url, nats_server.url), make_runtime(postgres_url, nats_server.url)
    for runtime in (first, second):
        await runtime.start()
        runtimes.append(runtime)

    async def one_leader() -> bool:
        return [first.is_leader, second.is_leader].count(True) == 1

    await eventually(one_leader, timeout=15, what="exactly one of two replicas leads")
    leader, follower = (first, second) if first.is_leader else (second, first)
    assert (await leader_gauge(leader), await leader_gauge(follower)) == (1, 0)

    writers = asyncio.gather(
        record_beats(leader, 40, writer="a"), record_beats(follower, 40, writer="b"), return_exceptions=True
    )
    admin = await asyncpg.connect(postgres_url)
    try:
        holder = await _lock_holder(admin)
        assert holder is not None, "the leader holds no advisory lock"
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", holder)
        cut = time.monotonic()

        async def swapped() -> bool:
            return follower.is_leader and not leader.is_leader

        await eventually(
            swapped, timeout=TAKEOVER_WITHIN, what="the other replica leads, the cut one not", interval=0.05
        )
        takeover = time.monotonic() - cut
        new_holder = await _lock_holder(admin)
        assert new_holder not in (None, holder)
    finally:
        await admin.close()
    assert not [error for error in await writers if error is not None], "commands failed during the takeover"
    assert (await leader_gauge(leader), await leader_gauge(follower)) == (0, 1)

    # A replica stopping cleanly hands over too: it releases the lock on its way out.
    await follower.stop()
    runtimes.remove(follower)
    await eventually(lambda: _is_leader(leader), timeout=TAKEOVER_WITHIN, what="the first replica leads again")
    await record_beats(leader, 10, writer="a", start=40)
    await eventually(lambda: relayed_everything(nc, leader.store), timeout=15, what="everything relayed")
    await assert_stream_is_the_log(nc, leader.store)
    figures("takeover after the leader's database session was cut", f"{takeover:.2f} s")


async def _is_leader(runtime: ServiceRuntime) -> bool:
    return runtime.is_leader


class Duty:
    """A stand-in for the relay: runs until stopped, and says whether it is running."""

    def __init__(self) -> None:
        self.running = False
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.running = True
        try:
            await self._stop.wait()
        finally:
            self.running = False

    async def stop(self) -> None:
        self._stop.set()


async def test_a_leader_that_cannot_reach_nats_lets_a_replica_that_can_take_over(tmp_path: Path) -> None:
    lock_path = tmp_path / ".store.sqlite3.relay-lock"
    reachable = {"a": True, "b": True}
    duties: dict[str, list[Duty]] = {"a": [], "b": []}

    def replica(name: str) -> Leadership:
        return Leadership(
            FileLock(lock_path), name=name, eligible=lambda: reachable[name], retry_interval=0.1, ineligible_grace=0.5
        )

    def begin(name: str) -> Callable[[], Duty]:
        def term() -> Duty:
            duties[name].append(Duty())
            return duties[name][-1]

        return term

    a, b = replica("a"), replica("b")
    running = [asyncio.create_task(a.run(begin("a")))]
    await eventually(lambda: _now(a.is_leader), timeout=5, what="the first replica leads")
    running.append(asyncio.create_task(b.run(begin("b"))))
    await eventually(lambda: _now(b.attempts >= 3), timeout=5, what="the second replica campaigns")
    assert not b.is_leader
    assert [duty.running for duty in duties["a"]] == [True]

    reachable["a"] = False  # NATS gone for the leader only
    await eventually(lambda: _now(b.is_leader and not a.is_leader), timeout=5, what="the replica that can relay leads")
    assert [duty.running for duty in duties["a"]] == [False], "the yielding leader's relay still runs"
    assert [duty.running for duty in duties["b"]] == [True]

    reachable["a"] = True
    await b.stop()  # a clean stop hands over at once
    await eventually(lambda: _now(a.is_leader), timeout=5, what="the first replica leads again")
    assert [duty.running for duty in duties["b"]] == [False]
    await a.stop()
    assert not any(duty.running for duty in duties["a"] + duties["b"])
    await asyncio.gather(*running)
    assert await FileLock(lock_path).try_acquire(), "the lock was not released"


async def _now(value: bool) -> bool:
    return value
