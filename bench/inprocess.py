"""In-process command handling: load an aggregate, decide, append; one command per transaction.

Like for like, jinlin's kernel beside the ``eventsourcing`` library: the same tiny aggregate (a ticket that is opened
and takes notes, refusing notes once closed), the same events, the same number of events already stored, the same
SQLite settings (WAL, ``synchronous=FULL``), with one caller at a time and with 32 concurrent callers (asyncio tasks
for jinlin, threads for ``eventsourcing``, whose API is synchronous). Then the complaints service's own "add a note"
command, in process (domain, read model and all), on a seeded complaints store of each size.
"""

import asyncio
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteConnectionPool

from jinlin.events import DomainEvent, EventRegistry
from jinlin.store import CommandContext, EventStore, Stream, create_engines

NOTE = "楼道垃圾三天没人清理 — a typical short note on a ticket"
TITLE = "三栋二单元楼道灯不亮"
NOTES_PER_SEEDED_TICKET = 4


@dataclass(frozen=True)
class Run:
    commands: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.commands / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, int(len(ordered) * 0.99) - 1)]

    def summary(self) -> dict[str, float]:
        return {"commands": self.commands, "seconds": self.seconds, "rate": self.rate, "p50_ms": self.p50,
                "p99_ms": self.p99}  # fmt: skip


def _partition(count: int, workers: int) -> list[list[int]]:
    """Command numbers per worker; worker w only touches tickets w, w + workers, ... (no two race for one)."""
    return [list(range(w, count, workers)) for w in range(workers)]


# -- jinlin ---------------------------------------------------------------------------------------------------------

registry = EventRegistry("bench")


@registry.register
class TicketOpened(DomainEvent):
    ticket_id: str
    title: str


@registry.register
class TicketNoted(DomainEvent):
    ticket_id: str
    text: str


@registry.register
class TicketClosed(DomainEvent):
    ticket_id: str


@dataclass(frozen=True)
class TicketState:
    version: int = 0
    notes: int = 0
    closed: bool = False


def fold(events: Sequence[DomainEvent]) -> TicketState:
    state = TicketState()
    for domain_event in events:
        state = TicketState(
            version=state.version + 1,
            notes=state.notes + isinstance(domain_event, TicketNoted),
            closed=state.closed or isinstance(domain_event, TicketClosed),
        )
    return state


def decide_note(state: TicketState, ticket_id: str, text: str) -> list[DomainEvent]:
    if state.version == 0 or state.closed:
        raise ValueError(f"ticket {ticket_id} takes no notes")
    return [TicketNoted(ticket_id=ticket_id, text=text)]


def ticket_key(n: int, tickets: int) -> str:
    return f"t{n % tickets:06d}"


async def jinlin_seed(store: EventStore, tickets: int) -> None:
    per_transaction = 500
    for first in range(0, tickets, per_transaction):
        async with store.transaction(CommandContext("staff:bench-seed", f"seed-{first}")) as tx:
            for n in range(first, min(first + per_transaction, tickets)):
                key = ticket_key(n, tickets)
                opened: list[DomainEvent] = [TicketOpened(ticket_id=key, title=TITLE)]
                notes = [TicketNoted(ticket_id=key, text=NOTE) for _ in range(NOTES_PER_SEEDED_TICKET)]
                await tx.append(Stream("ticket", key), 0, opened + notes)


async def jinlin_note(store: EventStore, ticket_id: str, n: int) -> None:
    stream = Stream("ticket", ticket_id)
    async with store.transaction(CommandContext("staff:bench", f"cmd-{n}")) as tx:
        state = fold([registry.decode(e.type, e.data) for e in await tx.read_stream(stream)])
        await tx.append(stream, state.version, decide_note(state, ticket_id, NOTE))


async def jinlin_commands(store: EventStore, count: int, callers: int, tickets: int) -> Run:
    latencies: list[float] = []

    async def caller(numbers: list[int]) -> None:
        for n in numbers:
            started = time.perf_counter()
            await jinlin_note(store, ticket_key(n, tickets), n)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(caller(numbers) for numbers in _partition(count, callers)))
    return Run(count, time.perf_counter() - started, latencies)


