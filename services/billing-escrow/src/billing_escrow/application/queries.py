"""What the finance desk, the notary and auditors read: accounts and balances (as of any date), the households'
sub-ledgers and arrears, payments out awaiting signatures, handover progress and statements.

Balances as of a date are sums over the journal rows booked up to that date; the current balances in the account
row are the fold of the events. Both are read models of the same log and must agree (the tests check they do).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from billing_escrow.application.account_views import (
    PAID_IN,
    PAID_OUT,
    REALLOCATED,
    account_view,
    disbursement_view,
    household_movement_view,
    posting_view,
)
from billing_escrow.application.handover_views import handover_household_view, handover_view
from billing_escrow.application.household_views import bill_view, household_view
from billing_escrow.application.rows import day
from billing_escrow.application.statement_views import statement_view
from billing_escrow.domain import (
    Bill,
    HouseholdArrears,
    HouseholdState,
    Purpose,
    QuantityUnit,
    Receipt,
    UnitPrice,
    household_arrears,
)

Row = dict[str, Any]


def _rows(result: Any) -> list[Row]:
    return [dict(row._mapping) for row in result]


# --- accounts ------------------------------------------------------------------------------------------------------


async def list_accounts(
    conn: AsyncConnection, *, compound_id: str | None, purpose: str | None, status: str | None
) -> list[Row]:
    view = account_view.c
    conditions = [
        column == value
        for column, value in ((view.compound_id, compound_id), (view.purpose, purpose), (view.status, status))
        if value is not None
    ]
    return _rows(await conn.execute(select(account_view).where(*conditions).order_by(view.account_id)))


async def account_row(conn: AsyncConnection, account_id: str) -> Row | None:
    row = (await conn.execute(select(account_view).where(account_view.c.account_id == account_id))).first()
    return dict(row._mapping) if row else None


@dataclass(frozen=True)
class HouseholdLedger:
    household_id: str
    paid_in_fen: int
    reallocated_fen: int
    paid_out_fen: int
    free_fen: int
    reserved_fen: int

    @property
    def balance_fen(self) -> int:
        return self.free_fen + self.reserved_fen

    @property
    def reconciled(self) -> bool:
        """The sub-ledger agrees with the household's documents: what came in, moved and went out."""
        return self.paid_in_fen + self.reallocated_fen - self.paid_out_fen == self.balance_fen


@dataclass(frozen=True)
class Balances:
    account_id: str
    as_of: date | None
    held_fen: int
    reserved_fen: int
    available_fen: int
    households: list[HouseholdLedger]

    @property
    def difference_fen(self) -> int:
        """The bank balance less what the households' sub-ledgers hold: zero in balanced books."""
        return self.held_fen - self.reserved_fen - self.available_fen


async def household_ledgers(
    conn: AsyncConnection, account_id: str, as_of: date | None, household_id: str | None = None
) -> list[HouseholdLedger]:
    view = household_movement_view.c
    conditions = [view.account_id == account_id]
    if as_of is not None:
        conditions.append(view.booked_on <= day(as_of))
    if household_id is not None:
        conditions.append(view.household_id == household_id)
    query = (
        select(
            view.household_id,
            view.category,
            func.sum(view.free_change_fen),
            func.sum(view.reserved_change_fen),
            func.sum(view.effect_fen),
        )
        .where(*conditions)
        .group_by(view.household_id, view.category)
    )
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for household, category, free, reserved, effect in (await conn.execute(query)).all():
        line = sums[household]
        line["free"] += int(free or 0)
        line["reserved"] += int(reserved or 0)
        line[category] += int(effect or 0)
    return [
        HouseholdLedger(
            household_id=household,
            paid_in_fen=line[PAID_IN],
            reallocated_fen=line[REALLOCATED],
            paid_out_fen=-line[PAID_OUT],
            free_fen=line["free"],
            reserved_fen=line["reserved"],
        )
        for household, line in sorted(sums.items())
    ]


async def balances(conn: AsyncConnection, account_id: str, as_of: date | None) -> Balances:
    conditions = [posting_view.c.account_id == account_id]
    if as_of is not None:
        conditions.append(posting_view.c.booked_on <= day(as_of))
    held = (await conn.execute(select(func.sum(posting_view.c.bank_change_fen)).where(*conditions))).scalar()
    ledgers = await household_ledgers(conn, account_id, as_of)
    return Balances(
        account_id=account_id,
        as_of=as_of,
        held_fen=int(held or 0),
        reserved_fen=sum(line.reserved_fen for line in ledgers),
        available_fen=sum(line.free_fen for line in ledgers),
        households=ledgers,
    )


async def household_entries(conn: AsyncConnection, account_id: str, household_id: str, as_of: date | None) -> list[Row]:
    view = household_movement_view.c
    conditions = [view.account_id == account_id, view.household_id == household_id]
    if as_of is not None:
        conditions.append(view.booked_on <= day(as_of))
    query = select(household_movement_view).where(*conditions).order_by(view.booked_on, view.sequence)
    return _rows(await conn.execute(query))


async def journal(conn: AsyncConnection, account_id: str, start: date | None, end: date | None) -> list[Row]:
    view = posting_view.c
    conditions = [view.account_id == account_id]
    if start is not None:
        conditions.append(view.booked_on >= day(start))
    if end is not None:
        conditions.append(view.booked_on <= day(end))
    return _rows(await conn.execute(select(posting_view).where(*conditions).order_by(view.booked_on, view.sequence)))


