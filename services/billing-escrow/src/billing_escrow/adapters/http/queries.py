"""What the desk, the notary and auditors read: accounts and balances as of any date, the households' sub-ledgers
and arrears, payments out awaiting signatures, handover progress. Every read is open to the finance desk,
supervisors, the notary and auditors."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from billing_escrow.adapters.http.dependencies import (
    AccountId,
    CompoundId,
    DisbursementId,
    HouseholdId,
    Reader,
    account_view,
    context_of,
    disbursement_view,
    handover_household_view,
    handover_view,
)
from billing_escrow.adapters.http.schemas import (
    AccountView,
    ArrearsLine,
    ArrearsView,
    BalancesView,
    BillView,
    DisbursementView,
    HandoverDetail,
    HandoverView,
    HouseholdDetail,
    HouseholdEntryView,
    HouseholdLedgerDetail,
    HouseholdLedgerView,
    HouseholdView,
    JournalEntryView,
    ReadingView,
    ScheduleView,
)
from billing_escrow.application import queries
from billing_escrow.application.context import EscrowContext
from billing_escrow.application.queries import HouseholdLedger, Row
from billing_escrow.domain import (
    AccountStatus,
    AgeingBucket,
    DisbursementStatus,
    NotFound,
    Purpose,
    SignerRole,
    UnitPrice,
    bucket_for,
    business_date,
)
from billing_escrow.domain.identifiers import IDENTIFIER_PATTERN
from jinlin.web import problem_responses, versioned_response

router = APIRouter(tags=["escrow queries"])
Id = Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN, max_length=100)]
AsOf = Annotated[date | None, Query(description="At the end of this day (China time); today if left out.")]
NOT_FOUND = problem_responses(404, 422)


def _ledger_view(line: HouseholdLedger) -> HouseholdLedgerView:
    return HouseholdLedgerView(
        household_id=line.household_id,
        paid_in_fen=line.paid_in_fen,
        reallocated_fen=line.reallocated_fen,
        paid_out_fen=line.paid_out_fen,
        free_fen=line.free_fen,
        reserved_fen=line.reserved_fen,
        balance_fen=line.balance_fen,
        reconciled=line.reconciled,
    )


async def _account(context: EscrowContext, account_id: str) -> Row:
    async with context.store.engines.reader.connect() as conn:
        row = await queries.account_row(conn, account_id)
    if row is None:
        raise NotFound("escrow account", account_id)
    return row


# --- accounts ------------------------------------------------------------------------------------------------------


@router.get("/accounts", response_model=list[AccountView], responses=problem_responses(422))
async def accounts(
    request: Request,
    _staff: Reader,
    compound_id: Id = None,
    purpose: Purpose | None = None,
    status: AccountStatus | None = None,
) -> list[AccountView]:
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        rows = await queries.list_accounts(
            conn, compound_id=compound_id, purpose=purpose.value if purpose else None,
            status=status.value if status else None,
        )  # fmt: skip
    return [account_view(row) for row in rows]


@router.get("/accounts/{account_id}", response_model=AccountView, responses=NOT_FOUND)
async def account(account_id: AccountId, request: Request, _staff: Reader) -> Response:
    """The account now; ``ETag`` is its version (send it back as ``If-Match``)."""
    row = await _account(context_of(request), account_id)
    return versioned_response(request, account_view(row).model_dump(mode="json"), row["version"])


@router.get("/accounts/{account_id}/balances", response_model=BalancesView, responses=NOT_FOUND)
async def balances(account_id: AccountId, request: Request, _staff: Reader, as_of: AsOf = None) -> BalancesView:
    """Held, reserved and available, and each household's sub-ledger, at the end of ``as_of`` (by booking date)."""
    context = context_of(request)
    await _account(context, account_id)
    async with context.store.engines.reader.connect() as conn:
        result = await queries.balances(conn, account_id, as_of)
    return BalancesView(
        account_id=account_id,
        as_of=as_of,
        held_fen=result.held_fen,
        reserved_fen=result.reserved_fen,
        available_fen=result.available_fen,
        difference_fen=result.difference_fen,
        households=[_ledger_view(line) for line in result.households],
    )


