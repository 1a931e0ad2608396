"""Group commit: concurrent write transactions share one database transaction, and so one fsync.

With ``synchronous=FULL`` every SQLite commit waits for the disk; with one commit per command, the disk sets the
pace (a few hundred commands a second). Here each caller still gets a transaction of its own, as a SAVEPOINT
inside a shared database transaction: a caller whose work fails is rolled back to its savepoint alone, the
others' work stands. (The group's first caller has the transaction itself: if it fails, it is rolled back whole,
there being nobody else's work in it yet.) The last caller in line commits for everybody, and nobody leaves
``transaction()`` (nobody answers a client) before that commit is durable. If the commit fails, every member of the
group gets the error.

Bodies run one at a time, as they did under the write lock before: the ordering and hash-chain guarantees of
ADR 2 are unchanged. A group closes when nobody else is waiting, or when it reaches ``max_members``.
"""

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from jinlin.store.sqlite_inline import DriverSavepoint, WriteLockedConnection


class _Savepoint(Protocol):
    @property
    def is_active(self) -> bool: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


@dataclass
class _Group:
    connection: AsyncConnection
    transaction: AsyncTransaction
    # The SQLite writer's own driver connection, where savepoints go straight to it (see sqlite_inline).
    driver: sqlite3.Connection | None = None
    members: int = 0
    committed: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommitter:
    def __init__(
        self,
        engine: AsyncEngine,
        lock_for_append: Callable[[AsyncConnection], Awaitable[None]],
        *,
        max_members: int = 64,
        on_failed_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._lock_for_append = lock_for_append
        self._max_members = max_members
        self._on_failed_commit = on_failed_commit
        self._body_lock = asyncio.Lock()
        self._waiting = 0
        self._open: _Group | None = None

    @property
    def in_place_driver(self) -> sqlite3.Connection | None:
        """The open group's SQLite driver connection, for statements run in place (None elsewhere)."""
        return self._open.driver if self._open is not None else None

    @asynccontextmanager
    async def member(self) -> AsyncIterator[AsyncConnection]:
        """One caller's transaction: a savepoint in the open group. Exits once the group's commit is durable."""
        self._waiting += 1
        try:
            await self._body_lock.acquire()
        finally:
            self._waiting -= 1
        try:
            group = self._open or await self._open_group()
            group.members += 1
            # The first member needs no savepoint: should it fail, the whole transaction holds its work alone.
            savepoint = await self._savepoint(group) if group.members > 1 else None
            try:
                yield group.connection
            except BaseException as failure:
                if savepoint is None:
                    await self._fail_group(group, failure)
                    raise
                if not await self._undo_member(group, savepoint, failure):
                    raise
                await self._close_if_idle(group)
                raise
            if savepoint is not None:
                try:
                    await savepoint.commit()
                except BaseException as failure:
                    await self._fail_group(group, failure)
                    raise
            await self._close_if_idle(group)
        finally:
            self._body_lock.release()
        # The commit is everybody's: one member's cancellation must not cancel it for the others.
        await asyncio.shield(group.committed)

    async def _savepoint(self, group: _Group) -> _Savepoint:
        if group.driver is not None:
            return DriverSavepoint(group.driver, f"member_{group.members}")
        return await group.connection.begin_nested()

    async def _undo_member(self, group: _Group, savepoint: _Savepoint, failure: BaseException) -> bool:
        """Roll back one member's work; True when the group can go on without it.

        When the database itself dropped the whole transaction (SQLite does on "database or disk is full"), the
        savepoint is gone with it: then every member's work is gone, and nobody of this group may be told otherwise.
        """
        try:
            if savepoint.is_active:
                await savepoint.rollback()
        except BaseException:
            await self._fail_group(group, failure)
            return False
        return True

    async def _fail_group(self, group: _Group, failure: BaseException) -> None:
        if self._open is group:
            self._open = None
        self._on_failed_commit()
        with contextlib.suppress(Exception):
            await group.transaction.rollback()
        with contextlib.suppress(Exception):
            await group.connection.close()
        if not group.committed.done():
            group.committed.set_exception(failure if isinstance(failure, Exception) else RuntimeError(str(failure)))
            group.committed.exception()

    async def _open_group(self) -> _Group:
        connection = await self._engine.connect()
        try:
            transaction = await connection.begin()
            await self._lock_for_append(connection)
            driver = (await connection.get_raw_connection()).driver_connection
        except BaseException:
            await connection.close()
            raise
        self._open = _Group(
            connection, transaction, driver.sqlite if isinstance(driver, WriteLockedConnection) else None
        )
        return self._open

    async def _close_if_idle(self, group: _Group) -> None:
        """Commit now when nobody is queued behind this caller (or the group is full); else leave it to them."""
        if self._waiting and group.members < self._max_members:
            # Someone queued will go on in this group. Should they all give up waiting (cancelled), the flush
            # below, queued behind them, still commits it.
            asyncio.get_running_loop().create_task(self._flush_later(group))
            return
        await self._commit(group)

    async def _flush_later(self, group: _Group) -> None:
        async with self._body_lock:
            if self._open is group:
                await self._commit(group)

    async def _commit(self, group: _Group) -> None:
        self._open = None
        try:
            await group.transaction.commit()
        except BaseException as exc:
            self._on_failed_commit()
            with contextlib.suppress(Exception):
                await group.transaction.rollback()
            if not group.committed.done():
                group.committed.set_exception(exc)
            # Retrieved here so that a group whose members all left never logs "exception never retrieved".
            group.committed.exception()
        else:
            if not group.committed.done():
                group.committed.set_result(None)
        finally:
            await group.connection.close()