# --- payments out --------------------------------------------------------------------------------------------------


async def list_disbursements(
    conn: AsyncConnection,
    *,
    account_id: str | None = None,
    compound_id: str | None = None,
    status: str | None = None,
    awaiting: str | None = None,
) -> list[Row]:
    """``awaiting``: pending ones still lacking the signature of that role (what a signer's queue shows)."""
    view = disbursement_view.c
    conditions = [
        column == value
        for column, value in ((view.account_id, account_id), (view.compound_id, compound_id), (view.status, status))
        if value is not None
    ]
    if awaiting is not None:
        conditions += [view.status == "pending", view.missing_roles.contains(f",{awaiting},", autoescape=True)]
    query = (
        select(disbursement_view).where(*conditions).order_by(view.expires_at, view.account_id, view.disbursement_id)
    )
    return _rows(await conn.execute(query))


async def disbursement_row(conn: AsyncConnection, account_id: str, disbursement_id: str) -> Row | None:
    view = disbursement_view.c
    query = select(disbursement_view).where(view.account_id == account_id, view.disbursement_id == disbursement_id)
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None


# --- households and arrears ----------------------------------------------------------------------------------------


async def list_households(conn: AsyncConnection, compound_id: str | None) -> list[Row]:
    view = household_view.c
    conditions = [view.compound_id == compound_id] if compound_id is not None else []
    return _rows(await conn.execute(select(household_view).where(*conditions).order_by(view.household_id)))


async def household_row(conn: AsyncConnection, household_id: str) -> Row | None:
    row = (await conn.execute(select(household_view).where(household_view.c.household_id == household_id))).first()
    return dict(row._mapping) if row else None


async def bills_of(conn: AsyncConnection, household_id: str) -> list[Row]:
    view = bill_view.c
    query = select(bill_view).where(view.household_id == household_id).order_by(view.period, view.sequence)
    return _rows(await conn.execute(query))


def bill_of(row: Row) -> Bill:
    return Bill(
        bill_id=row["bill_id"],
        purpose=Purpose(row["purpose"]),
        period=row["period"],
        quantity=row["quantity"],
        quantity_unit=QuantityUnit(row["quantity_unit"]),
        unit_price=UnitPrice(fen=row["unit_price_fen"], per_units=row["unit_price_per_units"]),
        amount_fen=row["amount_fen"],
        due_on=date.fromisoformat(row["due_on"]),
        issued_at=datetime.fromisoformat(row["issued_at"]),
        sequence=row["sequence"],
        cancelled_at=datetime.fromisoformat(row["cancelled_at"]) if row["cancelled_at"] else None,
        cancel_reason=row["cancel_reason"],
    )


async def receipts_of(conn: AsyncConnection, compound_id: str, household_id: str, purpose: Purpose) -> list[Receipt]:
    """What the household paid into its compound's accounts for ``purpose``, net of corrections."""
    movements = household_movement_view.c
    accounts = account_view.c
    query = (
        select(movements.movement_id, movements.booked_on, movements.effect_fen)
        .join(account_view, accounts.account_id == movements.account_id)
        .where(
            accounts.compound_id == compound_id,
            accounts.purpose == purpose.value,
            movements.household_id == household_id,
            movements.category.in_([PAID_IN, REALLOCATED]),
            movements.effect_fen != 0,
        )
    )
    return [
        Receipt(movement_id, date.fromisoformat(booked_on), int(amount))
        for movement_id, booked_on, amount in (await conn.execute(query)).all()
    ]


async def arrears_of(conn: AsyncConnection, household: Row, purpose: Purpose, as_of: date) -> HouseholdArrears:
    """A household's bills of one purpose against what it paid, oldest first, with ageing, as of a date."""
    bills = [bill_of(row) for row in await bills_of(conn, household["household_id"]) if row["purpose"] == purpose]
    state = HouseholdState(
        household_id=household["household_id"],
        compound_id=household["compound_id"],
        label=household["label"],
        floor_area_dm2=household["floor_area_dm2"],
        version=household["version"],
        registered_at=datetime.fromisoformat(household["registered_at"]),
        updated_at=datetime.fromisoformat(household["updated_at"]),
        bills={bill.bill_id: bill for bill in bills},
    )
    receipts = await receipts_of(conn, household["compound_id"], household["household_id"], purpose)
    return household_arrears(state, purpose, receipts, as_of)


# --- handovers and statements --------------------------------------------------------------------------------------


async def list_handovers(conn: AsyncConnection) -> list[Row]:
    return _rows(await conn.execute(select(handover_view).order_by(handover_view.c.compound_id)))


async def handover_row(conn: AsyncConnection, compound_id: str) -> Row | None:
    row = (await conn.execute(select(handover_view).where(handover_view.c.compound_id == compound_id))).first()
    return dict(row._mapping) if row else None


async def handover_households(conn: AsyncConnection, compound_id: str) -> list[Row]:
    view = handover_household_view.c
    query = select(handover_household_view).where(view.compound_id == compound_id).order_by(view.household_id)
    return _rows(await conn.execute(query))


async def statements_of(conn: AsyncConnection, account_id: str) -> list[Row]:
    view = statement_view.c
    return _rows(
        await conn.execute(select(statement_view).where(view.account_id == account_id).order_by(view.sequence))
    )


async def statement_row(conn: AsyncConnection, statement_id: str) -> Row | None:
    row = (await conn.execute(select(statement_view).where(statement_view.c.statement_id == statement_id))).first()
    return dict(row._mapping) if row else None
