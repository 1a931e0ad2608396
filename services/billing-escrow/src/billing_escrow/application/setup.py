"""Creating aggregates: escrow accounts, households and handovers. Creating one again exactly as it is records
nothing (a retry); creating it otherwise is an ``IdempotencyConflict``."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from billing_escrow.application.context import EscrowContext
from billing_escrow.application.household_views import household_view
from billing_escrow.domain import (
    AccountState,
    AccountTerms,
    AllocationRule,
    HandoverEvent,
    HandoverState,
    HouseholdState,
    IdempotencyConflict,
    InvalidTransition,
    Purpose,
    ValidationFailed,
    allocate_arrears,
    record_escrow_opened,
    register_household,
    request_account,
    start_handover,
)
from jinlin.store import Transaction


async def open_request(
    tx: Transaction,
    context: EscrowContext,
    *,
    account_id: str,
    compound_id: str,
    purpose: Purpose,
    terms: AccountTerms,
    at: datetime,
) -> tuple[AccountState, bool]:
    """Ask for an escrow account; ``True`` when this call created it."""
    new = request_account(account_id=account_id, compound_id=compound_id, purpose=purpose, terms=terms, at=at)
    existing = await context.accounts.load(tx.connection, account_id)
    if existing is not None:
        if (existing.compound_id, existing.purpose, existing.terms) == (compound_id, purpose, terms):
            return existing, False
        raise IdempotencyConflict("escrow account", account_id)
    state = await context.accounts.record(tx, account_id, None, new)
    assert state is not None
    return state, True


async def register(
    tx: Transaction,
    context: EscrowContext,
    *,
    household_id: str,
    compound_id: str,
    label: str,
    floor_area_dm2: int,
    at: datetime,
) -> tuple[HouseholdState, bool]:
    new = register_household(
        household_id=household_id, compound_id=compound_id, label=label, floor_area_dm2=floor_area_dm2, at=at
    )
    existing = await context.households.load(tx.connection, household_id)
    if existing is not None:
        if (existing.compound_id, existing.label, existing.floor_area_dm2) == (
            compound_id,
            label.strip(),
            floor_area_dm2,
        ):
            return existing, False
        raise IdempotencyConflict("household", household_id)
    state = await context.households.record(tx, household_id, None, new)
    assert state is not None
    return state, True


async def households_of(tx: Transaction, compound_id: str) -> list[str]:
    query = select(household_view.c.household_id).where(household_view.c.compound_id == compound_id)
    return sorted((await tx.connection.execute(query)).scalars())


async def start(
    tx: Transaction,
    context: EscrowContext,
    *,
    compound_id: str,
    household_ids: Sequence[str] | None,
    at: datetime,
) -> tuple[HandoverState, bool]:
    """Start the handover of the households given, or else of every household registered in the compound."""
    chosen = list(household_ids) if household_ids is not None else await households_of(tx, compound_id)
    if not chosen:
        raise ValidationFailed.single("household_ids", "no household is registered in the compound; name them")
    new = start_handover(compound_id=compound_id, household_ids=chosen, at=at)
    existing = await context.handovers.load(tx.connection, compound_id)
    if existing is not None:
        if set(existing.household_ids) == set(chosen):
            return existing, False
        raise IdempotencyConflict("handover of compound", compound_id, "was already started with other households")
    state = await context.handovers.record(tx, compound_id, None, new)
    assert state is not None
    return state, True


async def record_escrow(
    tx: Transaction, context: EscrowContext, handover: HandoverState, *, account_id: str, at: datetime
) -> list[HandoverEvent]:
    """The compound's electricity escrow account, once the notary office has opened it."""
    account = await context.accounts.load(tx.connection, account_id)
    if account is None or account.compound_id != handover.compound_id:
        raise ValidationFailed.single("account_id", f"names no escrow account of compound {handover.compound_id}")
    if account.purpose is not Purpose.ELECTRICITY:
        raise ValidationFailed.single("account_id", "must be the compound's electricity fee account")
    if account.notary is None:
        raise InvalidTransition(
            "record the escrow account", f"the account is {account.status}", "the notary has not opened it"
        )
    return list(record_escrow_opened(handover, account_id=account_id, at=at))


async def allocation_basis(
    tx: Transaction,
    context: EscrowContext,
    handover: HandoverState,
    *,
    rule: AllocationRule,
    basis: Mapping[str, int] | None,
    readings_from: str | None,
    readings_to: str | None,
) -> dict[str, int]:
    """The basis given, or else the registered one: floor areas (dm²), or electricity used between two readings."""
    if basis is not None:
        return dict(basis)
    by_readings = rule is AllocationRule.BY_METER_READING
    if by_readings and (readings_from is None or readings_to is None or readings_from >= readings_to):
        raise ValidationFailed.single("readings_from", "give two months, readings_from before readings_to")
    derived: dict[str, int] = {}
    for household_id in handover.household_ids:
        household = await context.households.load(tx.connection, household_id)
        if household is None:
            raise ValidationFailed.single("basis", f"household {household_id} is not registered; give the basis")
        if rule is AllocationRule.BY_FLOOR_AREA:
            derived[household_id] = household.floor_area_dm2
            continue
        first = household.readings.get((Purpose.ELECTRICITY, readings_from or ""))
        last = household.readings.get((Purpose.ELECTRICITY, readings_to or ""))
        if first is None or last is None:
            raise ValidationFailed.single("basis", f"household {household_id} lacks an electricity reading for them")
        derived[household_id] = last - first
    return derived


async def allocate(
    tx: Transaction,
    context: EscrowContext,
    handover: HandoverState,
    *,
    rule: AllocationRule,
    basis: Mapping[str, int] | None,
    readings_from: str | None,
    readings_to: str | None,
    at: datetime,
) -> list[HandoverEvent]:
    chosen = await allocation_basis(
        tx, context, handover, rule=rule, basis=basis, readings_from=readings_from, readings_to=readings_to
    )
    return list(allocate_arrears(handover, rule=rule, basis=chosen, at=at))
