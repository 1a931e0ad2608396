"""An aiosqlite connection that runs the statements of a write transaction on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close) to a thread of its own and waits for the event loop to
come round with the answer. Inside the store's write section that was the whole cost of a command: four hand-offs
per statement, a dozen statements per command, each one waiting behind every other request the loop was serving,
while the database itself needed microseconds.

Once the writer's ``BEGIN IMMEDIATE`` has returned, this connection holds SQLite's write lock, and in WAL mode
nothing else can make its statements wait: readers never block a writer. So only what can wait stays on the
thread: ``COMMIT`` (it waits for the disk, and may checkpoint), pragmas, DDL and anything else unrecognised, and
``BEGIN`` when another process holds the write lock (it then waits, up to the busy timeout; a free lock is taken
in place). Plain ``SELECT``, ``INSERT``, ``UPDATE``, ``DELETE``, savepoints and rollbacks run in place: a call that
returns at once, with no trip through the loop.

Only the writer engine uses it, and only because it always begins with ``BEGIN IMMEDIATE`` (see
:mod:`jinlin.store.engine`): a deferred reader could meet a lock and would then stall the whole loop.
"""

import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.exc import DBAPIError

# Statements that cannot wait for a lock or the disk once the write lock is held (upper-cased prefixes). A ROLLBACK
# only drops this connection's own changes: it never waits either.
_IN_PLACE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "SAVEPOINT", "RELEASE", "ROLLBACK")
_BEGIN = "BEGIN"
# Calls that only move rows already computed, free them, or drop uncommitted work.
_ALWAYS_IN_PLACE = frozenset({"cursor", "fetchone", "fetchmany", "fetchall", "close", "rollback"})


def _statement(fn: Callable[..., Any], args: tuple[Any, ...]) -> str | None:
    if getattr(fn, "__name__", "") in ("execute", "executemany") and args and isinstance(args[0], str):
        return args[0].lstrip()[:10].upper()
    return None


def _runs_in_place(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    name = getattr(fn, "__name__", "")
    if name in _ALWAYS_IN_PLACE:
        # Closing the connection itself goes through aiosqlite's own path, on its thread.
        return not (name == "close" and isinstance(getattr(fn, "__self__", None), sqlite3.Connection))
    statement = _statement(fn, args)
    return statement is not None and statement.startswith(_IN_PLACE)


def _is_locked(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class WriteLockedConnection(aiosqlite.Connection):
    """aiosqlite's connection, with the calls that cannot block run in place (see the module's docstring)."""

    # The connection's usual busy timeout, restored after each attempt to begin without waiting.
    busy_timeout_ms = 30_000

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The driver's connection itself, for statements of the write section (see :mod:`log_statements`)."""
        return self._conn

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if _runs_in_place(fn, args):
            return fn(*args, **kwargs)
        statement = _statement(fn, args)
        if statement is not None and statement.startswith(_BEGIN):
            began = self._begin_without_waiting(fn, args, kwargs)
            if began is not None:
                return began
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def _begin_without_waiting(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``BEGIN`` in place when the write lock is free (nearly always); None when someone else holds it.

        The busy timeout is off for this one attempt, so it cannot stall the loop; when the lock is taken, the caller
        waits for it on the thread, with the timeout back on.
        """
        connection = self._conn
        connection.execute("PRAGMA busy_timeout=0")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if not _is_locked(error):
                raise
            return None
        finally:
            connection.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")


def write_locked_connector(database: str, busy_timeout_ms: int, **options: Any) -> Callable[[], WriteLockedConnection]:
    """An ``async_creator`` for SQLAlchemy: the same ``sqlite3.connect`` arguments the dialect would use."""

    def connect() -> WriteLockedConnection:
        connection = WriteLockedConnection(partial(sqlite3.connect, database, **options), iter_chunk_size=64)
        connection.busy_timeout_ms = busy_timeout_ms
        # As SQLAlchemy does for aiosqlite's own connections: a forgotten connection must not keep the process alive.
        connection._thread.daemon = True
        return connection

    return connect


def run_in_place(
    connection: sqlite3.Connection, sql: str, parameters: Sequence[Any] = (), *, many: bool = False
) -> Any:
    """A statement straight on the writer's driver connection, its errors raised as SQLAlchemy raises them.

    Callers tell "the database is down or full" (retry later) from "this command is wrong" by SQLAlchemy's classes
    (``OperationalError``, ``IntegrityError``...); a statement that bypasses SQLAlchemy must fail the same way.
    """
    try:
        return connection.executemany(sql, parameters) if many else connection.execute(sql, parameters)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, parameters, exc, sqlite3.Error) from exc


class DriverSavepoint:
    """A SAVEPOINT on the writer's driver connection, with the two calls group commit makes of SQLAlchemy's own.

    SQLAlchemy compiles its savepoint statements afresh each time (they have no cache key); a group of 32 commands
    made 64 of them.
    """

    def __init__(self, connection: sqlite3.Connection, name: str) -> None:
        self._connection = connection
        self._name = name
        run_in_place(connection, f'SAVEPOINT "{name}"')
        self.is_active = True

    async def commit(self) -> None:
        self.is_active = False
        run_in_place(self._connection, f'RELEASE "{self._name}"')

    async def rollback(self) -> None:
        self.is_active = False
        run_in_place(self._connection, f'ROLLBACK TO "{self._name}"')
        run_in_place(self._connection, f'RELEASE "{self._name}"')
