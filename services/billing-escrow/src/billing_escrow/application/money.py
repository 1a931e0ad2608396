"""The money commands on an escrow account: payments in, corrections, and the two phases of a payment out.

Each runs inside the caller's transaction and returns the account after it and the events it recorded (none when
it was a retry of something already recorded). Besides the account's own rules, the application checks what only
other aggregates know: money is received for a household registered in the account's compound, and a payment out
for the arrears is one the compound's handover can take (``arrears_paid``).
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from billing_escrow.application.arrears_paid import ARREARS_CONDITION, check_arrears_request, record_arrears_payment
from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import (
    AccountEvent,
    AccountState,
    Condition,
    DisbursementExecuted,
    Payee,
    Signer,
    ValidationFailed,
    execute_disbursement,
    is_identifier,
    reallocate_funds,
    record_payment,
    request_disbursement,
    reverse_movement,
    sign_disbursement,
    void_disbursement,
)
from jinlin.store import Transaction

Outcome = tuple[AccountState, list[AccountEvent]]


async def require_household_of(
    tx: Transaction, context: EscrowContext, household_id: str, compound_id: str, field: str
) -> None:
    household = await context.households.load(tx.connection, household_id) if is_identifier(household_id) else None
    if household is None or household.compound_id != compound_id:
        raise ValidationFailed.single(field, f"names no household registered in compound {compound_id}")


async def _record(tx: Transaction, context: EscrowContext, account: AccountState, new: list[AccountEvent]) -> Outcome:
    after = await context.accounts.record(tx, account.account_id, account, new)
    assert after is not None
    return after, new


async def receive_payment(
    tx: Transaction,
    context: EscrowContext,
    account_id: str,
    *,
    movement_id: str,
    household_id: str,
    amount_fen: int,
    channel: str,
    reference: str,
    booked_on: date,
    at: datetime,
) -> Outcome:
    account = await context.accounts.get(tx.connection, account_id)
    new = record_payment(
        account,
        movement_id=movement_id,
        household_id=household_id,
        amount_fen=amount_fen,
        channel=channel,
        reference=reference,
        booked_on=booked_on,
        at=at,
    )
    if new:
        await require_household_of(tx, context, household_id, account.compound_id, "household_id")
    return await _record(tx, context, account, new)


async def reallocate(
    tx: Transaction,
    context: EscrowContext,
    account_id: str,
    *,
    movement_id: str,
    from_household_id: str,
    to_household_id: str,
    amount_fen: int,
    reason: str,
    booked_on: date,
    at: datetime,
) -> Outcome:
    account = await context.accounts.get(tx.connection, account_id)
    new = reallocate_funds(
        account,
        movement_id=movement_id,
        from_household_id=from_household_id,
        to_household_id=to_household_id,
        amount_fen=amount_fen,
        reason=reason,
        booked_on=booked_on,
        at=at,
    )
    if new:
        await require_household_of(tx, context, to_household_id, account.compound_id, "to_household_id")
    return await _record(tx, context, account, new)


async def reverse(
    tx: Transaction,
    context: EscrowContext,
    account_id: str,
    *,
    movement_id: str,
    reverses: str,
    reason: str,
    booked_on: date,
    at: datetime,
) -> Outcome:
    account = await context.accounts.get(tx.connection, account_id)
    new = reverse_movement(
        account, movement_id=movement_id, reverses=reverses, reason=reason, booked_on=booked_on, at=at
    )
    return await _record(tx, context, account, new)


async def request_payment_out(
    tx: Transaction,
    context: EscrowContext,
    account_id: str,
    *,
    disbursement_id: str,
    payee: Payee,
    amount_fen: int,
    condition: Condition,
    evidence: Sequence[str],
    expires_at: datetime,
    requested_by: str,
    charges: Mapping[str, int] | None,
    at: datetime,
) -> Outcome:
    account = await context.accounts.get(tx.connection, account_id)
    new = request_disbursement(
        account,
        disbursement_id=disbursement_id,
        payee=payee,
        amount_fen=amount_fen,
        condition=condition,
        evidence=evidence,
        expires_at=expires_at,
        requested_by=requested_by,
        charges=charges,
        at=at,
    )
    if new and condition.code == ARREARS_CONDITION:
        await check_arrears_request(
            tx, context, account, disbursement_id=disbursement_id, payee=payee, amount_fen=amount_fen, at=at
        )
    return await _record(tx, context, account, new)


async def sign_payment_out(
    tx: Transaction, context: EscrowContext, account_id: str, *, disbursement_id: str, signer: Signer, at: datetime
) -> Outcome:
    account = await context.accounts.get(tx.connection, account_id)
    new = sign_disbursement(account, disbursement_id=disbursement_id, signer=signer, at=at)
    return await _record(tx, context, account, new)


async def execute_payment_out(
    tx: Transaction,
    context: EscrowContext,
    account_id: str,
    *,
    disbursement_id: str,
    bank_reference: str,
    booked_on: date,
    at: datetime,
) -> Outcome:
    account = await context.accounts.get(tx.connection, account_id)
    new = execute_disbursement(
        account, disbursement_id=disbursement_id, bank_reference=bank_reference, booked_on=booked_on, at=at
    )
    outcome = await _record(tx, context, account, new)
    for event, stored in zip(new, tx.appended[-len(new) :] if new else [], strict=True):
        if isinstance(event, DisbursementExecuted):
            await record_arrears_payment(tx, context, event, causationid=stored.id, at=at)
    return outcome


async def void_payment_out(
    tx: Transaction, context: EscrowContext, account_id: str, *, disbursement_id: str, reason: str, at: datetime
) -> Outcome:
    account = await context.accounts.get(tx.connection, account_id)
    new = void_disbursement(account, disbursement_id=disbursement_id, reason=reason, at=at)
    return await _record(tx, context, account, new)
