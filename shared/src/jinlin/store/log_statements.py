"""The statements a write transaction runs on the kernel's own tables, two ways.

:class:`PortableStatements` goes through SQLAlchemy and works on every backend. :class:`SqliteStatements` hands the
same SQL straight to the ``sqlite3`` connection of the SQLite writer: inside the write section (write lock held, see
:mod:`jinlin.store.sqlite_inline`) a statement cannot wait, and SQLAlchemy's per-statement work (execution context,
result objects, a greenlet switch per driver call) cost several times what SQLite itself needed. Both run in the same
database transaction as everything else on that connection, read models included. The store's contract suite runs
against both.
"""

import sqlite3
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store.schema import events, idempotency, processed_messages
from jinlin.store.sqlite_inline import run_in_place


class EventRow(NamedTuple):
    """One row of ``events``, its columns in the table's order."""

    sequence: int
    id: str
    stream: str
    stream_version: int
    type: str
    subject: str
    nats_subject: str
    time: str
    caseid: str
    causationid: str
    actor: str
    data: str
    hash: str
    prevhash: str


class ResponseRow(NamedTuple):
    fingerprint: str
    status_code: int
    body: bytes
    headers: str


class LogStatements(Protocol):
    async def stream_rows(self, stream: str, from_version: int) -> Sequence[EventRow]: ...

    async def stream_version(self, stream: str) -> int: ...

    async def log_tail(self) -> tuple[int, str] | None: ...

    async def insert_events(self, rows: list[dict[str, Any]]) -> None: ...

    async def response(self, scope: str, key: str) -> ResponseRow | None: ...

    async def insert_response(self, row: dict[str, Any]) -> None: ...

    async def claim_message(self, consumer: str, event_id: str, at: str) -> bool: ...


# Built once: building and cache-keying a statement per call cost more than running it.
_STREAM_VERSION = select(func.max(events.c.stream_version)).where(events.c.stream == bindparam("stream"))
_STREAM_EVENTS = (
    select(*events.c)
    .where(events.c.stream == bindparam("stream"), events.c.stream_version >= bindparam("from_version"))
    .order_by(events.c.stream_version)
)
_LOG_TAIL = select(events.c.sequence, events.c.hash).order_by(events.c.sequence.desc()).limit(1)
_RESPONSE_FIELDS = [idempotency.c[name] for name in ResponseRow._fields]
_RESPONSE = select(*_RESPONSE_FIELDS).where(
    idempotency.c.scope == bindparam("scope"), idempotency.c.key == bindparam("key")
)
_CLAIMED = select(processed_messages.c.event_id).where(
    processed_messages.c.consumer == bindparam("consumer"), processed_messages.c.event_id == bindparam("event_id")
)


class PortableStatements:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def stream_rows(self, stream: str, from_version: int) -> Sequence[EventRow]:
        rows = await self.connection.execute(_STREAM_EVENTS, {"stream": stream, "from_version": from_version})
        return [EventRow._make(row) for row in rows]

    async def stream_version(self, stream: str) -> int:
        return int((await self.connection.execute(_STREAM_VERSION, {"stream": stream})).scalar() or 0)

    async def log_tail(self) -> tuple[int, str] | None:
        row = (await self.connection.execute(_LOG_TAIL)).first()
        return None if row is None else (row.sequence, row.hash)

    async def insert_events(self, rows: list[dict[str, Any]]) -> None:
        await self.connection.execute(insert(events), rows)

    async def response(self, scope: str, key: str) -> ResponseRow | None:
        row = (await self.connection.execute(_RESPONSE, {"scope": scope, "key": key})).first()
        return None if row is None else ResponseRow._make(row)

    async def insert_response(self, row: dict[str, Any]) -> None:
        await self.connection.execute(insert(idempotency), row)

    async def claim_message(self, consumer: str, event_id: str, at: str) -> bool:
        if (await self.connection.execute(_CLAIMED, {"consumer": consumer, "event_id": event_id})).first():
            return False
        await self.connection.execute(
            insert(processed_messages), {"consumer": consumer, "event_id": event_id, "processed_at": at}
        )
        return True


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _insert_sql(table_name: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table_name} ({_names(columns)}) VALUES ({', '.join('?' for _ in columns)})"


_EVENT_COLUMNS = EventRow._fields
_RESPONSE_COLUMNS = tuple(column.name for column in idempotency.c)
_SQLITE_STREAM_EVENTS = (
    f"SELECT {_names(_EVENT_COLUMNS)} FROM events WHERE stream = ? AND stream_version >= ? ORDER BY stream_version"
)
_SQLITE_INSERT_EVENT = _insert_sql("events", _EVENT_COLUMNS)
_SQLITE_INSERT_RESPONSE = _insert_sql("idempotency", _RESPONSE_COLUMNS)


class SqliteStatements:
    """The same statements on the SQLite writer's own ``sqlite3`` connection (see the module's docstring)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def _run(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        rows: list[Any] = run_in_place(self.connection, sql, parameters).fetchall()
        return rows

    def _insert(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        run_in_place(self.connection, sql, rows, many=True)

    async def stream_rows(self, stream: str, from_version: int) -> Sequence[EventRow]:
        return [EventRow._make(row) for row in self._run(_SQLITE_STREAM_EVENTS, (stream, from_version))]

    async def stream_version(self, stream: str) -> int:
        [(version,)] = self._run("SELECT max(stream_version) FROM events WHERE stream = ?", (stream,))
        return int(version or 0)

    async def log_tail(self) -> tuple[int, str] | None:
        rows = self._run("SELECT sequence, hash FROM events ORDER BY sequence DESC LIMIT 1")
        return (rows[0][0], rows[0][1]) if rows else None

    async def insert_events(self, rows: list[dict[str, Any]]) -> None:
        self._insert(_SQLITE_INSERT_EVENT, [tuple(row[column] for column in _EVENT_COLUMNS) for row in rows])

    async def response(self, scope: str, key: str) -> ResponseRow | None:
        sql = f'SELECT {_names(ResponseRow._fields)} FROM idempotency WHERE scope = ? AND "key" = ?'
        rows = self._run(sql, (scope, key))
        return ResponseRow._make(rows[0]) if rows else None

    async def insert_response(self, row: dict[str, Any]) -> None:
        self._insert(_SQLITE_INSERT_RESPONSE, [tuple(row[column] for column in _RESPONSE_COLUMNS)])

    async def claim_message(self, consumer: str, event_id: str, at: str) -> bool:
        sql = _insert_sql("processed_messages", ("consumer", "event_id", "processed_at")) + " ON CONFLICT DO NOTHING"
        return bool(run_in_place(self.connection, sql, (consumer, event_id, at)).rowcount == 1)
