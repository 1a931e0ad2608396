"""The SQLite writer runs its locked statements in place, and still waits on its thread for a lock held elsewhere."""

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from jinlin.events import DomainEvent, EventRegistry
from jinlin.store import CommandContext, EventStore, Stream, create_engines
from jinlin.store.sqlite_inline import _runs_in_place, run_in_place

registry = EventRegistry("inline")


@registry.register
class Ticked(DomainEvent):
    n: int


def test_only_statements_that_cannot_wait_run_in_place() -> None:
    cursor = sqlite3.connect(":memory:").cursor()
    assert _runs_in_place(cursor.execute, ("SELECT 1",))
    assert _runs_in_place(cursor.execute, ("  insert into t values (?)", (1,)))
    assert _runs_in_place(cursor.execute, ("SAVEPOINT sa_savepoint_1",))
    assert _runs_in_place(cursor.fetchall, ())
    assert _runs_in_place(cursor.close, ())
    assert not _runs_in_place(cursor.execute, ("BEGIN IMMEDIATE",))
    assert not _runs_in_place(cursor.execute, ("COMMIT",))
    assert not _runs_in_place(cursor.execute, ("PRAGMA wal_checkpoint(TRUNCATE)",))
    assert not _runs_in_place(cursor.execute, ("CREATE TABLE t (x)",))
    connection = sqlite3.connect(":memory:")
    assert not _runs_in_place(connection.commit, ())
    assert not _runs_in_place(connection.close, ())


async def test_a_write_lock_held_by_another_process_is_waited_for_without_stalling_the_loop(tmp_path: Path) -> None:
    database = tmp_path / "store.db"
    store = EventStore(create_engines(f"sqlite:///{database}"), registry)
    await store.create_schema()
    context = CommandContext("staff:x", "cmd")
    await store.append(Stream("tick", "a"), 0, [Ticked(n=0)], context)

    holding = threading.Event()
    release = threading.Event()

    def hold_the_write_lock() -> None:
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        holding.set()
        release.wait(10)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert await asyncio.to_thread(holding.wait, 10)
        append = asyncio.create_task(store.append(Stream("tick", "a"), 1, [Ticked(n=1)], context))
        # Were BEGIN run in place with the busy timeout on, the loop would stop right here until the timeout ran
        # out, and the append would fail "database is locked"; instead it waits, and the loop turns meanwhile.
        for _ in range(20):
            await asyncio.sleep(0.01)
        assert not append.done(), "the append did not wait for the write lock held elsewhere"
        release.set()
        stored = await asyncio.wait_for(append, 10)
        assert [e.envelope.streamversion for e in stored] == [2]
    finally:
        release.set()
        holder.join()
        await store.close()


def test_a_statement_run_in_place_fails_as_sqlalchemy_would() -> None:
    connection = sqlite3.connect(":memory:")
    run_in_place(connection, "CREATE TABLE t (x INTEGER PRIMARY KEY)")
    run_in_place(connection, "INSERT INTO t VALUES (?)", [(1,)], many=True)
    with pytest.raises(sa_exc.IntegrityError):
        run_in_place(connection, "INSERT INTO t VALUES (?)", (1,))
    # "Database or disk is full", a lock...: operational errors, which consumers retry instead of dead-lettering.
    with pytest.raises(sa_exc.OperationalError):
        run_in_place(connection, "SELECT * FROM missing")
