"""Live updates: an in-process pub/sub between the consumers and the browsers' SSE streams.

A consumer handler runs inside the store transaction, so it cannot announce its event itself: a browser told
about an event that then rolled back would show something that never happened. Instead the handler asks to be
told when its connection commits (:func:`notify_after_commit`), which pokes the hub; the hub then reads the rows
that committed since the last ones it broadcast (by the log's local arrival order) and hands them to every
subscriber. It also looks once a second, so even a missed poke costs at most a second.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncConnection

Row = dict[str, Any]
ReadAfter = Callable[[int], Awaitable[list[Row]]]
QUEUE_SIZE = 500


class LiveHub:
    def __init__(self, read_after: ReadAfter, *, poll_interval: float = 1.0) -> None:
        self._read_after = read_after
        self._poll_interval = poll_interval
        self._subscribers: set[asyncio.Queue[Row]] = set()
        self._wake = asyncio.Event()
        self._watermark = 0
        self._log = structlog.get_logger().bind(component="live-hub")

    def poke(self) -> None:
        self._wake.set()

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator["asyncio.Queue[Row]"]:
        queue: asyncio.Queue[Row] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def run(self, start_after: int) -> None:
        self._watermark = start_after
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()
            try:
                await self.broadcast_new()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("live.read_failed")

    async def broadcast_new(self) -> int:
        rows = await self._read_after(self._watermark)
        for row in rows:
            self._watermark = max(self._watermark, int(row["received"]))
            for queue in list(self._subscribers):
                if queue.full():  # a stalled browser loses the oldest, never blocks the others
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(row)
        return len(rows)


def notify_after_commit(conn: AsyncConnection, hub: LiveHub) -> None:
    """Poke ``hub`` once the transaction on ``conn`` commits (not before, and not after a rollback)."""

    def committed(_connection: object) -> None:
        hub.poke()

    sa_event.listen(conn.sync_connection, "commit", committed, once=True)
