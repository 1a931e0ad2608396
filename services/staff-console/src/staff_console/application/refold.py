"""Rebuilding the console's views from its own log: what ``jinlin projections rebuild staff-console`` does.

The console keeps every event it received, exactly as received, in ``console_events`` (the timeline checks each one
against its hash and its neighbours). The other read models (the queue, the mediation board, the escrow accounts
and households, the handover) are views folded from that log, each from one service's events. A rebuild empties
them and folds the whole log again, each service's events in the order of that service's log, in one transaction
holding the store's write lock: the console's consumers wait for it and then fold their next event onto the
rebuilt views, so it is safe while the console runs, and the pages never show a half-built view.

It does not read the streams again: ``jinlin console reconsume`` does that (``application.reconsume``).
"""

from collections.abc import Mapping, Sequence

import structlog
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store.records import StoredEvent
from staff_console.application import complaints_view, escrow_view, mediation_view
from staff_console.application.projector import VIEWS, View, fold, parse_envelope, service_of
from staff_console.application.tables import events_log

_log = structlog.get_logger()


class ConsoleView:
    """One service's view as the kernel's store sees a projection: its tables (which the store creates) and a fold.

    The console appends no events of its own, so the store never calls :meth:`apply`; it folds an event of the
    view's service, should one ever come that way.
    """

    def __init__(self, service: str, tables: Sequence[Table], view: View) -> None:
        self.name = f"console-{service}"
        self.service = service
        self.view = view
        self._tables = tuple(tables)

    @property
    def tables(self) -> Sequence[Table]:
        return self._tables

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        if service_of(event.envelope) == self.service:
            await fold(conn, self.view, self.service, event.envelope)


def console_views() -> list[ConsoleView]:
    tables = {
        complaints_view.SERVICE: complaints_view.TABLES,
        mediation_view.SERVICE: mediation_view.TABLES,
        escrow_view.SERVICE: escrow_view.TABLES,
    }
    return [ConsoleView(service, tables[service], view) for service, view in VIEWS.items()]


async def refold_views(conn: AsyncConnection, views: Sequence[ConsoleView], *, batch_size: int = 1000) -> int:
    """Empty every view and fold the console's whole log into them again, inside the caller's transaction.

    Returns how many events the log holds (an event of a service without a view is counted, and stays in the log).
    """
    for emptied in views:
        for table in reversed(emptied.tables):
            await conn.execute(delete(table))
    by_service: Mapping[str, ConsoleView] = {view.service: view for view in views}
    services = [row[0] for row in await conn.execute(select(events_log.c.service).distinct())]
    count = skipped = 0
    for service in sorted(services):
        view = by_service.get(service)
        after = 0
        while True:
            query = (
                select(events_log.c.sequence, events_log.c.envelope)
                .where(events_log.c.service == service, events_log.c.sequence > after)
                .order_by(events_log.c.sequence)
                .limit(batch_size)
            )
            rows = (await conn.execute(query)).all()
            if not rows:
                break
            for row in rows:
                if view is not None and not await fold(conn, view.view, service, parse_envelope(row.envelope)):
                    skipped += 1
            count += len(rows)
            after = int(rows[-1].sequence)
    _log.info("console.views_rebuilt", events=count, skipped=skipped)
    return count
