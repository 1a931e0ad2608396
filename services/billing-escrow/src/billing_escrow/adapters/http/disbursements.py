"""Payments out, two-phase and co-signed: requested (the money is reserved at once), signed in each role the
account's terms require, then executed; or voided, or expired by the watcher.

Every step requires an ``Idempotency-Key`` and accepts ``If-Match`` with the account's ETag. Two requests racing
for the same money: the one recorded second finds it reserved and gets a ``409`` (``insufficient-funds``).
A signature's role must be one the caller holds: ``center_finance`` needs the finance role, ``notary`` the notary
role, ``owners_committee`` a supervisor recording the committee member's signature (``on_behalf_of``).
"""

from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response

from billing_escrow.adapters.http.commanding import (
    MONEY_DOCS,
    account_answer,
    booking_date,
    command,
    creating,
    disbursement_answer,
)
from billing_escrow.adapters.http.dependencies import (
    SIGNING_STAFF_ROLE,
    AccountAdmin,
    AccountId,
    DisbursementId,
    Finance,
    Signer,
    person_id,
)
from billing_escrow.adapters.http.schemas import (
    DisbursementAnswer,
    ExecuteDisbursement,
    RequestDisbursement,
    SignDisbursement,
    VoidDisbursement,
)
from billing_escrow.application import money
from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import ACCOUNT, AccountState, SignerRole
from billing_escrow.domain import Signer as Signature
from jinlin.store import Stream, Transaction
from jinlin.web import CommandResult, Problem

router = APIRouter(tags=["payments out"])
DEFAULT_VALIDITY = timedelta(days=14)


def _stream(account_id: str) -> Stream:
    return Stream(ACCOUNT, account_id)


async def _answer(tx: Transaction, state: AccountState, disbursement_id: str, status_code: int = 200) -> CommandResult:
    answer = DisbursementAnswer(
        disbursement=await disbursement_answer(tx.connection, state.account_id, disbursement_id),
        account=await account_answer(tx.connection, state.account_id),
    )
    return CommandResult(answer, version=state.version, status_code=status_code)


@router.post(
    "/accounts/{account_id}/disbursements",
    status_code=201,
    response_model=DisbursementAnswer,
    **creating(MONEY_DOCS, DisbursementAnswer),
)
async def request_payment_out(
    account_id: AccountId, body: RequestDisbursement, request: Request, staff: Finance
) -> Response:
    """Request a payment out and reserve its money now. ``201`` when recorded, ``200`` for the same request again."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, new = await money.request_payment_out(
            tx,
            context,
            account_id,
            disbursement_id=body.disbursement_id,
            payee=body.payee,
            amount_fen=body.amount_fen,
            condition=body.condition,
            evidence=body.evidence,
            expires_at=body.expires_at or at + DEFAULT_VALIDITY,
            requested_by=person_id(staff),
            charges=body.charges,
            at=at,
        )
        return await _answer(tx, state, body.disbursement_id, 201 if new else 200)

    return await command(
        request, staff, "disbursement_request", handle, stream=_stream(account_id), money=True, status_code=201
    )


@router.post(
    "/accounts/{account_id}/disbursements/{disbursement_id}/signatures",
    response_model=DisbursementAnswer,
    **MONEY_DOCS,
)
async def sign_payment_out(
    account_id: AccountId, disbursement_id: DisbursementId, body: SignDisbursement, request: Request, staff: Signer
) -> Response:
    """Co-sign in a role the account's terms require. The requester may not co-sign; one person signs once."""
    needed = SIGNING_STAFF_ROLE[body.role]
    if needed not in staff.roles:
        raise Problem(
            403,
            "Role required",
            f"Signing as {body.role} needs the role {needed}; {staff.id} has {', '.join(sorted(staff.roles))}.",
            slug="role-required",
            required_roles=[needed],
        )
    if body.role is SignerRole.OWNERS_COMMITTEE:
        if body.on_behalf_of is None:
            raise Problem(422, "Whose signature?", "Name the committee member in on_behalf_of.", slug="signer-missing")
        signer_id = body.on_behalf_of
    elif body.on_behalf_of is not None:
        raise Problem(
            422, "Sign for yourself", f"A {body.role} signature is the caller's own.", slug="signer-not-caller"
        )
    else:
        signer_id = person_id(staff)
    signature = Signature(role=body.role, signer_id=signer_id)

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, _ = await money.sign_payment_out(
            tx, context, account_id, disbursement_id=disbursement_id, signer=signature, at=at
        )
        return await _answer(tx, state, disbursement_id)

    return await command(request, staff, "disbursement_sign", handle, stream=_stream(account_id), money=True)


@router.post(
    "/accounts/{account_id}/disbursements/{disbursement_id}/execute",
    response_model=DisbursementAnswer,
    **MONEY_DOCS,
)
async def execute_payment_out(
    account_id: AccountId, disbursement_id: DisbursementId, body: ExecuteDisbursement, request: Request, staff: Finance
) -> Response:
    """Post the payment once every required role has signed. A payment of the compound's arrears
    (``power_company_confirms_arrears``) records ``ArrearsPaid`` on its handover in the same transaction."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, _ = await money.execute_payment_out(
            tx,
            context,
            account_id,
            disbursement_id=disbursement_id,
            bank_reference=body.bank_reference,
            booked_on=booking_date(body.booked_on, at),
            at=at,
        )
        return await _answer(tx, state, disbursement_id)

    return await command(request, staff, "disbursement_execute", handle, stream=_stream(account_id), money=True)


@router.post(
    "/accounts/{account_id}/disbursements/{disbursement_id}/void",
    response_model=DisbursementAnswer,
    **MONEY_DOCS,
)
async def void_payment_out(
    account_id: AccountId,
    disbursement_id: DisbursementId,
    body: VoidDisbursement,
    request: Request,
    staff: AccountAdmin,
) -> Response:
    """Withdraw the request; its reservation goes back to the households."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, _ = await money.void_payment_out(
            tx, context, account_id, disbursement_id=disbursement_id, reason=body.reason, at=at
        )
        return await _answer(tx, state, disbursement_id)

    return await command(request, staff, "disbursement_void", handle, stream=_stream(account_id), money=True)
