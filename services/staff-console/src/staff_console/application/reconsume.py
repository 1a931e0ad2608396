"""Forgetting everything the console received, so that its consumers read the streams again from the start.

The console's log (``console_events``) and its views are a copy of the services' streams, which keep every event
forever. When that copy is in doubt (a database restored from an old dump, a dead-lettered event the console
refused, a bug in how it stored events) the way back is to read the streams again: empty the log, the views and
the consumers' processed-message claims, and reset the durable consumers in JetStream (``adapters.jetstream``),
so that they deliver every stream from its first message when the console next starts.

Sessions stay: signed-in staff are not the streams' business.
"""

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store.schema import processed_messages
from staff_console.application.refold import ConsoleView
from staff_console.application.tables import events_log, subject_compounds


async def forget_received(conn: AsyncConnection, consumers: Sequence[str], views: Sequence[ConsoleView]) -> int:
    """Empty the console's log, its views and the claims of ``consumers``, in the caller's transaction.

    Returns how many events the log held.
    """
    held = int((await conn.execute(select(func.count()).select_from(events_log))).scalar() or 0)
    for view in views:
        for table in reversed(view.tables):
            await conn.execute(delete(table))
    await conn.execute(delete(subject_compounds))
    await conn.execute(delete(events_log))
    # Without this, every event delivered again would be taken for a duplicate and skipped.
    await conn.execute(delete(processed_messages).where(processed_messages.c.consumer.in_(list(consumers))))
    return held
