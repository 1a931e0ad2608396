"""The direct-supply electricity handover of a compound, milestone by milestone. ``ArrearsPaid`` is not recorded
here: it follows from executing the escrow payment of the arrears (see ``application.arrears_paid``)."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from fastapi import APIRouter, Request, Response

from billing_escrow.adapters.http.commanding import DOCS, command, creating
from billing_escrow.adapters.http.dependencies import AccountAdmin, CompoundId, handover_household_view, handover_view
from billing_escrow.adapters.http.schemas import (
    AllocateArrears,
    ConfirmArrears,
    HandoverDetail,
    RecordEscrow,
    RecordFacilitiesTransferred,
    RecordMeterInstalled,
    RecordOwnersVote,
    RecordSupplySwitched,
    StartHandover,
)
from billing_escrow.application import queries, setup
from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import (
    HANDOVER,
    HandoverEvent,
    HandoverState,
    complete_handover,
    confirm_arrears,
    record_facilities_transferred,
    record_meter_installed,
    record_owners_vote,
    record_supply_switched,
)
from jinlin.store import Stream, Transaction
from jinlin.web import CommandResult, Staff

router = APIRouter(tags=["direct-supply handover"])

Decide = Callable[[Transaction, EscrowContext, HandoverState, datetime], Awaitable[Sequence[HandoverEvent]]]


async def handover_detail(tx: Transaction, compound_id: str) -> HandoverDetail:
    row = await queries.handover_row(tx.connection, compound_id)
    assert row is not None
    breakdown = [handover_household_view(r) for r in await queries.handover_households(tx.connection, compound_id)]
    return HandoverDetail(**handover_view(row).model_dump(), household_breakdown=breakdown)


async def _change(request: Request, staff: Staff, compound_id: str, scope: str, decide: Decide) -> Response:
    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state = await context.handovers.get(tx.connection, compound_id)
        after = await context.handovers.record(tx, compound_id, state, await decide(tx, context, state, at))
        assert after is not None
        return CommandResult(await handover_detail(tx, compound_id), version=after.version)

    return await command(request, staff, f"handover_{scope}", handle, stream=Stream(HANDOVER, compound_id))


def _pure(decide: Callable[[HandoverState, datetime], Sequence[HandoverEvent]]) -> Decide:
    async def run(
        _tx: Transaction, _context: EscrowContext, state: HandoverState, at: datetime
    ) -> Sequence[HandoverEvent]:
        return decide(state, at)

    return run


@router.post("/handovers", status_code=201, response_model=HandoverDetail, **creating(DOCS, HandoverDetail))
async def start(body: StartHandover, request: Request, staff: AccountAdmin) -> Response:
    """Start with the households on the master meter (every registered household of the compound if none named)."""

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        state, created = await setup.start(
            tx, context, compound_id=body.compound_id, household_ids=body.household_ids, at=at
        )
        return CommandResult(
            await handover_detail(tx, body.compound_id),
            version=state.version,
            headers={"Location": f"/handovers/{body.compound_id}"},
            status_code=201 if created else 200,
        )

    return await command(request, staff, "handover_start", handle, stream=None, status_code=201)


@router.post("/handovers/{compound_id}/owners-vote", response_model=HandoverDetail, **DOCS)
async def owners_vote(
    compound_id: CompoundId, body: RecordOwnersVote, request: Request, staff: AccountAdmin
) -> Response:
    """The owners' vote on the retrofit, as the owners' committee certified it."""
    return await _change(
        request, staff, compound_id, "vote",
        _pure(lambda state, at: record_owners_vote(state, **body.model_dump(), at=at)),
    )  # fmt: skip


@router.post("/handovers/{compound_id}/escrow", response_model=HandoverDetail, **DOCS)
async def escrow_opened(compound_id: CompoundId, body: RecordEscrow, request: Request, staff: AccountAdmin) -> Response:
    """The compound's electricity escrow account, opened at the notary office."""

    async def decide(
        tx: Transaction, context: EscrowContext, state: HandoverState, at: datetime
    ) -> list[HandoverEvent]:
        return await setup.record_escrow(tx, context, state, account_id=body.account_id, at=at)

    return await _change(request, staff, compound_id, "escrow", decide)


@router.post("/handovers/{compound_id}/arrears", response_model=HandoverDetail, **DOCS)
async def arrears_confirmed(
    compound_id: CompoundId, body: ConfirmArrears, request: Request, staff: AccountAdmin
) -> Response:
    """The power company confirmed the master meter's arrears (a new confirmation before payment replaces it)."""
    return await _change(
        request, staff, compound_id, "arrears",
        _pure(lambda state, at: confirm_arrears(
            state, amount_fen=body.amount_fen, creditor=body.creditor, master_meter_number=body.master_meter_number,
            confirmation_reference=body.confirmation_reference, as_of=body.as_of, at=at,
        )),
    )  # fmt: skip


@router.post("/handovers/{compound_id}/allocation", response_model=HandoverDetail, **DOCS)
async def allocate(compound_id: CompoundId, body: AllocateArrears, request: Request, staff: AccountAdmin) -> Response:
    """Share the arrears over every household by meter readings or floor area (largest remainder, shown per
    household in ``household_breakdown``)."""

    async def decide(
        tx: Transaction, context: EscrowContext, state: HandoverState, at: datetime
    ) -> list[HandoverEvent]:
        return await setup.allocate(
            tx, context, state, rule=body.rule, basis=body.basis,
            readings_from=body.readings_from, readings_to=body.readings_to, at=at,
        )  # fmt: skip

    return await _change(request, staff, compound_id, "allocation", decide)


@router.post("/handovers/{compound_id}/meters", response_model=HandoverDetail, **DOCS)
async def meter_installed(
    compound_id: CompoundId, body: RecordMeterInstalled, request: Request, staff: AccountAdmin
) -> Response:
    return await _change(
        request, staff, compound_id, "meter",
        _pure(lambda state, at: record_meter_installed(
            state, household_id=body.household_id, meter_number=body.meter_number, at=at
        )),
    )  # fmt: skip


@router.post("/handovers/{compound_id}/switches", response_model=HandoverDetail, **DOCS)
async def supply_switched(
    compound_id: CompoundId, body: RecordSupplySwitched, request: Request, staff: AccountAdmin
) -> Response:
    """The power company now supplies the household directly (its meter installed, the arrears paid in full)."""
    return await _change(
        request, staff, compound_id, "switch",
        _pure(lambda state, at: record_supply_switched(state, household_id=body.household_id, at=at)),
    )  # fmt: skip


@router.post("/handovers/{compound_id}/facilities", response_model=HandoverDetail, **DOCS)
async def facilities_transferred(
    compound_id: CompoundId, body: RecordFacilitiesTransferred, request: Request, staff: AccountAdmin
) -> Response:
    return await _change(
        request, staff, compound_id, "facilities",
        _pure(lambda state, at: record_facilities_transferred(
            state, transfer_reference=body.transfer_reference, note=body.note, at=at
        )),
    )  # fmt: skip


@router.post("/handovers/{compound_id}/complete", response_model=HandoverDetail, **DOCS)
async def complete(compound_id: CompoundId, request: Request, staff: AccountAdmin) -> Response:
    """Every household switched, the arrears paid in full, the facilities transferred."""
    return await _change(
        request, staff, compound_id, "complete", _pure(lambda state, at: complete_handover(state, at=at))
    )
