"""The console's store: the kernel's event store over the console's own database, whose projections are the
console's views.

The kernel rebuilds a service's projections by replaying the service's own log; the console appends no events, so
that log is empty and the views are folded instead from the events the console received (``console_events``).
This is what makes ``jinlin projections rebuild staff-console`` rebuild them (``application.refold``). Forgetting
everything received, for ``jinlin console reconsume``, is here too (``application.reconsume``).
"""

from collections.abc import Sequence

from jinlin.events.registry import EventRegistry
from jinlin.store import EventStore, create_engines
from staff_console.application.reconsume import forget_received
from staff_console.application.refold import console_views, refold_views


class ConsoleStore(EventStore):
    def __init__(self, database_url: str, service_token: str) -> None:
        self.views = console_views()
        super().__init__(create_engines(database_url), EventRegistry(service_token), projections=self.views)

    async def rebuild_projections(self, batch_size: int = 10_000) -> int:
        """Empty the views and fold the console's whole log of received events into them, in one transaction that
        holds the write lock (the consumers wait, then go on with the rebuilt views). Returns the events folded."""
        async with self.engines.writer.begin() as conn:
            await self.engines.lock_for_append(conn)
            return await refold_views(conn, self.views, batch_size=batch_size)

    async def forget_received(self, consumers: Sequence[str]) -> int:
        """Empty the console's log, its views and the claims of ``consumers`` (``application.reconsume``), in one
        transaction. Returns how many events the log held."""
        async with self.engines.writer.begin() as conn:
            await self.engines.lock_for_append(conn)
            return await forget_received(conn, consumers, self.views)
