"""Payments settle bills oldest first; what is owed is aged in buckets by days past the due date."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_escrow.domain import (
    AgeingBucket,
    Purpose,
    UnitPrice,
    apply_household_events,
    bucket_for,
    household_arrears,
    household_receipts,
    issue_bill,
    reallocate_funds,
    register_household,
    replay_household,
    reverse_movement,
    set_fee_schedule,
    settle_oldest_first,
)
from billing_escrow.domain.household_state import Bill, HouseholdState
from billing_escrow.domain.tariffs import QuantityUnit


def _bill(bill_id: str, period: str, amount: int, sequence: int = 0) -> Bill:
    year, month = int(period[:4]), int(period[5:])
    return Bill(
        bill_id=bill_id,
        purpose=Purpose.PROPERTY_FEE,
        period=period,
        quantity=1,
        quantity_unit=QuantityUnit.SQUARE_DECIMETRE,
        unit_price=UnitPrice(fen=1),
        amount_fen=amount,
        due_on=date(year, month, 28),
        issued_at=datetime(year, month, 1, tzinfo=UTC),
        sequence=sequence,
    )


@pytest.mark.parametrize(
    ("days_late", "bucket"),
    [
        (-5, AgeingBucket.NOT_DUE),
        (0, AgeingBucket.NOT_DUE),
        (1, AgeingBucket.DAYS_0_30),
        (30, AgeingBucket.DAYS_0_30),
        (31, AgeingBucket.DAYS_31_90),
        (90, AgeingBucket.DAYS_31_90),
        (91, AgeingBucket.DAYS_91_180),
        (180, AgeingBucket.DAYS_91_180),
        (181, AgeingBucket.OVER_180),
        (2000, AgeingBucket.OVER_180),
    ],
)
def test_ageing_buckets_by_days_past_due(days_late: int, bucket: AgeingBucket) -> None:
    due = date(2025, 1, 31)
    assert bucket_for(due, due + timedelta(days=days_late)) is bucket


def test_payments_settle_the_oldest_bill_first() -> None:
    bills = [_bill("mar", "2025-03", 1000, 2), _bill("jan", "2025-01", 1000, 0), _bill("feb", "2025-02", 1000, 1)]
    settlement = settle_oldest_first(bills, 1500)
    assert [(line.bill_id, line.paid_fen, line.outstanding_fen) for line in settlement.lines] == [
        ("jan", 1000, 0),
        ("feb", 500, 500),
        ("mar", 0, 1000),
    ]
    assert settlement.credit_fen == 0
    assert settle_oldest_first(bills, 3200).credit_fen == 200


@given(
    amounts=st.lists(st.integers(0, 100_000), min_size=0, max_size=12),
    paid=st.integers(0, 1_500_000),
)
def test_settlement_conserves_money_and_never_skips_an_older_bill(amounts: list[int], paid: int) -> None:
    bills = [_bill(f"b{i}", f"2024-{i + 1:02d}", amount, i) for i, amount in enumerate(amounts)]
    settlement = settle_oldest_first(bills, paid)
    assert sum(line.paid_fen for line in settlement.lines) + settlement.credit_fen == paid
    assert all(0 <= line.paid_fen <= line.amount_fen for line in settlement.lines)
    # Once a bill is not fully paid, no later bill got anything.
    unpaid_seen = False
    for line in settlement.lines:
        if unpaid_seen:
            assert line.paid_fen == 0
        unpaid_seen = unpaid_seen or line.outstanding_fen > 0
    if settlement.credit_fen:
        assert settlement.outstanding_fen == 0


def test_a_households_arrears_from_its_bills_and_the_accounts_payments(books: Callable[..., Any]) -> None:
    household_events = register_household(
        household_id="h-301",
        compound_id="jinyuan-huating",
        label="3栋301",
        floor_area_dm2=10000,
        at=datetime(2024, 9, 1, tzinfo=UTC),
    )
    state = replay_household(household_events)
    more = set_fee_schedule(
        state,
        purpose=Purpose.PROPERTY_FEE,
        unit_price=UnitPrice(fen=100),
        effective_from="2024-09",
        at=datetime(2024, 9, 1, 1, tzinfo=UTC),
    )
    state_ = apply_household_events(state, more)
    assert isinstance(state_, HouseholdState)
    for month in ("09", "10", "11", "12"):  # 10000 fen a month, due on the month's last day
        new = issue_bill(
            state_,
            bill_id=f"pf-2024-{month}",
            purpose=Purpose.PROPERTY_FEE,
            period=f"2024-{month}",
            at=datetime(2024, int(month), 2, tzinfo=UTC),
        )
        state_ = apply_household_events(state_, new)
        assert isinstance(state_, HouseholdState)

    b = books()  # the account opens on 2025-03-03
    b.pay("h-301", 15_000, movement_id="p1")
    b.pay("h-302", 7_000, movement_id="p2")
    b.do(
        reallocate_funds,
        movement_id="fix",
        from_household_id="h-302",
        to_household_id="h-301",
        amount_fen=2_000,
        reason="门牌号填错",
        booked_on=b.today,
    )
    receipts = household_receipts(b.state, "h-301")
    assert sum(r.amount_fen for r in receipts) == 17_000

    arrears = household_arrears(state_, Purpose.PROPERTY_FEE, receipts, as_of=b.today)
    assert (arrears.billed_fen, arrears.paid_fen) == (40_000, 17_000)
    # September paid, October 7000 of 10000, November and December open. As of 2025-03-03 October is 123 days late,
    # November 93, December 62.
    assert arrears.buckets[AgeingBucket.DAYS_91_180] == 3_000 + 10_000
    assert arrears.buckets[AgeingBucket.DAYS_31_90] == 10_000
    assert arrears.buckets[AgeingBucket.OVER_180] == 0
    assert arrears.arrears_fen == 23_000

    # Before the payments were booked, everything billed and due was owed.
    earlier = household_arrears(state_, Purpose.PROPERTY_FEE, receipts, as_of=date(2025, 1, 15))
    assert earlier.paid_fen == 0
    assert earlier.arrears_fen == 40_000

    b.do(reverse_movement, movement_id="rev", reverses="p1", reason="退票", booked_on=b.today)
    after_reversal = household_arrears(state_, Purpose.PROPERTY_FEE, household_receipts(b.state, "h-301"), b.today)
    assert after_reversal.paid_fen == 2_000
    assert after_reversal.arrears_fen == 38_000


def test_payments_out_do_not_unpay_bills(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-1", 6_000)
    b.sign_all("d-1")
    b.execute("d-1")
    assert sum(r.amount_fen for r in household_receipts(b.state, "h-1")) == 10_000
