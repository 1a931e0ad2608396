"""A real nats-server secured by the include `jinlin nats init-auth` writes, and clients connecting as its users.

The services here are stand-ins with the names and tokens of the NATS contract, so the tests need no service
package; the permissions depend on nothing else.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nats.aio.client import Client

from jinlin.events import DomainEvent, EventRegistry
from jinlin.messaging import connect_nats
from jinlin.natsauth.config import include_directive
from jinlin.natsauth.generate import AuthSetup, init_auth
from jinlin.runtime.nats_server import NatsServer
from jinlin.service import ServiceSpec
from jinlin.store import ANY_VERSION, CommandContext, EventStore, StoredEvent, Stream, create_engines

SPECS = [
    ServiceSpec(name="complaints", token="complaints", default_port=8081, app_factory="unused:app"),
    ServiceSpec(name="mediation", token="mediation", default_port=8082, app_factory="unused:app"),
    ServiceSpec(name="billing-escrow", token="escrow", default_port=8083, app_factory="unused:app"),
]

complaints_events = EventRegistry("complaints")
mediation_events = EventRegistry("mediation")
escrow_events = EventRegistry("escrow")


@complaints_events.register
class ComplaintFiled(DomainEvent):
    n: int


@mediation_events.register
class AgreementTookEffect(DomainEvent):
    n: int


@escrow_events.register
class StatementIssued(DomainEvent):
    n: int


@escrow_events.register
class PaymentPosted(DomainEvent):
    n: int


@pytest.fixture
def events() -> SimpleNamespace:
    """The stand-in services' event registries and types (test modules cannot import this one)."""
    return SimpleNamespace(
        complaints=complaints_events,
        mediation=mediation_events,
        escrow=escrow_events,
        ComplaintFiled=ComplaintFiled,
        AgreementTookEffect=AgreementTookEffect,
        StatementIssued=StatementIssued,
        PaymentPosted=PaymentPosted,
    )


@dataclass
class ErrorLog:
    """Stands in for a structlog logger: keeps what the connection reports (permission violations among it)."""

    errors: list[str] = field(default_factory=list)

    def _keep(self, event: str, **fields: Any) -> None:
        if "error" in fields:
            self.errors.append(str(fields["error"]).lower())

    warning = debug = info = error = _keep

    def bind(self, **_fields: Any) -> "ErrorLog":
        return self

    def mentions(self, *words: str) -> bool:
        return any(all(word.lower() in error for word in words) for error in self.errors)


@dataclass
class Connected:
    nc: Client
    log: ErrorLog

    async def refused(self, *words: str, timeout: float = 5.0) -> None:
        """Wait until the server has reported a violation whose text has all ``words``."""
        deadline = time.monotonic() + timeout
        while not self.log.mentions(*words):
            if time.monotonic() > deadline:
                raise AssertionError(f"no refusal mentioning {words} within {timeout} s; got {self.log.errors}")
            await asyncio.sleep(0.05)


Connect = Callable[[str], Awaitable[Connected]]


@pytest.fixture
def specs() -> list[ServiceSpec]:
    return list(SPECS)


@pytest.fixture
def error_log() -> type["ErrorLog"]:
    """``error_log()``: a logger to hand to ``connect_nats`` that keeps the errors it is told."""
    return ErrorLog


@pytest.fixture
def auth(tmp_path: Path, specs: list[ServiceSpec]) -> AuthSetup:
    return init_auth(tmp_path / "nats-auth", specs)


@pytest.fixture
def secured_nats(tmp_path: Path, auth: AuthSetup) -> Iterator[NatsServer]:
    server = NatsServer(data_dir=tmp_path / "nats")
    server.extra_config = include_directive(server.config_path, auth.config_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def connect_as(secured_nats: NatsServer, auth: AuthSetup) -> AsyncIterator[Connect]:
    """``await connect_as("complaints")``: a client with that user's seed file, as a service connects."""
    clients: list[Client] = []

    async def connect(name: str) -> Connected:
        log = ErrorLog()
        nc = await connect_nats(
            secured_nats.url, name=f"test-{name}", creds=auth.seed_path(name), log=log, first_connect_timeout=10
        )
        clients.append(nc)
        return Connected(nc, log)

    yield connect
    for nc in clients:
        with contextlib.suppress(Exception):
            await nc.close()


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Callable[[str, EventRegistry], Awaitable[EventStore]]]:
    """``await stores(name, registry)``: an SQLite event store of its own, closed after the test."""
    opened: list[EventStore] = []

    async def open_store(name: str, registry: EventRegistry) -> EventStore:
        store = EventStore(create_engines(f"sqlite+aiosqlite:///{tmp_path / name}.sqlite3"), registry)
        await store.create_schema()
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        await store.close()


async def append(store: EventStore, aggregate: str, events: list[DomainEvent]) -> list[StoredEvent]:
    context = CommandContext(actor="test", causationid="cmd-1", caseid="case-1")
    stored: list[StoredEvent] = []
    for index, event in enumerate(events):
        async with store.transaction(context) as tx:
            stored += await tx.append(Stream(aggregate, f"{aggregate}-{index}"), ANY_VERSION, [event])
    return stored


@pytest.fixture
def append_events() -> Callable[[EventStore, str, list[DomainEvent]], Awaitable[list[StoredEvent]]]:
    return append


async def _eventually(condition: Callable[[], Awaitable[bool]], *, timeout: float = 15.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.05)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    return _eventually
