"""The consumers' handler: every event of every service goes into the console's event log, then into the views
of its service. It runs in the consumer's transaction (exactly once per event, see ``jinlin.messaging.consumer``).

The log is generic: an event of a type the console has never heard of is kept and shown like any other. A view
that cannot fold an event (an unexpected shape) is skipped for that event, in a savepoint, and logged; the event
still enters the log, so the feed and the timeline are never missing it.

Two different events claiming the same position of one service's log mean that the service's history changed
under the console's eyes: that is refused (dead-lettered with the reason), never silently overwritten.
"""

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events.canonical import canonical_json
from jinlin.events.envelope import CloudEvent
from jinlin.messaging.consumer import PermanentError
from jinlin.store.store import Transaction
from staff_console.application import complaints_view, escrow_view, mediation_view
from staff_console.application.live import LiveHub, notify_after_commit
from staff_console.application.rows import fetch
from staff_console.application.tables import events_log, subject_compounds

View = Callable[[AsyncConnection, CloudEvent], Awaitable[None]]

VIEWS: Mapping[str, View] = {
    complaints_view.SERVICE: complaints_view.apply,
    mediation_view.SERVICE: mediation_view.apply,
    escrow_view.SERVICE: escrow_view.apply,
}

_log = structlog.get_logger()


def service_of(event: CloudEvent) -> str:
    """The service token: from ``source`` (``/jinlin/<token>``), else from ``type`` (``jinlin.<token>.…``)."""
    if event.source.startswith("/jinlin/"):
        return event.source.removeprefix("/jinlin/")
    parts = event.type.split(".")
    return parts[1] if len(parts) > 1 else "unknown"


def envelope_json(event: CloudEvent) -> str:
    """The envelope as received, canonical, so its hash can be recomputed from what is stored."""
    return canonical_json(event.model_dump(mode="json")).decode()


class ConsoleProjector:
    def __init__(self, stream: str, hub: LiveHub | None = None, views: Mapping[str, View] = VIEWS) -> None:
        self.stream = stream
        self.hub = hub
        self.views = views

    async def __call__(self, tx: Transaction, event: CloudEvent) -> None:
        conn = tx.connection
        service = service_of(event)
        held = await fetch(conn, events_log, service=service, sequence=event.sequence)
        if held is not None:
            if held["id"] == event.id:
                return
            raise PermanentError(
                f"{service} #{event.sequence} is already held by event {held['id']}; this one ({event.id}) differs"
            )
        compound = await self._compound(conn, service, event)
        await conn.execute(
            insert(events_log).values(
                service=service,
                stream=self.stream,
                sequence=event.sequence,
                id=event.id,
                type=event.type,
                subject=event.subject,
                time=event.time,
                caseid=event.caseid,
                causationid=event.causationid,
                actor=event.actor,
                compound=compound,
                envelope=envelope_json(event),
                hash=event.hash,
                prevhash=event.prevhash,
                received_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            )
        )
        view = self.views.get(service)
        if view is not None:
            await fold(conn, view, service, event)
        if self.hub is not None:
            notify_after_commit(conn, self.hub)

    async def _compound(self, conn: AsyncConnection, service: str, event: CloudEvent) -> str | None:
        """The compound the event concerns: named in its data, or else known from its subject's earlier events."""
        named = event.data.get("compound_id")
        if isinstance(named, str) and named:
            known = await fetch(conn, subject_compounds, service=service, subject=event.subject)
            if known is None:
                await conn.execute(
                    insert(subject_compounds).values(service=service, subject=event.subject, compound=named)
                )
            return named
        row = (
            await conn.execute(
                select(subject_compounds.c.compound).where(
                    subject_compounds.c.service == service, subject_compounds.c.subject == event.subject
                )
            )
        ).first()
        return row.compound if row else None


async def fold(conn: AsyncConnection, view: View, service: str, event: CloudEvent) -> bool:
    """Fold one event into its service's view, in a savepoint: a view that cannot fold it skips it (logged, by type
    only: the data may be personal). False when it was skipped."""
    savepoint = await conn.begin_nested()
    try:
        await view(conn, event)
    except Exception as exc:
        await savepoint.rollback()
        _log.warning("console.view_skipped", service=service, type=event.type, error=type(exc).__name__)
        return False
    await savepoint.commit()
    return True


def parse_envelope(text: str) -> CloudEvent:
    return CloudEvent.model_validate(json.loads(text))
