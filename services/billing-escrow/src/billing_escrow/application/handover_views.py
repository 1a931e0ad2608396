"""The direct-supply handovers' read models: one row of progress per compound, and one per household of it
(its share of the arrears and how it was arrived at, its new meter, its switch to direct supply)."""

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text

from billing_escrow.application.folding import Aggregate, FoldingProjection
from billing_escrow.application.rows import Writes, as_json, instant
from billing_escrow.domain import (
    HANDOVER,
    HandoverState,
    HouseholdMeterInstalled,
    HouseholdSupplySwitched,
    apply_handover,
    handover_progress,
)
from jinlin.events import DomainEvent
from jinlin.store import StoredEvent

metadata = MetaData()

HANDOVERS: Aggregate[HandoverState] = Aggregate(HANDOVER, apply_handover)

handover_view = Table(
    "escrow_handover_view",
    metadata,
    Column("compound_id", String(100), primary_key=True),
    Column("stage", String(40), nullable=False),
    Column("households", Integer, nullable=False),
    Column("meters_installed", Integer, nullable=False),
    Column("supply_switched", Integer, nullable=False),
    Column("meters_installed_percent", Integer, nullable=False),
    Column("supply_switched_percent", Integer, nullable=False),
    Column("escrow_account_id", String(100)),
    Column("creditor", Text),  # JSON: who confirmed the arrears
    Column("arrears_total_fen", BigInteger),
    Column("arrears_paid_fen", BigInteger, nullable=False),
    Column("arrears_paid_percent", Integer, nullable=False),
    Column("allocation_rule", String(40)),
    Column("payments", Text, nullable=False),  # JSON list of arrears payments from escrow
    Column("milestones", Text, nullable=False),  # JSON list of {name, done_at}
    Column("complete", Boolean, nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

handover_household_view = Table(
    "escrow_handover_household_view",
    metadata,
    Column("compound_id", String(100), primary_key=True),
    Column("household_id", String(100), primary_key=True),
    Column("share_fen", BigInteger),
    Column("basis", BigInteger),
    Column("floor_fen", BigInteger),
    Column("remainder", BigInteger),
    Column("extra_fen", Integer),
    Column("meter_number", String(140)),
    Column("meter_installed_at", String(32)),
    Column("switched_at", String(32)),
)


def stage_of(state: HandoverState) -> str:
    """The furthest milestone reached, in the order the handover goes."""
    if state.completed is not None:
        return "completed"
    if state.facilities is not None:
        return "facilities_transferred"
    if state.switched:
        return "switching_supply"
    if state.arrears_fully_paid:
        return "arrears_paid"
    if state.payments:
        return "arrears_partly_paid"
    if state.allocation is not None:
        return "arrears_allocated"
    if state.arrears is not None:
        return "arrears_confirmed"
    if state.escrow is not None:
        return "escrow_opened"
    if state.vote is not None:
        return "owners_voted" if state.vote.passed else "vote_failed"
    return "started"


def handover_row(state: HandoverState) -> dict[str, object]:
    progress = handover_progress(state)
    return {
        "compound_id": state.compound_id,
        "stage": stage_of(state),
        "households": progress.households,
        "meters_installed": progress.meters_installed,
        "supply_switched": progress.supply_switched,
        "meters_installed_percent": progress.meters_installed_percent,
        "supply_switched_percent": progress.supply_switched_percent,
        "escrow_account_id": state.escrow.account_id if state.escrow else None,
        "creditor": as_json(state.arrears.creditor.model_dump(mode="json")) if state.arrears else None,
        "arrears_total_fen": progress.arrears_total_fen,
        "arrears_paid_fen": progress.arrears_paid_fen,
        "arrears_paid_percent": progress.arrears_paid_percent,
        "allocation_rule": state.allocation.rule.value if state.allocation else None,
        "payments": as_json(
            [
                {
                    "account_id": p.account_id,
                    "disbursement_id": p.disbursement_id,
                    "amount_fen": p.amount_fen,
                    "paid_on": p.paid_on.isoformat(),
                    "bank_reference": p.bank_reference,
                }
                for p in sorted(state.payments.values(), key=lambda p: p.occurred_at)
            ]
        ),
        "milestones": as_json([{"name": m.name, "done_at": instant(m.done_at)} for m in progress.milestones]),
        "complete": progress.complete,
        "started_at": instant(state.started_at),
        "version": state.version,
        "updated_at": instant(state.updated_at),
    }


def household_rows(state: HandoverState, only: str | None = None) -> list[dict[str, object]]:
    shares = {s.household_id: s for s in state.allocation.shares} if state.allocation else {}
    rows: list[dict[str, object]] = []
    for household_id in state.household_ids:
        if only is not None and household_id != only:
            continue
        share = shares.get(household_id)
        meter = state.meters.get(household_id)
        switched = state.switched.get(household_id)
        rows.append(
            {
                "compound_id": state.compound_id,
                "household_id": household_id,
                "share_fen": share.amount_fen if share else None,
                "basis": share.basis if share else None,
                "floor_fen": share.floor_fen if share else None,
                "remainder": share.remainder if share else None,
                "extra_fen": share.extra_fen if share else None,
                "meter_number": meter.meter_number if meter else None,
                "meter_installed_at": instant(meter.occurred_at) if meter else None,
                "switched_at": instant(switched.occurred_at) if switched else None,
            }
        )
    return rows


class HandoverProjection(FoldingProjection[HandoverState]):
    name = "escrow_handovers"
    aggregate = HANDOVERS
    tables = (handover_view, handover_household_view)

    def update(
        self,
        writes: Writes,
        stored: StoredEvent,
        event: DomainEvent,
        before: HandoverState | None,
        after: HandoverState,
    ) -> None:
        writes.upsert(handover_view, handover_row(after), ["compound_id"])
        if isinstance(event, HouseholdMeterInstalled | HouseholdSupplySwitched):
            for row in household_rows(after, only=event.household_id):
                writes.upsert(handover_household_view, row, ["compound_id", "household_id"])
        elif before is None or before.allocation is not after.allocation:
            writes.delete(handover_household_view, "compound_id", after.compound_id)
            writes.insert(handover_household_view, *household_rows(after))
