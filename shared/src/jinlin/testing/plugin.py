"""pytest plugin (registered as an entry point): fixtures for real infrastructure.

- ``nats_server``: a fresh nats-server with JetStream on free ports; the test may ``kill()`` and ``restart()`` it.
- ``sqlite_url``: a new SQLite file.
- ``postgres_url``: a new PostgreSQL database, dropped afterwards; skips, saying why, when none is reachable.
- ``database_url``: parametrised over both, for contract tests written once.
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from jinlin.runtime.nats_server import NatsServer
from jinlin.testing.postgres import fresh_database, unreachable_reason


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(data_dir=tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"


@pytest_asyncio.fixture
async def postgres_url() -> AsyncIterator[str]:
    reason = unreachable_reason()
    if reason:
        pytest.skip(reason)
    async with fresh_database() as url:
        yield url


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
        return
    reason = unreachable_reason()
    if reason:
        pytest.skip(reason)
    async with fresh_database() as url:
        yield url
