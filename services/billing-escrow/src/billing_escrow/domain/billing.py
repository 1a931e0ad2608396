"""A household's billing commands: registration, fee schedules, meter readings, bills.

Each returns the events to record or raises a ``DomainError``. Issuing a bill under a ``bill_id`` already used for
the same month and purpose records nothing (a retry); one live bill per household, purpose and month.
"""

from datetime import date, datetime

from billing_escrow.domain.commanding import build, coerce, in_order
from billing_escrow.domain.errors import IdempotencyConflict, InvalidTransition, ValidationFailed
from billing_escrow.domain.household_events import (
    BillCancelled,
    BillIssued,
    FeeScheduleSet,
    FloorAreaCorrected,
    HouseholdEvent,
    HouseholdRegistered,
    MeterReadingRecorded,
)
from billing_escrow.domain.household_state import HouseholdState
from billing_escrow.domain.periods import last_day, parse_period
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.tariffs import UNIT_OF, UnitPrice, metered_fen, property_fee_fen
from billing_escrow.domain.utc import require_date, require_utc


def _event(event_type: type[HouseholdEvent], state: HouseholdState, at: datetime, **fields: object) -> HouseholdEvent:
    return build(event_type, {"household_id": state.household_id, "occurred_at": at, **fields})


def register_household(
    *, household_id: str, compound_id: str, label: str, floor_area_dm2: int, at: datetime
) -> list[HouseholdEvent]:
    """``floor_area_dm2``: the deed's floor area in dm² (0.01 m²), so 89.37 m² is 8937."""
    fields = {
        "household_id": household_id,
        "occurred_at": require_utc(at),
        "compound_id": compound_id,
        "label": label,
        "floor_area_dm2": floor_area_dm2,
    }
    return [build(HouseholdRegistered, fields)]


def correct_floor_area(
    state: HouseholdState, *, floor_area_dm2: int, reason: str, at: datetime
) -> list[HouseholdEvent]:
    """A corrected area counts for bills issued from now on; issued bills keep the area they were computed from."""
    at = in_order(at, state.updated_at, "household")
    if floor_area_dm2 == state.floor_area_dm2:
        return []
    return [_event(FloorAreaCorrected, state, at, floor_area_dm2=floor_area_dm2, reason=reason)]


def set_fee_schedule(
    state: HouseholdState, *, purpose: Purpose, unit_price: UnitPrice, effective_from: str, at: datetime
) -> list[HouseholdEvent]:
    at = in_order(at, state.updated_at, "household")
    purpose = coerce(Purpose, purpose, "purpose")
    parse_period(effective_from, "effective_from")
    same_month = [s for s in state.schedules if s.purpose is purpose and s.effective_from == effective_from]
    if same_month and same_month[-1].unit_price == unit_price:
        return []  # already the price set from that month
    return [_event(FeeScheduleSet, state, at, purpose=purpose, unit_price=unit_price, effective_from=effective_from)]


def _bills_using(state: HouseholdState, purpose: Purpose, period: str) -> bool:
    """Whether a live bill counted from, or up to, this month's reading."""
    return any(b.period == period or b.baseline_period == period for b in state.live_bills(purpose))


def record_meter_reading(
    state: HouseholdState,
    *,
    purpose: Purpose,
    period: str,
    reading: int,
    at: datetime,
    meter_number: str | None = None,
) -> list[HouseholdEvent]:
    """The meter's reading at the end of a month. Recording it again corrects it, unless a live bill used it.

    Readings never go down from one month to a later one (a replaced meter is not modelled).
    """
    at = in_order(at, state.updated_at, "household")
    purpose = coerce(Purpose, purpose, "purpose")
    if not purpose.metered:
        raise ValidationFailed.single("purpose", "the property fee is not metered")
    parse_period(period, "period")
    event = _event(
        MeterReadingRecorded, state, at, purpose=purpose, period=period, reading=reading, meter_number=meter_number
    )
    assert isinstance(event, MeterReadingRecorded)
    recorded = state.readings.get((purpose, period))
    if recorded == event.reading:
        return []
    if recorded is not None and _bills_using(state, purpose, period):
        reason = "a live bill used this reading; cancel it first"
        raise InvalidTransition("correct the meter reading", f"{purpose} {period} is billed", reason)
    for (p, other_period), other in state.readings.items():
        if p is purpose and (
            (other_period < period and other > event.reading) or (other_period > period and other < event.reading)
        ):
            raise ValidationFailed.single("reading", f"goes against the reading of {other_period}")
    return [event]


def issue_bill(
    state: HouseholdState,
    *,
    bill_id: str,
    purpose: Purpose,
    period: str,
    at: datetime,
    due_on: date | None = None,
) -> list[HouseholdEvent]:
    """Bill a month at the schedule in force for it. Without ``due_on``, the bill is due on the month's last day.

    Property fee: floor area × price per m². Water and electricity: (this month's reading − the latest earlier
    reading) × price; both readings must have been recorded.
    """
    at = in_order(at, state.updated_at, "household")
    purpose = coerce(Purpose, purpose, "purpose")
    parse_period(period, "period")
    existing = state.bills.get(bill_id)
    if existing is not None:
        if (existing.purpose, existing.period) == (purpose, period):
            return []
        raise IdempotencyConflict("bill", bill_id)
    if state.live_bill(purpose, period) is not None:
        raise InvalidTransition("issue the bill", f"{purpose} {period} is already billed", "cancel that bill first")
    price = state.schedule_for(purpose, period)
    if price is None:
        raise ValidationFailed.single("period", f"no {purpose} fee schedule is in force for it")
    due = require_date(due_on, "due_on") if due_on is not None else last_day(period)
    fields: dict[str, object] = {
        "bill_id": bill_id,
        "purpose": purpose,
        "period": period,
        "unit_price": price,
        "quantity_unit": UNIT_OF[purpose],
        "due_on": due,
    }
    if purpose.metered:
        closing = state.readings.get((purpose, period))
        baseline = state.reading_before(purpose, period)
        if closing is None:
            raise ValidationFailed.single("period", "has no meter reading yet")
        if baseline is None:
            raise ValidationFailed.single("period", "has no earlier meter reading to count from")
        consumption = closing - baseline[1]
        fields |= {
            "quantity": consumption,
            "amount_fen": metered_fen(consumption, price),
            "baseline_period": baseline[0],
            "baseline_reading": baseline[1],
            "closing_reading": closing,
        }
    else:
        fields |= {"quantity": state.floor_area_dm2, "amount_fen": property_fee_fen(state.floor_area_dm2, price)}
    return [_event(BillIssued, state, at, **fields)]


def cancel_bill(state: HouseholdState, *, bill_id: str, reason: str, at: datetime) -> list[HouseholdEvent]:
    at = in_order(at, state.updated_at, "household")
    bill = state.bills.get(bill_id)
    if bill is None:
        raise ValidationFailed.single("bill_id", "names no bill of this household")
    if not bill.is_live:
        return []
    return [_event(BillCancelled, state, at, bill_id=bill_id, reason=reason)]
