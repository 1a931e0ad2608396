"""Leadership: one active relay per store, and another replica's relay takes over when the leader dies.

Correctness never rests on this lock: the relay publishes with ``Nats-Expected-Last-Sequence``, so two relays of
one store can neither store an event twice nor out of order. The lock is for liveness and quiet: one replica
publishes, the others wait and retry every second, and when the leader dies one of them carries on.

- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of its own. The
  server releases it when that session ends: the process dies, the connection drops, or an operator terminates
  the backend. The leader checks every second that its session still holds the lock and steps down when it
  cannot tell; TCP keepalives make the server notice a client that vanished without closing its socket.
- **SQLite**: ``fcntl.flock`` on a hidden file beside the database (``.<database file>.relay-lock``, outside the
  ``<database file>*`` family that backups copy), exclusive between processes (and between open files of one
  process) on the one machine that can open the database; the kernel releases it when the process dies. The file
  is never deleted: deleting a lock file lets two holders coexist.

A leader also steps down when it has been unable to do its duty for a while (``eligible``: NATS unreachable), so
that a replica that can still reach NATS takes over.
"""

import asyncio
import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import structlog
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool
from structlog.typing import FilteringBoundLogger

from jinlin.store.engine import StoreEngines, normalise_url

RETRY_INTERVAL_SECONDS = 1.0
"""How often a follower tries to take the lock, and how often a leader checks it still holds it."""
LOCK_TIMEOUT_SECONDS = 5.0
"""Bound on one lock statement; past it the session's state is unknown, so it is dropped."""
INELIGIBLE_GRACE_SECONDS = 10.0
"""How long a leader may be unable to do its duty (NATS unreachable) before it lets another replica lead."""

# The server closes a session whose client vanished (a cut cable, a frozen VM) after about 5 + 3 × 2 s.
_KEEPALIVES = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}


class LeaderLock(Protocol):
    """A lock at most one holder has at a time, released by the system when the holder dies."""

    description: str

    async def try_acquire(self) -> bool:
        """Take the lock if free; never waits for it. Raises when the lock's keeper cannot be reached."""
        ...

    async def still_held(self) -> bool:
        """True while this holder certainly holds the lock."""
        ...

    async def release(self) -> None:
        """Give the lock up (idempotent); also after :meth:`still_held` said it was lost."""
        ...


class Duty(Protocol):
    """What the leader does while it leads: the relay."""

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


def relay_lock_key(name: str) -> int:
    """A stable, positive 62-bit advisory lock key for ``name`` (the stream), apart from the append lock's."""
    return int.from_bytes(hashlib.sha256(f"jinlin relay leader {name}".encode()).digest()[:8], "big") >> 2


class PostgresAdvisoryLock:
    """A session-level advisory lock held on a dedicated connection (outside the store's pool)."""

    def __init__(self, url: str | URL, name: str, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.key = relay_lock_key(name)
        self.timeout = timeout
        # Who leads, for an operator (and the tests): pg_locks joined with pg_stat_activity names the process.
        settings = {**_KEEPALIVES, "application_name": f"jinlin relay {name} pid {os.getpid()}"[-63:]}
        self._engine = create_async_engine(
            normalise_url(url if isinstance(url, str) else url.render_as_string(hide_password=False)),
            poolclass=NullPool,
            connect_args={"server_settings": settings, "timeout": timeout},
        )
        self._conn: AsyncConnection | None = None
        self.description = f"PostgreSQL advisory lock {self.key} ({name})"

    async def _scalar(self, sql: str, **params: int) -> object:
        try:
            async with asyncio.timeout(self.timeout):
                if self._conn is None:
                    self._conn = await self._engine.connect()
                value = (await self._conn.execute(text(sql), params)).scalar_one()
                await self._conn.commit()  # never left idle in a transaction: the lock is the session's
                return value
        except BaseException:
            await self._drop()  # its state is unknown now; closing the session frees any lock it held
            raise

    async def try_acquire(self) -> bool:
        return bool(await self._scalar("SELECT pg_try_advisory_lock(:key)", key=self.key))

    async def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            held = await self._scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1)",
                high=self.key >> 32,
                low=self.key & 0xFFFFFFFF,
            )
        except Exception:
            return False
        return bool(held)

    async def release(self) -> None:
        await self._drop()  # ending the session releases the lock, whether or not it still held it
        await self._engine.dispose()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.invalidate()  # terminates the driver connection without waiting on a dead server
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.timeout):
                await conn.close()


class FileLock:
    """``flock`` on a file that stays in place; the lock goes with the open file, so with the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"lock file {path}"
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        # Who leads, for an operator looking at the file (the lock itself is the flock, not this content).
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return True

    async def still_held(self) -> bool:
        if self._fd is None:
            return False
        try:
            mine, there = os.fstat(self._fd), os.stat(self.path)
        except OSError:
            return False
        # A lock file deleted (or replaced) by someone lets a newcomer lock a new file: then ours means nothing.
        return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the open file releases the flock


class ProcessLock:
    """For a database only this process can see (in-memory SQLite): leadership is trivially this process's."""

    description = "in-process store"

    def __init__(self) -> None:
        self._held = False

    async def try_acquire(self) -> bool:
        self._held = True
        return True

    async def still_held(self) -> bool:
        return self._held

    async def release(self) -> None:
        self._held = False