async def jinlin_run(database: Path, tickets: int, count: int, callers: int) -> Run:
    store = EventStore(create_engines(f"sqlite+aiosqlite:///{database}"), registry)
    try:
        await store.create_schema()
        if await store.last_sequence() == 0:
            await jinlin_seed(store, tickets)
        return await jinlin_commands(store, count, callers, tickets)
    finally:
        await store.close()


# -- eventsourcing --------------------------------------------------------------------------------------------------


class Ticket(Aggregate):
    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.notes = 0
        self.closed = False

    @event("Noted")
    def _noted(self, text: str) -> None:
        self.notes += 1

    def add_note(self, text: str) -> None:
        if self.closed:
            raise ValueError(f"ticket {self.id} takes no notes")
        self._noted(text)


class Tickets(Application[uuid.UUID]):
    pass


_durable_patch = threading.Lock()
_patched = False


def make_eventsourcing_durable() -> None:
    """``eventsourcing`` turns WAL on but leaves ``synchronous`` at SQLite's default; set FULL on every connection,
    as jinlin's engine does, so that both commit durably."""
    global _patched
    with _durable_patch:
        if _patched:
            return
        original: Callable[..., Any] = SQLiteConnectionPool._create_connection

        def create_connection(self: SQLiteConnectionPool) -> Any:
            connection = original(self)
            connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
            return connection

        SQLiteConnectionPool._create_connection = create_connection  # type: ignore[method-assign]
        _patched = True


def eventsourcing_app(database: Path) -> Tickets:
    make_eventsourcing_durable()
    return Tickets(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(database),
            "SQLITE_LOCK_TIMEOUT": "30",  # jinlin's busy_timeout
        }
    )


def eventsourcing_settings(database: Path) -> dict[str, str]:
    """What the library's database runs with, read back from the file (checked, not assumed)."""
    app = eventsourcing_app(database)
    try:
        recorder: Any = app.recorder
        with recorder.datastore.get_connection(commit=False) as connection:
            raw = connection._sqlite_conn
            journal = raw.execute("PRAGMA journal_mode").fetchone()[0]
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                raw.execute("PRAGMA synchronous").fetchone()[0]
            ]
    finally:
        app.close()
    return {"journal_mode": journal, "synchronous": synchronous}


def eventsourcing_seed(app: Tickets, tickets: int) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    batch: list[Ticket] = []
    for _ in range(tickets):
        ticket = Ticket(TITLE)
        for _ in range(NOTES_PER_SEEDED_TICKET):
            ticket.add_note(NOTE)
        batch.append(ticket)
        ids.append(ticket.id)
        if len(batch) == 500:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)
    return ids


def eventsourcing_run(database: Path, tickets: int, count: int, callers: int) -> Run:
    app = eventsourcing_app(database)
    try:
        ids = eventsourcing_seed(app, tickets)
        latencies: list[float] = []

        def caller(numbers: list[int]) -> None:
            for n in numbers:
                started = time.perf_counter()
                ticket = app.repository.get(ids[n % tickets])
                ticket.add_note(NOTE)
                app.save(ticket)
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        if callers == 1:
            caller(list(range(count)))
        else:
            with ThreadPoolExecutor(max_workers=callers) as pool:
                for future in [pool.submit(caller, numbers) for numbers in _partition(count, callers)]:
                    future.result()
        return Run(count, time.perf_counter() - started, latencies)
    finally:
        app.close()


def sqlite_settings(database: Path) -> dict[str, str]:
    """jinlin's engine sets its pragmas per connection; journal_mode is persistent and can be read back from the
    file, synchronous is what the engine's connect hook sets."""
    with sqlite3.connect(database) as connection:
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    return {"journal_mode": journal, "synchronous": "FULL (set by jinlin.store.engine on every connection)"}


# -- the complaints service's command -------------------------------------------------------------------------------


