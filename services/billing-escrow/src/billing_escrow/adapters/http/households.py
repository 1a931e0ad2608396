"""Households and their bills: registration (by the flat's label, never a resident's name), fee schedules, meter
readings, bills. Each command accepts ``Idempotency-Key`` and ``If-Match`` with the household's ETag."""

from collections.abc import Callable, Sequence
from datetime import datetime

from fastapi import APIRouter, Request, Response

from billing_escrow.adapters.http.commanding import DOCS, command, creating
from billing_escrow.adapters.http.dependencies import AccountAdmin, BillId, HouseholdId
from billing_escrow.adapters.http.schemas import (
    CancelBill,
    CorrectFloorArea,
    HouseholdView,
    IssueBill,
    RecordMeterReading,
    RegisterHousehold,
    SetFeeSchedule,
)
from billing_escrow.application import queries, setup
from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import (
    HOUSEHOLD,
    HouseholdEvent,
    HouseholdState,
    cancel_bill,
    correct_floor_area,
    issue_bill,
    record_meter_reading,
    set_fee_schedule,
)
from jinlin.store import Stream, Transaction
from jinlin.web import CommandResult, Staff

router = APIRouter(tags=["households and bills"])

Decide = Callable[[HouseholdState, datetime], Sequence[HouseholdEvent]]


async def _answer(tx: Transaction, state: HouseholdState, status_code: int | None = None) -> CommandResult:
    row = await queries.household_row(tx.connection, state.household_id)
    assert row is not None
    return CommandResult(HouseholdView.model_validate(row), version=state.version, status_code=status_code)


async def _change(request: Request, staff: Staff, household_id: str, scope: str, decide: Decide) -> Response:
    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, _ = await context.households.change(tx, household_id, lambda household: decide(household, at))
        return await _answer(tx, state)

    return await command(request, staff, scope, handle, stream=Stream(HOUSEHOLD, household_id))


@router.post("/households", status_code=201, response_model=HouseholdView, **creating(DOCS, HouseholdView))
async def register(body: RegisterHousehold, request: Request, staff: AccountAdmin) -> Response:
    """``201`` when registered, ``200`` when the same household was registered before."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, created = await setup.register(
            tx,
            context,
            household_id=body.household_id,
            compound_id=body.compound_id,
            label=body.label,
            floor_area_dm2=body.floor_area_dm2,
            at=at,
        )
        answer = await _answer(tx, state, 201 if created else 200)
        return CommandResult(answer.body, version=answer.version, status_code=answer.status_code,
                             headers={"Location": f"/households/{body.household_id}"})  # fmt: skip

    return await command(request, staff, "register_household", handle, stream=None, status_code=201)


@router.post("/households/{household_id}/floor-area", response_model=HouseholdView, **DOCS)
async def correct_area(
    household_id: HouseholdId, body: CorrectFloorArea, request: Request, staff: AccountAdmin
) -> Response:
    """Counts for bills issued from now on."""
    return await _change(
        request, staff, household_id, "floor_area",
        lambda h, at: correct_floor_area(h, floor_area_dm2=body.floor_area_dm2, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/households/{household_id}/fee-schedules", response_model=HouseholdView, **DOCS)
async def set_schedule(
    household_id: HouseholdId, body: SetFeeSchedule, request: Request, staff: AccountAdmin
) -> Response:
    """The price of a purpose from a month on."""
    return await _change(
        request, staff, household_id, "fee_schedule",
        lambda h, at: set_fee_schedule(
            h, purpose=body.purpose, unit_price=body.unit_price, effective_from=body.effective_from, at=at
        ),
    )  # fmt: skip


@router.post("/households/{household_id}/meter-readings", response_model=HouseholdView, **DOCS)
async def record_reading(
    household_id: HouseholdId, body: RecordMeterReading, request: Request, staff: AccountAdmin
) -> Response:
    """A water or electricity meter's reading at the end of a month."""
    return await _change(
        request, staff, household_id, "meter_reading",
        lambda h, at: record_meter_reading(
            h, purpose=body.purpose, period=body.period, reading=body.reading, meter_number=body.meter_number, at=at
        ),
    )  # fmt: skip


@router.post("/households/{household_id}/bills", response_model=HouseholdView, **DOCS)
async def bill(household_id: HouseholdId, body: IssueBill, request: Request, staff: AccountAdmin) -> Response:
    """Bill a month at the schedule in force for it (floor area, or consumption between meter readings)."""
    return await _change(
        request, staff, household_id, "bill",
        lambda h, at: issue_bill(h, bill_id=body.bill_id, purpose=body.purpose, period=body.period,
                                 due_on=body.due_on, at=at),
    )  # fmt: skip


@router.post("/households/{household_id}/bills/{bill_id}/cancel", response_model=HouseholdView, **DOCS)
async def cancel(
    household_id: HouseholdId, bill_id: BillId, body: CancelBill, request: Request, staff: AccountAdmin
) -> Response:
    """A bill issued in error no longer counts; a corrected one may be issued for the month."""
    return await _change(
        request, staff, household_id, "cancel_bill",
        lambda h, at: cancel_bill(h, bill_id=bill_id, reason=body.reason, at=at),
    )  # fmt: skip