@router.get(
    "/accounts/{account_id}/households/{household_id}", response_model=HouseholdLedgerDetail, responses=NOT_FOUND
)
async def household_ledger(
    account_id: AccountId, household_id: HouseholdId, request: Request, _staff: Reader, as_of: AsOf = None
) -> HouseholdLedgerDetail:
    """One household's sub-ledger in the account, with every entry."""
    context = context_of(request)
    await _account(context, account_id)
    async with context.store.engines.reader.connect() as conn:
        lines = await queries.household_ledgers(conn, account_id, as_of, household_id)
        entries = await queries.household_entries(conn, account_id, household_id, as_of)
    if not lines:
        raise NotFound("sub-ledger of household", household_id)
    return HouseholdLedgerDetail(
        **_ledger_view(lines[0]).model_dump(),
        account_id=account_id,
        as_of=as_of,
        entries=[HouseholdEntryView.model_validate(entry) for entry in entries],
    )


@router.get("/accounts/{account_id}/journal", response_model=list[JournalEntryView], responses=NOT_FOUND)
async def journal(
    account_id: AccountId,
    request: Request,
    _staff: Reader,
    booked_from: date | None = None,
    booked_to: date | None = None,
) -> list[JournalEntryView]:
    """Every posting by booking date: payments in, corrections, reservations, releases and payments out."""
    context = context_of(request)
    await _account(context, account_id)
    async with context.store.engines.reader.connect() as conn:
        rows = await queries.journal(conn, account_id, booked_from, booked_to)
    return [JournalEntryView.model_validate(row) for row in rows]


# --- payments out --------------------------------------------------------------------------------------------------


@router.get("/disbursements", response_model=list[DisbursementView], responses=problem_responses(422))
async def disbursements(
    request: Request,
    _staff: Reader,
    awaiting: Annotated[
        SignerRole | None, Query(description="Pending ones still lacking this role's signature")
    ] = None,
    status: DisbursementStatus | None = None,
    account_id: Id = None,
    compound_id: Id = None,
) -> list[DisbursementView]:
    """Payments out, soonest to expire first: ``?awaiting=notary`` is the notary's queue."""
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        rows = await queries.list_disbursements(
            conn, account_id=account_id, compound_id=compound_id, status=status.value if status else None,
            awaiting=awaiting.value if awaiting else None,
        )  # fmt: skip
    return [disbursement_view(row) for row in rows]


@router.get(
    "/accounts/{account_id}/disbursements/{disbursement_id}", response_model=DisbursementView, responses=NOT_FOUND
)
async def disbursement(
    account_id: AccountId, disbursement_id: DisbursementId, request: Request, _staff: Reader
) -> DisbursementView:
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        row = await queries.disbursement_row(conn, account_id, disbursement_id)
    if row is None:
        raise NotFound("disbursement", disbursement_id)
    return disbursement_view(row)


# --- households and arrears ----------------------------------------------------------------------------------------


@router.get("/households", response_model=list[HouseholdView], responses=problem_responses(422))
async def households(request: Request, _staff: Reader, compound_id: Id = None) -> list[HouseholdView]:
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        rows = await queries.list_households(conn, compound_id)
    return [HouseholdView.model_validate(row) for row in rows]


@router.get("/households/{household_id}", response_model=HouseholdDetail, responses=NOT_FOUND)
async def household(household_id: HouseholdId, request: Request, _staff: Reader) -> Response:
    """The household with its fee schedules, meter readings and bills; ``ETag`` is its version."""
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        state = await context.households.get(conn, household_id)
        row = await queries.household_row(conn, household_id)
        bills = await queries.bills_of(conn, household_id)
    assert row is not None
    detail = HouseholdDetail(
        **HouseholdView.model_validate(row).model_dump(),
        schedules=[
            ScheduleView(purpose=s.purpose.value, unit_price=s.unit_price, effective_from=s.effective_from)
            for s in state.schedules
        ],
        readings=[
            ReadingView(purpose=purpose.value, period=period, reading=reading)
            for (purpose, period), reading in sorted(state.readings.items())
        ],
        bills=[_bill_view(bill) for bill in bills],
    )
    return versioned_response(request, detail.model_dump(mode="json"), state.version)


