"""Read models kept inside a service, updated in the same transaction as the events they follow."""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store.records import StoredEvent


class Projection(Protocol):
    """Folds events into read-model rows. ``apply`` must be deterministic: a rebuild replays it over the log.

    A projection that caches what it folded may define ``forget()``: the store calls it after a rollback.
    """

    name: str

    @property
    def tables(self) -> Sequence[Table]: ...

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None: ...
