"""The policy linking payments out to the direct-supply handover: arrears paid from escrow are a handover milestone.

A disbursement whose condition code is ``power_company_confirms_arrears`` pays the compound's master-meter arrears
to the power company. When it is executed, ``ArrearsPaid`` is recorded on the compound's handover **in the same
transaction** as ``DisbursementExecuted``: the payment and the milestone are one fact, so neither can exist without
the other, and nothing has to be retried or reconciled later. If the handover cannot take the payment (no handover,
not this compound's escrow account, not the creditor who confirmed the arrears, more than is outstanding), the
execution is refused (409) and nothing is paid out; the disbursement can then be voided.

The same checks run when such a disbursement is requested, so a request that could never be executed is refused
at once rather than after its co-signatures were collected.

``ArrearsPaid`` is published on ``jinlin.escrow.handover.<compound_id>.arrears_paid`` (type
``jinlin.escrow.ArrearsPaid.v1``); the mediation service matches it to an agreement's term by ``compound_id``.
Its ``causationid`` is the id of the ``DisbursementExecuted`` event that caused it.
"""

from datetime import datetime
from typing import Final

from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import (
    AccountState,
    DisbursementExecuted,
    InvalidTransition,
    Payee,
    business_date,
    record_arrears_paid,
    record_arrears_paid_by,
)
from jinlin.store import Transaction

ARREARS_CONDITION: Final = "power_company_confirms_arrears"
# Stands in for the bank's reference while the request is only checked: the dry run records nothing.
_NOT_YET_PAID: Final = "not-yet-paid"


def _no_handover(command: str) -> InvalidTransition:
    return InvalidTransition(command, "the compound has no direct-supply handover", "start the handover first")


async def check_arrears_request(
    tx: Transaction,
    context: EscrowContext,
    account: AccountState,
    *,
    disbursement_id: str,
    payee: Payee,
    amount_fen: int,
    at: datetime,
) -> None:
    """Refuse (409) a request for the arrears that the handover could not take as paid."""
    handover = await context.handovers.load(tx.connection, account.compound_id)
    if handover is None:
        raise _no_handover("request a disbursement for the arrears")
    record_arrears_paid(
        handover,
        account_id=account.account_id,
        disbursement_id=disbursement_id,
        payee=payee,
        amount_fen=amount_fen,
        paid_on=business_date(at),
        bank_reference=_NOT_YET_PAID,
        at=max(at, handover.updated_at),
    )


async def record_arrears_payment(
    tx: Transaction, context: EscrowContext, executed: DisbursementExecuted, *, causationid: str, at: datetime
) -> None:
    """The handover milestone of an executed payment out, when it paid the arrears (in the execution's transaction)."""
    if executed.condition.code != ARREARS_CONDITION:
        return
    handover = await context.handovers.load(tx.connection, executed.compound_id)
    if handover is None:
        raise _no_handover("execute a disbursement for the arrears")
    paid = record_arrears_paid_by(handover, executed, at=max(at, handover.updated_at))
    await context.handovers.record(tx, executed.compound_id, handover, paid, causationid=causationid)
