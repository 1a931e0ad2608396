"""Fixtures of the messaging tests: a connected client, stores, child processes and bounded waiting.

Test modules cannot import each other (pytest's importlib mode), so the shared helpers are handed out as fixtures.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from jinlin.events import DomainEvent, EventRegistry
from jinlin.messaging import connect_nats
from jinlin.runtime.nats_server import NatsServer
from jinlin.store import ANY_VERSION, CommandContext, EventStore, StoredEvent, Stream, create_engines

HERE = Path(__file__).parent
STREAM = "TESTING"
SUBJECTS = "jinlin.testing.>"

registry = EventRegistry("testing")


@registry.register
class ThingCounted(DomainEvent):
    n: int


Condition = Callable[[], Awaitable[bool]]
Eventually = Callable[..., Awaitable[None]]
AppendThings = Callable[..., Awaitable[list[StoredEvent]]]
ReadStream = Callable[[JetStreamContext, str], Awaitable[list[RawStreamMsg]]]


async def _eventually(condition: Condition, *, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.05)


@pytest.fixture
def eventually() -> Eventually:
    """``await eventually(condition, timeout=..., what=...)``: poll until true, fail after the timeout."""
    return _eventually


async def _append_things(
    store: EventStore, count: int, *, start: int = 0, per_transaction: int = 1
) -> list[StoredEvent]:
    appended: list[StoredEvent] = []
    for first in range(start, start + count, per_transaction):
        batch = [ThingCounted(n=n) for n in range(first, min(first + per_transaction, start + count))]
        context = CommandContext(actor="test", causationid=f"cmd-{first}", caseid=f"case-{first % 7}")
        async with store.transaction(context) as tx:
            appended += await tx.append(Stream("thing", f"t{first % 13}"), ANY_VERSION, batch)
    return appended


@pytest.fixture
def append_things() -> AppendThings:
    """``await append_things(store, count, start=0, per_transaction=1)``: commit ``count`` ThingCounted events."""
    return _append_things


async def _read_stream(js: JetStreamContext, stream: str) -> list[RawStreamMsg]:
    info = await js.stream_info(stream)
    return [await js.get_msg(stream, seq=seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]


@pytest.fixture
def read_stream() -> ReadStream:
    """``await read_stream(js, name)``: every message of a stream, in stream order."""
    return _read_stream


def new_store(url: str) -> EventStore:
    return EventStore(create_engines(url), registry)


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[EventStore]:
    store = new_store(sqlite_url)
    await store.create_schema()
    yield store
    await store.close()


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await connect_nats(nats_server.url, name="test", first_connect_timeout=10)
    yield client
    with contextlib.suppress(Exception):  # the test may have left the server dead
        await client.close()


@dataclass
class Children:
    """Child processes running a script of this folder; each is SIGKILLed at the end of the test if still alive."""

    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, script: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{script}.{len(self.processes)}.log", "wb")  # noqa: SIM115 (owned by the child)
        process = subprocess.Popen(
            [sys.executable, str(HERE / script), *args], stdout=log, stderr=subprocess.STDOUT, cwd=HERE
        )
        log.close()
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()}" for path in sorted(self.log_dir.glob("*.log")))


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Children]:
    log_dir = tmp_path / "children"
    log_dir.mkdir()
    spawned = Children(log_dir)
    yield spawned
    for process in spawned.processes:
        Children.kill(process)
