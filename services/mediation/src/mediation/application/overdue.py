"""The overdue watcher: records each obligation that is still open after its due instant, once per due instant.

It looks for candidates in the obligations read model and decides on the case's own events, in a transaction per
obligation, so it survives restarts (what was marked is in the log) and never marks a deadline twice, even with
several replicas running it: the second replica's append meets a version conflict, or finds the deadline marked.
``ObligationMarkedOverdue`` (on NATS, with the obligor's party id and the due instant) is how the obligor is chased
and the mediator told: the board puts the case first, and the console and the statistics follow the event.

A case past its month is not recorded by a watcher: the domain has no event for it. The board computes it from the
mediation deadline at read time (``past_its_month``) and puts such cases right after those with overdue obligations.
"""

from datetime import datetime
from functools import partial

from sqlalchemy import select

from jinlin.logging import get_logger
from jinlin.store import CommandContext, ConcurrencyError
from mediation.application.changes import change
from mediation.application.context import MediationContext
from mediation.application.read_model import case_view, instant, obligation_view
from mediation.domain import CaseEvent, CaseState, CaseStatus, mark_obligation_overdue, obligations_to_mark_overdue

ACTOR = "system:overdue-watcher"
_log = get_logger(__name__)


def _mark_if_still_due(term_id: str, now: datetime, state: CaseState, at: datetime) -> list[CaseEvent]:
    if term_id not in obligations_to_mark_overdue(state, now):
        return []  # settled, extended or marked meanwhile
    return mark_obligation_overdue(state, term_id=term_id, at=at)


class OverdueWatcher:
    def __init__(self, context: MediationContext, batch_size: int = 500) -> None:
        self.context = context
        self.batch_size = batch_size
        self.marked = 0

    async def run_once(self) -> int:
        """One pass; returns how many obligations it marked overdue."""
        now = self.context.clock()
        obligations, cases = obligation_view.c, case_view.c
        query = (
            select(obligations.case_id, obligations.term_id, obligations.due_at)
            .join(case_view, cases.case_id == obligations.case_id)
            .where(
                cases.status == CaseStatus.AGREEMENT_IN_EFFECT.value,
                obligations.status == "open",
                obligations.overdue_marked.is_(False),
                obligations.due_at < instant(now),
            )
            .order_by(obligations.due_at, obligations.case_id, obligations.term_id)
            .limit(self.batch_size)
        )
        async with self.context.store.engines.reader.connect() as conn:
            candidates = (await conn.execute(query)).all()
        marked = 0
        for case_id, term_id, due_at in candidates:
            cause = f"overdue:{case_id}:{term_id}:{due_at}"
            try:
                async with self.context.store.transaction(CommandContext(ACTOR, cause, case_id)) as tx:
                    await change(tx, case_id, partial(_mark_if_still_due, term_id, now), now)
                    appended = len(tx.appended)
            except ConcurrencyError:
                # Another replica (or a command) changed the case meanwhile; the next pass looks again.
                continue
            if appended:
                marked += appended
                _log.info("obligation.marked_overdue", case_id=case_id, term_id=term_id, due_at=due_at)
        self.marked += marked
        return marked
