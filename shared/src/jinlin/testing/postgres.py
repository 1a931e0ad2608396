"""Fresh PostgreSQL databases for tests, created and dropped per test."""

import asyncio
import atexit
import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


_container_url: str | None = None


def admin_url() -> str:
    return _container_url or os.environ.get("JINLIN_TEST_POSTGRES_URL", DEFAULT_URL)


def _start_container() -> str | None:
    """A PostgreSQL container, when no server answers but a Docker engine does (testcontainers); else None."""
    try:
        import docker  # type: ignore[import-untyped]
        from testcontainers.postgres import PostgresContainer
    except ImportError:
        return None
    try:
        docker.from_env().ping()
    except Exception:
        return None
    container = PostgresContainer("postgres:16-alpine", driver=None)
    container.start()
    atexit.register(container.stop)
    return str(container.get_connection_url())


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@cache
def unreachable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when a server answers (asked once per process)."""

    async def probe() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(admin_url()), timeout=3)
        await conn.close()

    def run_probe() -> str | None:
        try:
            asyncio.run(probe())
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            return f"PostgreSQL not reachable at {admin_url()} ({exc.__class__.__name__}: {exc})"
        return None

    global _container_url
    # A thread of its own: the caller may already be inside an event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        reason = pool.submit(run_probe).result()
        if reason is not None and "JINLIN_TEST_POSTGRES_URL" not in os.environ:
            _container_url = _start_container()
            if _container_url is not None:
                reason = pool.submit(run_probe).result()
    return reason


@asynccontextmanager
async def fresh_database(prefix: str = "jinlin_test") -> AsyncIterator[str]:
    """Create an empty database, yield its URL, drop it (with any connection still open)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    dsn = _asyncpg_dsn(admin_url())
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
