"""The overdue watcher: marks each late complaint overdue, once per deadline.

It looks for candidates in the read model and decides on the complaint's own events, in a transaction, so it
survives restarts (what was marked is in the log) and never fires twice, even with several replicas running it:
the second replica's append meets a version conflict, or finds the deadline already marked.
The event it records is what tells supervisors: the console and the statistics follow it.
"""

from sqlalchemy import select

from complaints.application.changes import change, not_before
from complaints.application.context import ComplaintsContext
from complaints.application.queries import late_now
from complaints.application.read_model import complaint_view
from complaints.domain import mark_overdue, should_mark_overdue
from jinlin.logging import get_logger
from jinlin.store import CommandContext, ConcurrencyError

ACTOR = "system:overdue-watcher"
_log = get_logger(__name__)


class OverdueWatcher:
    def __init__(self, context: ComplaintsContext, batch_size: int = 500) -> None:
        self.context = context
        self.batch_size = batch_size
        self.marked = 0

    async def run_once(self) -> int:
        """One pass; returns how many complaints it marked."""
        now = self.context.clock()
        query = (
            select(complaint_view.c.complaint_id, complaint_view.c.deadline_number)
            .where(late_now(now), complaint_view.c.overdue_marked.is_(False))
            .order_by(complaint_view.c.due_at)
            .limit(self.batch_size)
        )
        async with self.context.store.engines.reader.connect() as conn:
            candidates = (await conn.execute(query)).all()
        marked = 0
        for complaint_id, deadline_number in candidates:
            cause = f"overdue:{complaint_id}:{deadline_number}"
            try:
                async with self.context.store.transaction(CommandContext(ACTOR, cause)) as tx:
                    before = tx.appended[:]
                    await change(
                        tx,
                        complaint_id,
                        lambda state: (
                            mark_overdue(state, at=not_before(state, now)) if should_mark_overdue(state, now) else []
                        ),
                    )
                    marked += len(tx.appended) - len(before)
            except ConcurrencyError:
                # Another replica (or a command) changed it meanwhile; the next pass looks again.
                continue
            _log.info("complaint.marked_overdue", complaint_id=complaint_id, deadline=deadline_number)
        self.marked += marked
        return marked
