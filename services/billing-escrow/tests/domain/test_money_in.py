"""Payments in, idempotent by movement id and by reference; reallocations; reversals by new entries."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from billing_escrow.domain import (
    ESCROW_BANK,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    MovementKind,
    NotFound,
    PaymentChannel,
    PaymentReceived,
    Side,
    ValidationFailed,
    balances_as_of,
    close_books,
    freeze_account,
    household_account,
    reallocate_funds,
    reverse_movement,
)


def test_a_payment_credits_the_household_and_debits_the_bank(books: Callable[..., Any]) -> None:
    b = books()
    [payment] = b.pay("h-301", 12_345)
    assert isinstance(payment, PaymentReceived)
    assert {(leg.account, leg.side, leg.amount_fen) for leg in payment.legs} == {
        (ESCROW_BANK, Side.DEBIT, 12_345),
        (household_account("h-301"), Side.CREDIT, 12_345),
    }
    assert b.state.held == b.state.available == 12_345
    assert b.state.balances.household_free("h-301") == 12_345
    assert b.state.balances.total == 0


def test_the_same_movement_recorded_twice_is_one_movement(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000, movement_id="m-1", reference="R-1")
    assert b.pay("h-301", 5000, movement_id="m-1", reference="R-1") == []
    assert b.pay("h-301", 5000, movement_id="m-1", reference=" R-1 ") == []  # trimmed as recorded
    b.later(days=3)
    assert b.pay("h-301", 5000, movement_id="m-1", reference="R-1", booked_on=b.today - timedelta(days=3)) == []
    assert b.state.held == 5000
    assert len(b.state.postings) == 1


def test_a_movement_id_reused_for_something_else_is_refused(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000, movement_id="m-1", reference="R-1")
    original: dict[str, Any] = {"household_id": "h-301", "amount_fen": 5000, "reference": "R-1"}
    for changed in ({"amount_fen": 5001}, {"household_id": "h-302"}, {"reference": "R-2"}):
        arguments = {**original, **changed}
        with pytest.raises(IdempotencyConflict, match="movement m-1"):
            b.pay(arguments.pop("household_id"), arguments.pop("amount_fen"), movement_id="m-1", **arguments)
    assert b.state.held == 5000


def test_the_same_bank_reference_under_another_movement_id_is_the_same_payment(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000, movement_id="m-1", reference="CCB-777", channel=PaymentChannel.BANK_TRANSFER)
    # The bank's statement import reports the transfer again, under its own movement id.
    assert b.pay("h-301", 5000, movement_id="import-9", reference="CCB-777", channel=PaymentChannel.BANK_TRANSFER) == []
    with pytest.raises(IdempotencyConflict, match="payment reference CCB-777"):
        b.pay("h-302", 5000, movement_id="import-10", reference="CCB-777", channel=PaymentChannel.BANK_TRANSFER)
    assert b.state.held == 5000


def test_payments_come_in_while_frozen(books: Callable[..., Any]) -> None:
    b = books()
    b.do(freeze_account, hold_id="h", reason="冻结")
    b.pay("h-1", 100)
    assert b.state.held == 100


def test_booking_dates_are_not_in_the_future_nor_before_opening_nor_in_closed_books(books: Callable[..., Any]) -> None:
    b = books()
    with pytest.raises(ValidationFailed, match="future"):
        b.pay("h-1", 100, booked_on=b.today + timedelta(days=1))
    with pytest.raises(ValidationFailed, match="before the account was opened"):
        b.pay("h-1", 100, booked_on=b.today - timedelta(days=1))
    b.later(days=35)
    b.do(close_books, through=b.today - timedelta(days=3))
    with pytest.raises(ValidationFailed, match="books are closed"):
        b.pay("h-1", 100, booked_on=b.today - timedelta(days=3))
    b.pay("h-1", 100, booked_on=b.today - timedelta(days=2))


def test_bad_input_is_reported_and_nothing_is_recorded(books: Callable[..., Any]) -> None:
    b = books()
    with pytest.raises(ValidationFailed, match="household_id"):
        b.pay("Household 301", 100)
    with pytest.raises(ValidationFailed, match="channel"):
        b.pay("h-1", 100, channel="carrier_pigeon")
    with pytest.raises(ValidationFailed, match="amount_fen"):
        b.pay("h-1", True)
    assert b.state.postings == ()


def test_a_reallocation_moves_money_between_households_not_out_of_the_bank(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000)
    b.do(
        reallocate_funds,
        movement_id="fix-1",
        from_household_id="h-301",
        to_household_id="h-302",
        amount_fen=2000,
        reason="付款人填错门牌号",
        booked_on=b.today,
    )
    assert b.state.balances.household_free("h-301") == 3000
    assert b.state.balances.household_free("h-302") == 2000
    assert b.state.held == 5000
    with pytest.raises(InsufficientFunds) as failure:
        b.do(
            reallocate_funds,
            movement_id="fix-2",
            from_household_id="h-301",
            to_household_id="h-302",
            amount_fen=3001,
            reason="x",
            booked_on=b.today,
        )
    assert (failure.value.ledger_account, failure.value.available, failure.value.needed) == (
        "household:h-301",
        3000,
        3001,
    )


def test_a_reversal_is_the_mirror_entry_and_the_original_stays(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000, movement_id="m-1")
    b.do(reverse_movement, movement_id="rev-1", reverses="m-1", reason="重复录入", booked_on=b.today)
    assert b.state.held == 0
    assert [p.kind for p in b.state.postings] == [MovementKind.PAYMENT_IN, MovementKind.REVERSAL]
    assert b.state.postings[0].movement_id == "m-1"  # never edited
    assert b.state.reversed_by == {"m-1": "rev-1"}
    assert b.do(reverse_movement, movement_id="rev-1", reverses="m-1", reason="重复录入", booked_on=b.today) == []
    with pytest.raises(InvalidTransition, match="already reversed by rev-1"):
        b.do(reverse_movement, movement_id="rev-2", reverses="m-1", reason="again", booked_on=b.today)


def test_a_reversal_cannot_take_out_more_than_is_held(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000, movement_id="m-1")
    b.request("d-1", 4000)
    with pytest.raises(InsufficientFunds, match="household:h-301 holds 1000"):
        b.do(reverse_movement, movement_id="rev-1", reverses="m-1", reason="退款", booked_on=b.today)
    assert b.state.held == 5000


def test_a_reversal_of_a_reversal_restores_the_movement(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000, movement_id="m-1")
    b.do(reverse_movement, movement_id="rev-1", reverses="m-1", reason="误冲", booked_on=b.today)
    b.do(reverse_movement, movement_id="rev-2", reverses="rev-1", reason="冲正错误，恢复", booked_on=b.today)
    assert b.state.balances.household_free("h-301") == 5000


def test_only_desk_movements_are_reversed(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 5000)
    b.request("d-1", 1000)
    with pytest.raises(NotFound, match="reversible movement d-1"):
        b.do(reverse_movement, movement_id="rev-1", reverses="d-1", reason="x", booked_on=b.today)
    with pytest.raises(NotFound):
        b.do(reverse_movement, movement_id="rev-1", reverses="nothing", reason="x", booked_on=b.today)


def test_a_back_dated_debit_may_not_overdraw_any_past_day(books: Callable[..., Any]) -> None:
    b = books()
    b.later(days=1)
    b.pay("h-1", 1000, movement_id="m-1")  # booked on day 1
    b.later(days=5)
    b.pay("h-1", 1000, movement_id="m-2")  # booked on day 6
    # Moving 1500 away as of day 2 would leave h-1 at −500 at the end of days 2 to 5.
    with pytest.raises(InsufficientFunds):
        b.do(
            reallocate_funds,
            movement_id="fix",
            from_household_id="h-1",
            to_household_id="h-2",
            amount_fen=1500,
            reason="x",
            booked_on=b.today - timedelta(days=4),
        )
    b.do(
        reallocate_funds,
        movement_id="fix",
        from_household_id="h-1",
        to_household_id="h-2",
        amount_fen=1500,
        reason="x",
        booked_on=b.today,
    )
    for day in range(8):
        balances = balances_as_of(b.state.postings, b.today - timedelta(days=day))
        assert all(balances.of(account) >= 0 for account in balances.signed)
