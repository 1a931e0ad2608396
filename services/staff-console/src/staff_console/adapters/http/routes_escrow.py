"""Escrow accounts, household ledgers, payments out awaiting my signature, and the handover of a compound."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from staff_console.adapters.http.actions import answer, no_token, wait_until
from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.ids import Id
from staff_console.adapters.http.rendering import render
from staff_console.adapters.http.routes_feed import event_view
from staff_console.adapters.http.security import Forbidden, PageNotFound, Viewer, checked_form, screen
from staff_console.application import queries
from staff_console.domain.access import Action, Screen

router = APIRouter(include_in_schema=False)
EscrowReader = Annotated[Viewer, Depends(screen(Screen.ESCROW))]
Signer = Annotated[Viewer, Depends(screen(Screen.SIGNATURES))]
HandoverReader = Annotated[Viewer, Depends(screen(Screen.HANDOVER))]


@router.get("/escrow")
async def accounts(request: Request, viewer: EscrowReader) -> Response:
    async with console_of(request).reader() as conn:
        rows = await queries.escrow_accounts_list(conn)
        pending = await queries.account_disbursements(conn, status="requested")
    total = sum(row["balance_fen"] for row in rows)
    return render(request, viewer, "escrow.html", accounts=rows, total=total, pending=len(pending))


@router.get("/escrow/accounts/{account_id}")
async def account_page(request: Request, viewer: EscrowReader, account_id: Id) -> Response:
    async with console_of(request).reader() as conn:
        account = await queries.escrow_account(conn, account_id)
        if account is None:
            raise PageNotFound()
        ledgers = await queries.household_ledgers(conn, account_id)
        payments_out = await queries.account_disbursements(conn, account_id)
        history = await queries.subject_events(conn, "escrow", account_id)
    return render(
        request,
        viewer,
        "escrow_account.html",
        account=account,
        ledgers=ledgers,
        disbursements=payments_out,
        history=[
            event_view(event, viewer.language, console_of(request).actor_names) for event in reversed(history[-50:])
        ],
    )


@router.get("/escrow/households/{household_id}")
async def household_page(request: Request, viewer: EscrowReader, household_id: Id) -> Response:
    async with console_of(request).reader() as conn:
        household = await queries.household(conn, household_id)
        events = await queries.household_events(conn, household_id)
        household_bills = await queries.household_bills(conn, household_id)
    if household is None and not events:
        raise PageNotFound()
    return render(
        request,
        viewer,
        "household.html",
        household=household or {"household_id": household_id},
        bills=household_bills,
        movements=[event_view(event, viewer.language, console_of(request).actor_names) for event in events],
    )


@router.get("/escrow/signatures")
async def to_sign(request: Request, viewer: Signer) -> Response:
    async with console_of(request).reader() as conn:
        pending = await queries.account_disbursements(conn, status="requested")
    mine = [row for row in pending if queries.awaiting(row, viewer.signer_roles, viewer.account.staff_id)]
    others = [row for row in pending if row not in mine]
    return render(request, viewer, "signatures.html", mine=mine, others=others, idempotency_key=str(uuid.uuid4()))


@router.post("/escrow/disbursements/{account_id}/{disbursement_id}/sign")
async def sign(request: Request, viewer: Signer, account_id: Id, disbursement_id: Id) -> Response:
    if not viewer.does(Action.SIGN):
        raise Forbidden()
    form = await checked_form(request, viewer)
    back = "/escrow/signatures"
    token = viewer.account.service_token
    if token is None:
        return no_token(request, viewer, back)
    role = form.get("role", "")
    if role not in viewer.signer_roles:
        raise Forbidden()
    context = console_of(request)
    outcome = await context.services.command(
        "sign",
        token=token,
        body={"role": role},
        idempotency_key=form.get("idem") or str(uuid.uuid4()),
        account_id=account_id,
        disbursement_id=disbursement_id,
    )
    if outcome.ok:

        async def signed() -> bool:
            async with context.reader() as conn:
                rows = await queries.account_disbursements(conn, account_id)
            row = next((r for r in rows if r["disbursement_id"] == disbursement_id), None)
            return row is not None and any(s.get("role") == role for s in row["signed"])

        await wait_until(signed)
    return answer(request, viewer, outcome, "sign", back, "billing-escrow")


@router.get("/handover")
async def handovers(request: Request, viewer: HandoverReader) -> Response:
    async with console_of(request).reader() as conn:
        rows = await queries.handover_list(conn)
    return render(request, viewer, "handover.html", handovers=rows)


@router.get("/handover/{compound_id}")
async def handover_page(request: Request, viewer: HandoverReader, compound_id: Id) -> Response:
    async with console_of(request).reader() as conn:
        row = await queries.handover(conn, compound_id)
        if row is None:
            raise PageNotFound()
        homes = await queries.handover_household_rows(conn, compound_id)
    steps = [
        ("started", True),
        ("vote", bool(row["vote_passed"])),
        ("escrow", bool(row["escrow_account_id"])),
        ("confirmed", row["arrears_fen"] is not None),
        ("allocated", bool(row["allocated"])),
        ("paid", bool(row["fully_paid"])),
        ("meters", row["households_total"] > 0 and row["switched"] >= row["households_total"]),
        ("facilities", bool(row["facilities_transferred"])),
        ("completed", row["status"] == "completed"),
    ]
    return render(
        request,
        viewer,
        "handover_compound.html",
        handover=row,
        households=homes,
        steps=steps,
        now=datetime.now(UTC).isoformat(),
    )
