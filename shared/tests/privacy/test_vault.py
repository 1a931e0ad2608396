"""Crypto-shredding: after a person's key is destroyed, their sealed data reads as nothing, and no clear copy
of it or of the key is left in the database file."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from jinlin.events import DomainEvent, EventRegistry
from jinlin.privacy import SEALED_PREFIX, PersonalDataVault
from jinlin.store import CommandContext, EventStore, Stream, create_engines

registry = EventRegistry("testing")
CANARY = "Canary王小明"


@registry.register
class PersonNoted(DomainEvent):
    person_ref: str
    name_sealed: str


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    store = EventStore(create_engines(database_url), registry)
    await store.create_schema()
    yield store
    await store.close()


async def test_sealed_data_opens_until_the_key_is_shredded(store: EventStore) -> None:
    vault = PersonalDataVault()
    ref = vault.new_person_ref()
    async with store.transaction(CommandContext("a", "c")) as tx:
        sealed = await vault.seal(tx.connection, ref, CANARY)
        await tx.append(Stream("person", ref), 0, [PersonNoted(person_ref=ref, name_sealed=sealed)])
    assert sealed.startswith(SEALED_PREFIX)
    assert CANARY not in sealed
    (event,) = await store.read_stream(Stream("person", ref))
    async with store.engines.reader.connect() as conn:
        assert await vault.open(conn, ref, event.data["name_sealed"]) == CANARY
        assert await vault.open(conn, "p-someone-else", event.data["name_sealed"]) is None
    async with store.transaction(CommandContext("a", "c")) as tx:
        assert await vault.shred(tx.connection, ref) is True
        assert await vault.shred(tx.connection, ref) is False
    await store.purge_deleted("person_keys")
    async with store.engines.reader.connect() as conn:
        assert await vault.open(conn, ref, event.data["name_sealed"]) is None
        assert not await vault.has_key(conn, ref)
    # The event and its chain are untouched.
    assert (await store.read_stream(Stream("person", ref)))[0].envelope == event.envelope


async def test_no_clear_copy_survives_in_the_sqlite_files(sqlite_url: str) -> None:
    store = EventStore(create_engines(sqlite_url), registry)
    await store.create_schema()
    vault = PersonalDataVault()
    ref = vault.new_person_ref()
    async with store.transaction(CommandContext("a", "c")) as tx:
        sealed = await vault.seal(tx.connection, ref, CANARY)
        await tx.append(Stream("person", ref), 0, [PersonNoted(person_ref=ref, name_sealed=sealed)])
    async with store.engines.reader.connect() as conn:
        key = (await conn.exec_driver_sql(f"SELECT key FROM person_keys WHERE person_ref = '{ref}'")).scalar_one()
    async with store.transaction(CommandContext("a", "c")) as tx:
        await vault.shred(tx.connection, ref)
    await store.purge_deleted("person_keys")
    await store.close()
    database = Path(make_url(sqlite_url).database or "")
    files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
    everything = b"".join(p.read_bytes() for p in files)
    assert CANARY.encode() not in everything
    assert bytes(key) not in everything, "the shredded key's bytes are still in the database files"
