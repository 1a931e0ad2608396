"""Households' bills: fee schedules, meter readings, integer amounts rounded once, one live bill per month."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from billing_escrow.domain import (
    BillIssued,
    HouseholdEvent,
    HouseholdState,
    IdempotencyConflict,
    InvalidTransition,
    Purpose,
    QuantityUnit,
    UnitPrice,
    ValidationFailed,
    apply_household_events,
    cancel_bill,
    correct_floor_area,
    issue_bill,
    metered_fen,
    property_fee_fen,
    record_meter_reading,
    register_household,
    replay_household,
    set_fee_schedule,
)

T0 = datetime(2025, 3, 31, 2, 0, tzinfo=UTC)
ELECTRICITY_PRICE = UnitPrice(fen=5653, per_units=100)  # 0.5653 yuan per kWh
PROPERTY_FEE = UnitPrice(fen=150)  # 1.50 yuan per m² per month


class Household:
    def __init__(self, floor_area_dm2: int = 8937) -> None:
        self.now = T0
        self.events = register_household(
            household_id="jyht-3-2-301",
            compound_id="jinyuan-huating",
            label="3栋2单元301",
            floor_area_dm2=floor_area_dm2,
            at=self.now,
        )
        self.state = replay_household(self.events)

    def do(self, command: Callable[..., list[HouseholdEvent]], **arguments: Any) -> list[HouseholdEvent]:
        self.now += timedelta(minutes=1)
        new = command(self.state, at=self.now, **arguments)
        state = apply_household_events(self.state, new)
        assert isinstance(state, HouseholdState)
        self.state = state
        self.events.extend(new)
        return new


def test_the_property_fee_is_area_times_price_rounded_half_up() -> None:
    assert property_fee_fen(8937, PROPERTY_FEE) == 13406  # 89.37 m² × 1.50 = 134.055 → 134.06
    assert property_fee_fen(10000, UnitPrice(fen=85)) == 8500
    assert property_fee_fen(1, UnitPrice(fen=49)) == 0  # 0.01 m² × 0.49 yuan = 0.0049 fen
    assert metered_fen(213, ELECTRICITY_PRICE) == 12041  # 213 kWh × 0.5653 = 120.4089 → 120.41
    assert metered_fen(10, UnitPrice(fen=5, per_units=100)) == 1  # 0.5 fen rounds up


def test_a_property_fee_bill_for_a_month() -> None:
    h = Household()
    h.do(set_fee_schedule, purpose=Purpose.PROPERTY_FEE, unit_price=PROPERTY_FEE, effective_from="2025-01")
    [bill] = h.do(issue_bill, bill_id="pf-2025-03", purpose=Purpose.PROPERTY_FEE, period="2025-03")
    assert isinstance(bill, BillIssued)
    assert (bill.quantity, bill.quantity_unit, bill.amount_fen) == (8937, QuantityUnit.SQUARE_DECIMETRE, 13406)
    assert bill.due_on == date(2025, 3, 31)  # the month's last day unless told otherwise
    assert h.state.live_bill(Purpose.PROPERTY_FEE, "2025-03") is not None


def test_the_schedule_in_force_for_the_month_applies() -> None:
    h = Household(floor_area_dm2=10000)
    h.do(set_fee_schedule, purpose=Purpose.PROPERTY_FEE, unit_price=UnitPrice(fen=100), effective_from="2025-01")
    h.do(set_fee_schedule, purpose=Purpose.PROPERTY_FEE, unit_price=UnitPrice(fen=120), effective_from="2025-03")
    [february] = h.do(issue_bill, bill_id="pf-02", purpose=Purpose.PROPERTY_FEE, period="2025-02")
    [march] = h.do(issue_bill, bill_id="pf-03", purpose=Purpose.PROPERTY_FEE, period="2025-03")
    assert isinstance(february, BillIssued) and isinstance(march, BillIssued)
    assert (february.amount_fen, march.amount_fen) == (10000, 12000)
    with pytest.raises(ValidationFailed, match="no property_fee fee schedule"):
        h.do(issue_bill, bill_id="pf-12", purpose=Purpose.PROPERTY_FEE, period="2024-12")


def test_an_electricity_bill_counts_from_the_previous_reading() -> None:
    h = Household()
    h.do(set_fee_schedule, purpose=Purpose.ELECTRICITY, unit_price=ELECTRICITY_PRICE, effective_from="2025-01")
    h.do(record_meter_reading, purpose=Purpose.ELECTRICITY, period="2025-01", reading=10_000, meter_number="M-1")
    with pytest.raises(ValidationFailed, match="no meter reading"):
        h.do(issue_bill, bill_id="el-03", purpose=Purpose.ELECTRICITY, period="2025-03")
    h.do(record_meter_reading, purpose=Purpose.ELECTRICITY, period="2025-03", reading=10_213)
    [bill] = h.do(issue_bill, bill_id="el-03", purpose=Purpose.ELECTRICITY, period="2025-03")
    assert isinstance(bill, BillIssued)
    assert (bill.baseline_period, bill.baseline_reading, bill.closing_reading) == ("2025-01", 10_000, 10_213)
    assert (bill.quantity, bill.quantity_unit, bill.amount_fen) == (213, QuantityUnit.KILOWATT_HOUR, 12041)


def test_the_first_reading_is_only_a_baseline() -> None:
    h = Household()
    h.do(set_fee_schedule, purpose=Purpose.WATER, unit_price=UnitPrice(fen=285), effective_from="2025-01")
    h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-02", reading=300)
    with pytest.raises(ValidationFailed, match="no earlier meter reading"):
        h.do(issue_bill, bill_id="w-02", purpose=Purpose.WATER, period="2025-02")


def test_readings_never_go_down_and_a_billed_reading_is_not_corrected() -> None:
    h = Household()
    h.do(set_fee_schedule, purpose=Purpose.WATER, unit_price=UnitPrice(fen=285), effective_from="2025-01")
    h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-01", reading=300)
    with pytest.raises(ValidationFailed, match="goes against the reading of 2025-01"):
        h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-02", reading=299)
    h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-02", reading=310)
    assert h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-02", reading=310) == []
    h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-02", reading=312)  # corrected before billing
    h.do(issue_bill, bill_id="w-02", purpose=Purpose.WATER, period="2025-02")
    with pytest.raises(InvalidTransition, match="cancel it first"):
        h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-02", reading=311)
    with pytest.raises(InvalidTransition, match="cancel it first"):
        h.do(record_meter_reading, purpose=Purpose.WATER, period="2025-01", reading=301)  # the baseline too
    with pytest.raises(ValidationFailed, match="not metered"):
        h.do(record_meter_reading, purpose=Purpose.PROPERTY_FEE, period="2025-02", reading=1)


def test_one_live_bill_per_month_and_a_cancelled_one_is_replaced() -> None:
    h = Household()
    h.do(set_fee_schedule, purpose=Purpose.PROPERTY_FEE, unit_price=PROPERTY_FEE, effective_from="2025-01")
    h.do(issue_bill, bill_id="pf-03", purpose=Purpose.PROPERTY_FEE, period="2025-03")
    assert h.do(issue_bill, bill_id="pf-03", purpose=Purpose.PROPERTY_FEE, period="2025-03") == []  # a retry
    with pytest.raises(IdempotencyConflict, match="bill pf-03"):
        h.do(issue_bill, bill_id="pf-03", purpose=Purpose.PROPERTY_FEE, period="2025-04")
    with pytest.raises(InvalidTransition, match="already billed"):
        h.do(issue_bill, bill_id="pf-03b", purpose=Purpose.PROPERTY_FEE, period="2025-03")
    h.do(correct_floor_area, floor_area_dm2=9000, reason="按不动产证更正")
    h.do(cancel_bill, bill_id="pf-03", reason="面积有误")
    [corrected] = h.do(issue_bill, bill_id="pf-03b", purpose=Purpose.PROPERTY_FEE, period="2025-03")
    assert isinstance(corrected, BillIssued)
    assert corrected.amount_fen == 13500
    assert [b.bill_id for b in h.state.live_bills(Purpose.PROPERTY_FEE)] == ["pf-03b"]
    assert h.do(cancel_bill, bill_id="pf-03", reason="面积有误") == []


def test_floor_areas_and_prices_are_integers() -> None:
    with pytest.raises(ValidationFailed, match="floor_area_dm2"):
        register_household(household_id="h", compound_id="c", label="1-101", floor_area_dm2=89.37, at=T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        UnitPrice(fen=0.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        UnitPrice(fen=True)  # type: ignore[arg-type]


def test_a_period_is_a_month() -> None:
    h = Household()
    for bad in ("2025-13", "2025-3", "March", "2025-00"):
        with pytest.raises(ValidationFailed, match="period"):
            h.do(issue_bill, bill_id="x", purpose=Purpose.PROPERTY_FEE, period=bad)
