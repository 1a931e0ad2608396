"""Escrow accounts: their lifecycle, and the money that comes in and is corrected.

Money endpoints (payments in, reallocations, reversals) require an ``Idempotency-Key``; every command accepts
``If-Match`` with the account's ETag. A payment is also one payment by its bank reference: the same payment reported
again (same household, amount, channel, reference and booking date) under a new key records nothing and answers
``200`` with ``recorded: false``.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from fastapi import APIRouter, Request, Response

from billing_escrow.adapters.http.commanding import (
    CONDITIONAL_DOCS,
    DOCS,
    MONEY_DOCS,
    account_answer,
    booking_date,
    command,
    creating,
)
from billing_escrow.adapters.http.dependencies import (
    AccountAdmin,
    AccountId,
    Finance,
    HoldId,
    Notary,
    Supervisor,
    person_id,
)
from billing_escrow.adapters.http.schemas import (
    AccountView,
    ChangeTerms,
    CloseAccount,
    CloseBooks,
    LiftHold,
    MovementAnswer,
    OpenAccount,
    PlaceHold,
    Reallocate,
    ReceivePayment,
    ReopenAccount,
    RequestAccount,
    Reverse,
)
from billing_escrow.application import money, setup
from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import (
    ACCOUNT,
    AccountEvent,
    AccountState,
    AccountTerms,
    Signer,
    SignerRole,
    activate_account,
    change_terms,
    close_account,
    close_books,
    freeze_account,
    open_account,
    reopen_account,
    unfreeze_account,
)
from jinlin.store import Stream, Transaction
from jinlin.web import CommandResult, Staff

router = APIRouter(tags=["escrow accounts"])


Decide = Callable[[AccountState, datetime], Sequence[AccountEvent]]


def _stream(account_id: str) -> Stream:
    return Stream(ACCOUNT, account_id)


async def _lifecycle(
    request: Request,
    staff: Staff,
    account_id: str,
    scope: str,
    decide: Decide,
    *,
    require_if_match: bool = False,
) -> Response:
    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, _ = await context.accounts.change(tx, account_id, lambda account: decide(account, at))
        return CommandResult(await account_answer(tx.connection, account_id), version=state.version)

    return await command(request, staff, scope, handle, stream=_stream(account_id), require_if_match=require_if_match)


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountView,
    summary="Ask the notary office for an account",
    **creating(DOCS, AccountView),
)
async def request_escrow_account(body: RequestAccount, request: Request, staff: AccountAdmin) -> Response:
    """Answers ``201`` when the request is recorded, ``200`` when the same account was already requested."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        terms = AccountTerms.standard(owners_committee=body.owners_committee_signs)
        state, created = await setup.open_request(
            tx,
            context,
            account_id=body.account_id,
            compound_id=body.compound_id,
            purpose=body.purpose,
            terms=terms,
            at=at,
        )
        return CommandResult(
            await account_answer(tx.connection, body.account_id),
            version=state.version,
            headers={"Location": f"/accounts/{body.account_id}"},
            status_code=201 if created else 200,
        )

    return await command(request, staff, "request_account", handle, stream=None, status_code=201)


@router.post("/accounts/{account_id}/open", response_model=AccountView, **DOCS)
async def open_at_notary(account_id: AccountId, body: OpenAccount, request: Request, staff: Notary) -> Response:
    """The notary office opened the account: its file number, the supervising notary, the account at the bank."""
    notary_id = body.supervising_notary_id or person_id(staff)

    def decide(account: AccountState, at: datetime) -> list[AccountEvent]:
        return open_account(
            account,
            notary_reference=body.notary_reference,
            supervising_notary_id=notary_id,
            supervising_notary_name=body.supervising_notary_name,
            bank_account=body.bank_account,
            at=at,
        )

    return await _lifecycle(request, staff, account_id, "open_account", decide)


@router.post("/accounts/{account_id}/activate", response_model=AccountView, **DOCS)
async def activate(account_id: AccountId, request: Request, staff: AccountAdmin) -> Response:
    """Money may come in, and go out under the account's terms."""
    return await _lifecycle(
        request, staff, account_id, "activate", lambda account, at: activate_account(account, at=at)
    )