def _bill_view(row: Row) -> BillView:
    price = UnitPrice(fen=row["unit_price_fen"], per_units=row["unit_price_per_units"])
    return BillView.model_validate(row | {"unit_price": price, "live": row["cancelled_at"] is None})


async def _arrears(conn: AsyncConnection, household: Row, purpose: Purpose, as_of: date) -> ArrearsView:
    result = await queries.arrears_of(conn, household, purpose, as_of)
    return ArrearsView(
        household_id=result.household_id,
        purpose=purpose.value,
        as_of=as_of,
        billed_fen=result.billed_fen,
        paid_fen=result.paid_fen,
        outstanding_fen=result.settlement.outstanding_fen,
        arrears_fen=result.arrears_fen,
        credit_fen=result.credit_fen,
        buckets={bucket.value: amount for bucket, amount in result.buckets.items()},
        lines=[
            ArrearsLine(
                bill_id=line.bill_id,
                period=line.period,
                due_on=line.due_on,
                amount_fen=line.amount_fen,
                paid_fen=line.paid_fen,
                outstanding_fen=line.outstanding_fen,
                bucket=bucket_for(line.due_on, as_of).value if line.outstanding_fen else AgeingBucket.NOT_DUE.value,
            )
            for line in result.settlement.lines
        ],
    )


@router.get("/households/{household_id}/arrears", response_model=ArrearsView, responses=NOT_FOUND)
async def household_arrears(
    household_id: HouseholdId, request: Request, _staff: Reader, purpose: Purpose, as_of: AsOf = None
) -> ArrearsView:
    """What the household owes for one purpose, its bills settled oldest first, aged by days overdue."""
    context = context_of(request)
    day = as_of or business_date(context.clock())
    async with context.store.engines.reader.connect() as conn:
        row = await queries.household_row(conn, household_id)
        if row is None:
            raise NotFound("household", household_id)
        return await _arrears(conn, row, purpose, day)


@router.get("/compounds/{compound_id}/arrears", response_model=list[ArrearsView], responses=problem_responses(422))
async def compound_arrears(
    compound_id: CompoundId, request: Request, _staff: Reader, purpose: Purpose, as_of: AsOf = None
) -> list[ArrearsView]:
    """Every household of the compound, for one purpose."""
    context = context_of(request)
    day = as_of or business_date(context.clock())
    async with context.store.engines.reader.connect() as conn:
        rows = await queries.list_households(conn, compound_id)
        return [await _arrears(conn, row, purpose, day) for row in rows]


# --- handovers -----------------------------------------------------------------------------------------------------


@router.get("/handovers", response_model=list[HandoverView])
async def handovers(request: Request, _staff: Reader) -> list[HandoverView]:
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        rows = await queries.list_handovers(conn)
    return [handover_view(row) for row in rows]


@router.get("/handovers/{compound_id}", response_model=HandoverDetail, responses=NOT_FOUND)
async def handover(compound_id: CompoundId, request: Request, _staff: Reader) -> Response:
    """The compound's progress: milestones, meters and switches, the arrears paid, each household's share."""
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        row = await queries.handover_row(conn, compound_id)
        if row is None:
            raise NotFound("handover of compound", compound_id)
        breakdown = await queries.handover_households(conn, compound_id)
    detail = HandoverDetail(
        **handover_view(row).model_dump(), household_breakdown=[handover_household_view(r) for r in breakdown]
    )
    return versioned_response(request, detail.model_dump(mode="json"), row["version"])