async def complaint_note_commands(database_url: str, complaints: int, count: int, callers: int) -> Run:
    """The desk's "add a note" as the HTTP route runs it, minus HTTP: load, decide, append, read model, answer row."""
    from datetime import UTC, datetime

    from bench.seeding import complaint_id
    from complaints.application.changes import change
    from complaints.application.queries import get_complaint_row
    from complaints.bootstrap import build_store
    from complaints.domain import NoteVisibility, add_note

    store = build_store(database_url)
    latencies: list[float] = []

    async def one(n: int) -> None:
        at = datetime.now(UTC)
        target = complaint_id((n * 7919) % complaints)
        async with store.transaction(CommandContext("staff:bench", f"cmd-{n}")) as tx:
            state = await change(
                tx, target, lambda s: add_note(s, text=NOTE, visibility=NoteVisibility.INTERNAL, at=at)
            )
            row = await get_complaint_row(tx.connection, state.complaint_id)
            assert row is not None

    async def caller(numbers: list[int]) -> None:
        for n in numbers:
            started = time.perf_counter()
            await one(n)
            latencies.append((time.perf_counter() - started) * 1000)

    try:
        await store.create_schema()
        started = time.perf_counter()
        await asyncio.gather(*(caller(numbers) for numbers in _partition(count, callers)))
        return Run(count, time.perf_counter() - started, latencies)
    finally:
        await store.close()


async def round_trips_per_note(database_url: str, complaints: int, commands: int = 50) -> dict[str, Any]:
    """What one ``POST /complaints/{id}/notes`` asks of the database: SQL statements by kind, and hand-offs to
    aiosqlite's threads (each one a trip through the event loop), writer and reader connections apart. Through the
    real app, in process (ASGI), one command at a time."""
    import json
    import os
    from collections import Counter

    import aiosqlite
    import httpx
    from sqlalchemy import event as sqlalchemy_event

    from bench.seeding import complaint_id
    from complaints.application.context import ComplaintsContext
    from complaints.bootstrap import build_store, create_app
    from complaints.domain import default_catalogue
    from complaints.settings import ComplaintsSettings

    handoffs: Counter[str] = Counter()
    statements: Counter[str] = Counter()
    original = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        handoffs[getattr(self, "_bench_role", "other")] += 1
        return await original(self, fn, *args, **kwargs)

    token = "bench-diagnostic-token-000"
    previous = os.environ.get("JINLIN_STAFF_TOKENS")
    os.environ["JINLIN_STAFF_TOKENS"] = json.dumps([{"token": token, "id": "bench", "roles": ["intake"]}])
    settings = ComplaintsSettings(
        database_url=database_url, relay_enabled=False, consumers_enabled=False, log_format="json", log_level="warning"
    )
    store = build_store(database_url)
    for role, engine in (("writer", store.engines.writer), ("reader", store.engines.reader)):

        def tag(dbapi_connection: Any, _record: Any, role: str = role) -> None:
            dbapi_connection._connection._bench_role = role

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any, role: str = role) -> None:
            words = statement.split()
            kind = " ".join(words[:3] if words[0] in ("INSERT", "SELECT") else words[:2])
            statements[f"{role}: {kind.rstrip(',')}"] += 1

        sqlalchemy_event.listen(engine.sync_engine, "connect", tag)
        sqlalchemy_event.listen(engine.sync_engine, "before_cursor_execute", count)
    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    try:
        app = create_app(settings, ComplaintsContext(store=store, catalogue=default_catalogue()))
        headers = {"Authorization": f"Bearer {token}"}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://complaints") as client:
                body = {"text": NOTE, "visibility": "internal"}

                async def note(n: int, key: str) -> None:
                    target = complaint_id((n * 7919) % complaints)
                    answer = await client.post(
                        f"/complaints/{target}/notes", json=body, headers=headers | {"Idempotency-Key": key}
                    )
                    if answer.status_code != 200:
                        raise RuntimeError(f"notes answered {answer.status_code}: {answer.text[:300]}")

                run = f"{time.time_ns():x}"
                await note(0, f"{run}-warm-up")
                handoffs.clear()
                statements.clear()
                for n in range(1, commands + 1):
                    await note(n, f"{run}-{n}")
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]
        if previous is None:
            os.environ.pop("JINLIN_STAFF_TOKENS", None)
        else:
            os.environ["JINLIN_STAFF_TOKENS"] = previous
    return {
        "commands": commands,
        "handoffs": {role: n / commands for role, n in handoffs.items()},
        "statements": {kind: n / commands for kind, n in sorted(statements.items())},
    }
