"""The households' read models: one row per household, one per bill. What is owed is computed when it is asked
(see ``queries.household_arrears_of``), from the bills and the money the escrow accounts recorded."""

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text

from billing_escrow.application.folding import Aggregate, FoldingProjection
from billing_escrow.application.rows import Writes, day, instant
from billing_escrow.domain import (
    HOUSEHOLD,
    Bill,
    BillCancelled,
    BillIssued,
    HouseholdState,
    apply_household,
)
from jinlin.events import DomainEvent
from jinlin.store import StoredEvent

metadata = MetaData()

HOUSEHOLDS: Aggregate[HouseholdState] = Aggregate(HOUSEHOLD, apply_household)

household_view = Table(
    "escrow_household_view",
    metadata,
    Column("household_id", String(100), primary_key=True),
    Column("compound_id", String(100), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("floor_area_dm2", BigInteger, nullable=False),
    Column("registered_at", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

bill_view = Table(
    "escrow_bill_view",
    metadata,
    Column("household_id", String(100), primary_key=True),
    Column("bill_id", String(100), primary_key=True),
    Column("compound_id", String(100), nullable=False, index=True),
    Column("purpose", String(20), nullable=False),
    Column("period", String(7), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("quantity_unit", String(10), nullable=False),
    Column("unit_price_fen", BigInteger, nullable=False),
    Column("unit_price_per_units", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("cancelled_at", String(32)),
    Column("cancel_reason", Text),
)


def household_row(state: HouseholdState) -> dict[str, object]:
    return {
        "household_id": state.household_id,
        "compound_id": state.compound_id,
        "label": state.label,
        "floor_area_dm2": state.floor_area_dm2,
        "registered_at": instant(state.registered_at),
        "version": state.version,
        "updated_at": instant(state.updated_at),
    }


def bill_row(state: HouseholdState, bill: Bill) -> dict[str, object]:
    return {
        "household_id": state.household_id,
        "bill_id": bill.bill_id,
        "compound_id": state.compound_id,
        "purpose": bill.purpose.value,
        "period": bill.period,
        "quantity": bill.quantity,
        "quantity_unit": bill.quantity_unit.value,
        "unit_price_fen": bill.unit_price.fen,
        "unit_price_per_units": bill.unit_price.per_units,
        "amount_fen": bill.amount_fen,
        "due_on": day(bill.due_on),
        "issued_at": instant(bill.issued_at),
        "sequence": bill.sequence,
        "cancelled_at": instant(bill.cancelled_at),
        "cancel_reason": bill.cancel_reason,
    }


class HouseholdProjection(FoldingProjection[HouseholdState]):
    name = "escrow_households"
    aggregate = HOUSEHOLDS
    tables = (household_view, bill_view)

    def update(
        self,
        writes: Writes,
        stored: StoredEvent,
        event: DomainEvent,
        before: HouseholdState | None,
        after: HouseholdState,
    ) -> None:
        writes.upsert(household_view, household_row(after), ["household_id"])
        if isinstance(event, BillIssued | BillCancelled):
            writes.upsert(bill_view, bill_row(after, after.bills[event.bill_id]), ["household_id", "bill_id"])
