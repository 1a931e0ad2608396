"""A household's state: the fold of its billing events."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from billing_escrow.domain.errors import HistoryError
from billing_escrow.domain.household_events import (
    BillCancelled,
    BillIssued,
    FeeScheduleSet,
    FloorAreaCorrected,
    HouseholdEvent,
    HouseholdRegistered,
    MeterReadingRecorded,
)
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.tariffs import QuantityUnit, UnitPrice
from jinlin.events import DomainEvent


@dataclass(frozen=True)
class Schedule:
    purpose: Purpose
    unit_price: UnitPrice
    effective_from: str


@dataclass(frozen=True)
class Bill:
    bill_id: str
    purpose: Purpose
    period: str
    quantity: int
    quantity_unit: QuantityUnit
    unit_price: UnitPrice
    amount_fen: int
    due_on: date
    issued_at: datetime
    sequence: int  # the order bills were issued in: ties within a month are settled in this order
    baseline_period: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def is_live(self) -> bool:
        return self.cancelled_at is None

    def live_on(self, at: datetime) -> bool:
        """Issued by ``at`` and not cancelled by then."""
        return self.issued_at <= at and (self.cancelled_at is None or self.cancelled_at > at)


@dataclass(frozen=True)
class HouseholdState:
    household_id: str
    compound_id: str
    label: str
    floor_area_dm2: int
    version: int
    registered_at: datetime
    updated_at: datetime
    schedules: tuple[Schedule, ...] = ()
    readings: Mapping[tuple[Purpose, str], int] = field(default_factory=dict)
    bills: Mapping[str, Bill] = field(default_factory=dict)

    def schedule_for(self, purpose: Purpose, period: str) -> UnitPrice | None:
        """The price in force for a month: the latest-starting schedule from that month or before (last set wins)."""
        in_force = [s for s in self.schedules if s.purpose is purpose and s.effective_from <= period]
        if not in_force:
            return None
        latest = max(s.effective_from for s in in_force)
        return [s for s in in_force if s.effective_from == latest][-1].unit_price

    def live_bill(self, purpose: Purpose, period: str) -> Bill | None:
        return next((b for b in self.bills.values() if b.is_live and (b.purpose, b.period) == (purpose, period)), None)

    def live_bills(self, purpose: Purpose) -> tuple[Bill, ...]:
        """Live bills of a purpose, oldest first."""
        bills = (b for b in self.bills.values() if b.is_live and b.purpose is purpose)
        return tuple(sorted(bills, key=lambda b: (b.period, b.sequence)))

    def reading_before(self, purpose: Purpose, period: str) -> tuple[str, int] | None:
        """The latest reading of an earlier month: the baseline a bill for ``period`` counts from."""
        earlier = [(p, r) for (pu, p), r in self.readings.items() if pu is purpose and p < period]
        return max(earlier) if earlier else None


def _registered(event: HouseholdRegistered) -> HouseholdState:
    return HouseholdState(
        household_id=event.household_id,
        compound_id=event.compound_id,
        label=event.label,
        floor_area_dm2=event.floor_area_dm2,
        version=1,
        registered_at=event.occurred_at,
        updated_at=event.occurred_at,
    )


def _bill(state: HouseholdState, event: BillIssued) -> HouseholdState:
    if event.bill_id in state.bills:
        raise HistoryError(f"bill {event.bill_id} issued twice")
    if state.live_bill(event.purpose, event.period) is not None:
        raise HistoryError(f"two live bills for {event.purpose} {event.period}")
    bill = Bill(
        bill_id=event.bill_id,
        purpose=event.purpose,
        period=event.period,
        quantity=event.quantity,
        quantity_unit=event.quantity_unit,
        unit_price=event.unit_price,
        amount_fen=event.amount_fen,
        due_on=event.due_on,
        issued_at=event.occurred_at,
        sequence=len(state.bills),
        baseline_period=event.baseline_period,
    )
    return replace(state, bills={**state.bills, bill.bill_id: bill})


def _evolve(state: HouseholdState, event: DomainEvent) -> HouseholdState:
    match event:
        case FloorAreaCorrected():
            return replace(state, floor_area_dm2=event.floor_area_dm2)
        case FeeScheduleSet():
            schedule = Schedule(event.purpose, event.unit_price, event.effective_from)
            return replace(state, schedules=(*state.schedules, schedule))
        case MeterReadingRecorded():
            return replace(state, readings={**state.readings, (event.purpose, event.period): event.reading})
        case BillIssued():
            return _bill(state, event)
        case BillCancelled():
            bill = state.bills.get(event.bill_id)
            if bill is None or not bill.is_live:
                raise HistoryError(f"bill {event.bill_id} cancelled but not live")
            cancelled = replace(bill, cancelled_at=event.occurred_at, cancel_reason=event.reason)
            return replace(state, bills={**state.bills, bill.bill_id: cancelled})
        case _:
            raise HistoryError(f"{type(event).__name__} is not a household event")


def apply_household(state: HouseholdState | None, event: DomainEvent) -> HouseholdState:
    if state is None:
        if not isinstance(event, HouseholdRegistered):
            raise HistoryError(f"a household's history starts with HouseholdRegistered, not {type(event).__name__}")
        return _registered(event)
    if isinstance(event, HouseholdRegistered):
        raise HistoryError(f"household {state.household_id} was already registered")
    if not isinstance(event, HouseholdEvent) or event.household_id != state.household_id:
        raise HistoryError(f"event {type(event).__name__} does not belong to household {state.household_id}")
    return replace(_evolve(state, event), version=state.version + 1, updated_at=event.occurred_at)


def apply_household_events(state: HouseholdState | None, events: Iterable[DomainEvent]) -> HouseholdState | None:
    for event in events:
        state = apply_household(state, event)
    return state


def replay_household(events: Iterable[DomainEvent]) -> HouseholdState:
    state = apply_household_events(None, events)
    if state is None:
        raise HistoryError("a household's history cannot be empty")
    return state