def leader_lock(engines: StoreEngines, name: str) -> LeaderLock:
    """The lock for the relay of ``name`` (its stream) on this store's database."""
    url = engines.writer.url
    if engines.dialect == "postgresql":
        return PostgresAdvisoryLock(url, name)
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return ProcessLock()
    path = Path(database)
    return FileLock(path.with_name(f".{path.name}.relay-lock"))


class Leadership:
    """Campaigns for ``lock`` until it wins, runs a fresh duty while it holds it, and stops it when it no longer
    does (or when :meth:`stop` is called); then campaigns again.

    ``eligible`` says whether this replica can do the duty at all (NATS connected): it campaigns only when it
    can, and steps down after being unable to for ``ineligible_grace`` seconds.
    """

    def __init__(
        self,
        lock: LeaderLock,
        *,
        name: str,
        eligible: Callable[[], bool] = lambda: True,
        retry_interval: float = RETRY_INTERVAL_SECONDS,
        ineligible_grace: float = INELIGIBLE_GRACE_SECONDS,
        stop_timeout: float = 15.0,
        log: FilteringBoundLogger | None = None,
    ) -> None:
        self.lock = lock
        self.name = name
        self.eligible = eligible
        self.retry_interval = retry_interval
        self.ineligible_grace = ineligible_grace
        self.stop_timeout = stop_timeout
        self.log = (log or structlog.get_logger()).bind(leadership=name)
        self.is_leader = False
        self.terms = 0
        """How many times this replica became leader."""
        self.attempts = 0
        """How many times it tried to take the lock."""
        self._stopping = asyncio.Event()
        self._running: asyncio.Task[None] | None = None
        self._last_error: str | None = None

    async def run(self, begin_term: Callable[[], Duty]) -> None:
        """Lead whenever possible until :meth:`stop`: ``begin_term()`` gives the duty of each term."""
        self._running = asyncio.current_task()
        try:
            while not self._stopping.is_set():
                if not await self._campaign():
                    return
                lost = await self._serve(begin_term())
                if lost:
                    # Give the followers, who retry every interval, the first chance at the lock.
                    await self._pause(2 * self.retry_interval)
        finally:
            self.is_leader = False
            await self._release()
            self._running = None

    async def stop(self) -> None:
        """End the current term (the duty stops cleanly and the lock is released) and stop campaigning."""
        self._stopping.set()
        task = self._running
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _campaign(self) -> bool:
        """Wait until this replica holds the lock (True), or until stopped (False)."""
        while not self._stopping.is_set():
            if self.eligible():
                self.attempts += 1
                try:
                    won = await self.lock.try_acquire()
                    self._last_error = None
                except Exception as exc:
                    won = False
                    self._report(exc)
                if won:
                    self.is_leader = True
                    self.terms += 1
                    self.log.info("leadership.acquired", lock=self.lock.description, term=self.terms)
                    return True
            await self._pause(self.retry_interval)
        return False

    async def _serve(self, duty: Duty) -> bool:
        """Run ``duty`` while the lock holds; True when the lock was lost or the duty could not be done."""
        task = asyncio.create_task(duty.run(), name=f"{self.name}:duty")
        lost = False
        unable_since: float | None = None
        try:
            while not self._stopping.is_set() and not task.done():
                await self._pause(self.retry_interval, task)
                if self._stopping.is_set() or task.done():
                    break
                if not await self._still_held():
                    self.log.warning("leadership.lost", lock=self.lock.description)
                    lost = True
                    break
                if self.eligible():
                    unable_since = None
                elif unable_since is None:
                    unable_since = time.monotonic()
                elif time.monotonic() - unable_since > self.ineligible_grace:
                    self.log.warning("leadership.yielded", reason="cannot do its duty", seconds=self.ineligible_grace)
                    lost = True
                    break
        finally:
            self.is_leader = False
            await self._end_term(duty, task)
            await self._release()
        if task.done() and not task.cancelled() and task.exception() is not None:
            self.log.error("leadership.duty_failed", error=f"{type(task.exception()).__name__}: {task.exception()}")
            lost = True
        return lost

    async def _still_held(self) -> bool:
        try:
            return await self.lock.still_held()
        except Exception as exc:
            self._report(exc)
            return False

    async def _end_term(self, duty: Duty, task: "asyncio.Task[None]") -> None:
        try:
            async with asyncio.timeout(self.stop_timeout):
                await duty.stop()
        except TimeoutError:
            self.log.warning("leadership.duty_stop_timeout", seconds=self.stop_timeout)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _release(self) -> None:
        try:
            await self.lock.release()
        except Exception as exc:
            self._report(exc)

    async def _pause(self, seconds: float, also: "asyncio.Task[None] | None" = None) -> None:
        """Sleep ``seconds``, waking early when stopped (or when ``also`` finishes)."""
        stopping = asyncio.create_task(self._stopping.wait())
        waited: list[asyncio.Future[Any]] = [stopping] if also is None else [stopping, also]
        try:
            await asyncio.wait(waited, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()

    def _report(self, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if error != self._last_error:  # a database down for minutes is one line, not one a second
            self.log.warning("leadership.lock_unavailable", lock=self.lock.description, error=error)
        self._last_error = error
