"""`jinlin audit verify`: the store's chain and the JetStream copy, checked from the command line."""

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import make_url

from jinlin.events import DomainEvent, EventRegistry
from jinlin.messaging import Relay, connect_nats
from jinlin.runtime.nats_server import NatsServer
from jinlin.store import CommandContext, EventStore, Stream, create_engines
from jinlin.store.schema import events

# The CLI names a registered service; the complaints service's stream is used with events of this test's own.
registry = EventRegistry("complaints")


@registry.register
class AuditProbe(DomainEvent):
    n: int


def _verify(database_url: str, nats_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "jinlin.cli.main", "audit", "verify", "complaints"]
    return subprocess.run(
        [*command, "--database-url", database_url, "--nats-url", nats_url, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
async def published(database_url: str, nats_server: NatsServer) -> AsyncIterator[EventStore]:
    store = EventStore(create_engines(database_url), registry)
    await store.create_schema()
    for i in range(8):
        await store.append(Stream("probe", f"p{i % 3}"), i // 3, [AuditProbe(n=i)], CommandContext("a", f"c{i}"))
    nc = await connect_nats(nats_server.url, name="audit-test", first_connect_timeout=10)
    try:
        assert await Relay(store, nc, stream="COMPLAINTS", subjects="jinlin.complaints.>").publish_pending() == 8
    finally:
        await nc.close()
    yield store
    await store.close()


async def test_an_untouched_store_verifies(published: EventStore, database_url: str, nats_server: NatsServer) -> None:
    result = _verify(database_url, nats_server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "complaints: OK: 8 events in store, 8 in JetStream" in result.stdout


@pytest.mark.parametrize(
    ("tamper", "position"),
    [
        ("alter", 5),
        ("delete", 4),
        ("delete-last", 8),
        ("reorder", 2),
        ("rewrite-chain", 6),
    ],
)
async def test_tampering_fails_and_names_the_first_bad_position(
    published: EventStore, database_url: str, nats_server: NatsServer, tamper: str, position: int
) -> None:
    async with published.engines.writer.begin() as conn:
        if tamper == "alter":
            await conn.execute(update(events).where(events.c.sequence == 5).values(data='{"n":500}'))
        elif tamper in ("delete", "delete-last"):
            await conn.execute(delete(events).where(events.c.sequence == position))
        elif tamper == "reorder":
            await conn.execute(update(events).where(events.c.sequence == 2).values(sequence=-2))
            await conn.execute(update(events).where(events.c.sequence == 3).values(sequence=2))
            await conn.execute(update(events).where(events.c.sequence == -2).values(sequence=3))
    if tamper == "rewrite-chain":
        # A forger who recomputes every hash after changing event 6: the store's chain is valid again, but
        # JetStream's copy disagrees.
        await _forge_from(published, 6)
    result = _verify(database_url, nats_server.url)
    assert result.returncode == 1, result.stdout
    assert f"position {position}:" in result.stdout, result.stdout


async def _forge_from(store: EventStore, position: int) -> None:
    from jinlin.events.chain import event_hash

    log = await store.read_log()
    prevhash = log[position - 2].envelope.hash
    async with store.engines.writer.begin() as conn:
        for stored in log[position - 1 :]:
            fields = stored.envelope.hashed_fields() | {"prevhash": prevhash}
            if stored.sequence == position:
                fields["data"] = {"n": 600}
            new_hash = event_hash(fields)
            await conn.execute(
                update(events)
                .where(events.c.sequence == stored.sequence)
                .values(
                    data='{"n":600}' if stored.sequence == position else events.c.data, prevhash=prevhash, hash=new_hash
                )
            )
            prevhash = new_hash
    assert (await _verify_store_only(store)).returncode == 0


async def _verify_store_only(store: EventStore) -> subprocess.CompletedProcess[str]:
    url = store.engines.writer.url.render_as_string(hide_password=False)
    return _verify(url, "nats://127.0.0.1:1", "--no-jetstream")


def test_sqlite_path_is_reachable(tmp_path: Path) -> None:
    """The default database URL of a service is a SQLite file under var/, made absolute."""
    from jinlin.cli.layout import Layout
    from jinlin.service import service_named

    url = Layout(var_dir=tmp_path).database_url(service_named("complaints"))
    assert Path(make_url(url).database or "").is_absolute()
