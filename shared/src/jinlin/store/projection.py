"""Read models kept inside a service, updated in the same transaction as the events they follow."""

from collections.abc import Awaitable, Callable, Sequence
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store.records import StoredEvent


class Projection(Protocol):
    """Folds events into read-model rows. ``apply`` must be deterministic: a rebuild replays it over the log.

    A projection that caches what it folded may define ``forget()``: the store calls it after a rollback.

    A projection may also define ``apply_batch`` (see :class:`BatchProjection`): a rebuild then hands it the log a
    batch at a time instead of one event at a time.
    """

    name: str

    @property
    def tables(self) -> Sequence[Table]: ...

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None: ...


class LogBatch:
    """Consecutive events of the log, in log order, as a rebuild reads them.

    ``rows`` are plain tuples of what a fold needs, as stored, in the order ``fields`` names them: ``sequence``,
    ``stream``, ``stream_version``, ``type``, ``subject`` and ``data``, the event's JSON text (a projection decodes
    only what it uses). Plain tuples of strings and numbers cost the garbage collector nothing, however many a
    batch holds. ``stored_events()`` gives the same events whole, as :class:`StoredEvent` (what ``apply`` takes),
    read on first use only.
    """

    __slots__ = ("_events", "_load", "fields", "rows")

    def __init__(
        self,
        fields: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        load: Callable[[], Awaitable[list[StoredEvent]]],
    ) -> None:
        self.fields = tuple(fields)
        self.rows = rows
        self._load = load
        self._events: list[StoredEvent] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def columns(self, *names: str) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
        """A function picking the named columns of a row, as a tuple: ``for a, b in map(batch.columns("a", "b"),
        batch.rows)``."""
        indexes = [self.fields.index(name) for name in names]
        if len(indexes) == 1:
            (index,) = indexes
            return lambda row: (row[index],)
        return itemgetter(*indexes)

    async def stored_events(self) -> list[StoredEvent]:
        if self._events is None:
            self._events = await self._load()
        return self._events


class BatchProjection(Projection, Protocol):
    """A projection that folds a batch of the log at once (a rebuild's fast path).

    ``apply_batch`` must leave its tables exactly as ``apply`` would have, called for each event of the batch in
    turn: a rebuilt read model is byte for byte the one built live. It may keep what it folded between batches
    (bounded: the log can be longer than memory), and must drop it in ``forget()``.
    """

    async def apply_batch(self, conn: AsyncConnection, batch: LogBatch) -> None: ...

    def forget(self) -> None: ...


async def apply_batch(projection: Projection, conn: AsyncConnection, batch: LogBatch) -> None:
    """``batch`` through the projection's ``apply_batch`` when it has one, else through ``apply``, event by event."""
    batched: Callable[[AsyncConnection, LogBatch], Any] | None = getattr(projection, "apply_batch", None)
    if batched is not None:
        await batched(conn, batch)
        return
    for event in await batch.stored_events():
        await projection.apply(conn, event)
