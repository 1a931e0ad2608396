"""The expiry watcher: a pending payment out that reached its ``expires_at`` unexecuted is expired, once.

Candidates come from the disbursements read model; the decision is the account's own (``disbursements_due_for_
expiry`` on the state loaded in the transaction), so it survives restarts (what was expired is in the log) and never
fires twice, even with several replicas running it: the second finds it expired already (the domain records
nothing), or meets a version conflict and looks again at its next pass.
"""

from sqlalchemy import select

from billing_escrow.application.account_views import disbursement_view
from billing_escrow.application.context import EscrowContext
from billing_escrow.application.rows import instant
from billing_escrow.domain import DomainError, disbursements_due_for_expiry, expire_disbursement
from jinlin.logging import get_logger
from jinlin.store import CommandContext, ConcurrencyError

ACTOR = "system:disbursement-expiry"
_log = get_logger(__name__)


class ExpiryWatcher:
    def __init__(self, context: EscrowContext, batch_size: int = 200) -> None:
        self.context = context
        self.batch_size = batch_size
        self.expired = 0

    async def run_once(self) -> int:
        """One pass; returns how many payments out it expired."""
        now = self.context.clock()
        view = disbursement_view.c
        query = (
            select(view.account_id, view.disbursement_id)
            .where(view.status == "pending", view.expires_at <= instant(now))
            .order_by(view.expires_at, view.account_id, view.disbursement_id)
            .limit(self.batch_size)
        )
        async with self.context.store.engines.reader.connect() as conn:
            candidates = (await conn.execute(query)).all()
        expired = 0
        for account_id, disbursement_id in candidates:
            cause = f"expiry:{account_id}:{disbursement_id}"
            try:
                async with self.context.store.transaction(CommandContext(ACTOR, cause)) as tx:
                    account = await self.context.accounts.get(tx.connection, account_id)
                    if disbursement_id not in disbursements_due_for_expiry(account, now):
                        continue
                    at = max(now, account.updated_at)
                    new = expire_disbursement(account, disbursement_id=disbursement_id, at=at)
                    await self.context.accounts.record(tx, account_id, account, new)
                    expired += len(new)
            except (ConcurrencyError, DomainError) as exc:
                # Executed, voided or changed by someone else meanwhile; the next pass looks again.
                _log.info("disbursement.expiry_skipped", account_id=account_id, reason=type(exc).__name__)
                continue
            _log.info("disbursement.expired", account_id=account_id, disbursement_id=disbursement_id)
        self.expired += expired
        return expired