@router.post("/accounts/{account_id}/holds", response_model=AccountView, **DOCS)
async def place_hold(account_id: AccountId, body: PlaceHold, request: Request, staff: AccountAdmin) -> Response:
    """Freeze the account: no payment out is requested or executed while any hold is in place."""
    return await _lifecycle(
        request, staff, account_id, "freeze",
        lambda account, at: freeze_account(account, hold_id=body.hold_id, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/accounts/{account_id}/holds/{hold_id}/lift", response_model=AccountView, **DOCS)
async def lift_hold(
    account_id: AccountId, hold_id: HoldId, body: LiftHold, request: Request, staff: AccountAdmin
) -> Response:
    """Lift one hold; the account is active again once its last hold is lifted."""
    return await _lifecycle(
        request, staff, account_id, "unfreeze",
        lambda account, at: unfreeze_account(account, hold_id=hold_id, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/accounts/{account_id}/terms", response_model=AccountView, **CONDITIONAL_DOCS)
async def change_account_terms(
    account_id: AccountId, body: ChangeTerms, request: Request, staff: Supervisor
) -> Response:
    """Whose co-signatures payments out need from now on (pending ones keep theirs). Requires ``If-Match``."""
    terms = AccountTerms.standard(owners_committee=body.owners_committee_signs)
    return await _lifecycle(
        request, staff, account_id, "change_terms",
        lambda account, at: change_terms(account, terms=terms, reason=body.reason, at=at),
        require_if_match=True,
    )  # fmt: skip


@router.post("/accounts/{account_id}/close", response_model=AccountView, **CONDITIONAL_DOCS)
async def close(account_id: AccountId, body: CloseAccount, request: Request, staff: AccountAdmin) -> Response:
    """Only at zero, with nothing pending and no hold. Requires ``If-Match``."""
    return await _lifecycle(
        request, staff, account_id, "close", lambda account, at: close_account(account, reason=body.reason, at=at),
        require_if_match=True,
    )  # fmt: skip


@router.post("/accounts/{account_id}/reopen", response_model=AccountView, **DOCS)
async def reopen(account_id: AccountId, body: ReopenAccount, request: Request, staff: Notary) -> Response:
    """The notary reopens a closed account."""
    signer = Signer(role=SignerRole.NOTARY, signer_id=person_id(staff))
    return await _lifecycle(
        request, staff, account_id, "reopen",
        lambda account, at: reopen_account(account, reopened_by=signer, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/accounts/{account_id}/books/close", response_model=AccountView, **DOCS)
async def close_the_books(account_id: AccountId, body: CloseBooks, request: Request, staff: AccountAdmin) -> Response:
    """Nothing may be booked on or before ``through`` any more (a periodic statement closes its month itself)."""
    return await _lifecycle(
        request, staff, account_id, "close_books",
        lambda account, at: close_books(account, through=body.through, at=at),
    )  # fmt: skip


# --- money in and corrections --------------------------------------------------------------------------------------


def _movement_answer(movement_id: str, recorded: bool, account: AccountState, view: AccountView) -> CommandResult:
    return CommandResult(
        MovementAnswer(movement_id=movement_id, recorded=recorded, account=view),
        version=account.version,
        status_code=201 if recorded else 200,
    )


@router.post(
    "/accounts/{account_id}/payments",
    status_code=201,
    response_model=MovementAnswer,
    **creating(MONEY_DOCS, MovementAnswer),
)
async def receive_payment(account_id: AccountId, body: ReceivePayment, request: Request, staff: Finance) -> Response:
    """Money arrived for a household (Dr escrow bank, Cr the household's sub-ledger)."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, new = await money.receive_payment(
            tx,
            context,
            account_id,
            movement_id=body.movement_id,
            household_id=body.household_id,
            amount_fen=body.amount_fen,
            channel=body.channel,
            reference=body.reference,
            booked_on=booking_date(body.booked_on, at),
            at=at,
        )
        return _movement_answer(body.movement_id, bool(new), state, await account_answer(tx.connection, account_id))

    return await command(request, staff, "payment", handle, stream=_stream(account_id), money=True, status_code=201)


@router.post(
    "/accounts/{account_id}/reallocations",
    status_code=201,
    response_model=MovementAnswer,
    **creating(MONEY_DOCS, MovementAnswer),
)
async def reallocate(account_id: AccountId, body: Reallocate, request: Request, staff: Finance) -> Response:
    """Move money held for one household to another (a payment booked to the wrong flat, say)."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, new = await money.reallocate(
            tx,
            context,
            account_id,
            movement_id=body.movement_id,
            from_household_id=body.from_household_id,
            to_household_id=body.to_household_id,
            amount_fen=body.amount_fen,
            reason=body.reason,
            booked_on=booking_date(body.booked_on, at),
            at=at,
        )
        return _movement_answer(body.movement_id, bool(new), state, await account_answer(tx.connection, account_id))

    return await command(
        request, staff, "reallocation", handle, stream=_stream(account_id), money=True, status_code=201
    )


@router.post(
    "/accounts/{account_id}/reversals",
    status_code=201,
    response_model=MovementAnswer,
    **creating(MONEY_DOCS, MovementAnswer),
)
async def reverse(account_id: AccountId, body: Reverse, request: Request, staff: Finance) -> Response:
    """Undo a payment in, a reallocation or a reversal by its mirror entry (never by editing it)."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, new = await money.reverse(
            tx,
            context,
            account_id,
            movement_id=body.movement_id,
            reverses=body.reverses,
            reason=body.reason,
            booked_on=booking_date(body.booked_on, at),
            at=at,
        )
        return _movement_answer(body.movement_id, bool(new), state, await account_answer(tx.connection, account_id))

    return await command(request, staff, "reversal", handle, stream=_stream(account_id), money=True, status_code=201)
