"""Database engines with the settings that make each backend durable and serialisable for appends."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import text

from jinlin.store.sqlite_inline import write_locked_connector

BUSY_TIMEOUT_MS = 30_000
# Any constant works: each service has a database of its own, so the lock serialises one store's appends.
APPEND_LOCK_KEY = 0x6A696E6C696E


@dataclass(frozen=True)
class StoreEngines:
    """A writer and a reader engine; on PostgreSQL they are the same one."""

    writer: AsyncEngine
    reader: AsyncEngine
    dialect: str

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()

    async def lock_for_append(self, conn: AsyncConnection) -> None:
        """Serialise writers so that log positions commit in order (no follower ever skips a late commit).

        SQLite already did with ``BEGIN IMMEDIATE``; PostgreSQL takes a transaction-scoped advisory lock.
        """
        if self.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})


def normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    # One writer connection: SQLite has one writer anyway, and queueing in the pool is cheaper than
    # spinning on the busy timeout. Readers share a small pool; WAL lets them read during a write.
    connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT_MS / 1000}
    options: dict[str, Any] = {}
    if immediate:
        options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 120}
        # The writer runs its locked statements in place, without a thread hand-off each (see sqlite_inline).
        [database], arguments = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
        options["async_creator"] = write_locked_connector(database, BUSY_TIMEOUT_MS, **{**arguments, **connect_args})
    engine = create_async_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself instead of pysqlite's implicit, deferred one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (a shredded person's key) are overwritten, not merely unlinked.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_engines(url: str, *, pool_size: int = 10) -> StoreEngines:
    url = normalise_url(url)
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        return StoreEngines(_sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False), "sqlite")
    if dialect == "postgresql":
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        return StoreEngines(engine, engine, "postgresql")
    raise ValueError(f"unsupported database {dialect!r}: use sqlite or postgresql")


def create_throwaway_engine(url: str) -> AsyncEngine:
    """An engine without a pool, for one-off administrative statements."""
    return create_async_engine(normalise_url(url), poolclass=NullPool)
