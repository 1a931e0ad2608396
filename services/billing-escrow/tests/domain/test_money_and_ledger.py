"""Money is integer fen; every posting balances; balances as of a date; the largest-remainder split."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from billing_escrow.domain import (
    ESCROW_BANK,
    Leg,
    MovementKind,
    PaymentReceived,
    Posting,
    Side,
    ValidationFailed,
    apportion,
    apportion_with_breakdown,
    balances_as_of,
    divide_half_up,
    format_yuan,
    household_account,
    reserved_account,
)
from billing_escrow.domain.money import require_amount

AT = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def _posting(movement_id: str, booked_on: date, *legs: tuple[str, Side, int]) -> Posting:
    return Posting(
        movement_id=movement_id,
        kind=MovementKind.PAYMENT_IN,
        booked_on=booked_on,
        recorded_at=AT,
        legs=tuple(Leg(account=a, side=s, amount_fen=n) for a, s, n in legs),
    )


@pytest.mark.parametrize("bad", [True, False, 1.0, 100.5, "100", None])
def test_an_amount_is_an_int_of_fen_and_nothing_that_passes_for_one(bad: object) -> None:
    with pytest.raises(ValidationFailed, match="integer number of fen"):
        require_amount(bad)
    with pytest.raises(ValidationError):
        Leg(account=ESCROW_BANK, side=Side.DEBIT, amount_fen=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 10**13 + 1])
def test_an_amount_is_positive_and_bounded(bad: int) -> None:
    with pytest.raises(ValidationFailed):
        require_amount(bad)
    assert require_amount(1) == 1


def test_a_payment_event_refuses_a_bool_or_float_amount() -> None:
    fields = {
        "account_id": "a",
        "occurred_at": AT,
        "movement_id": "m",
        "household_id": "h",
        "channel": "alipay",
        "reference": "R1",
        "booked_on": date(2025, 3, 3),
        "legs": [
            {"account": ESCROW_BANK, "side": "debit", "amount_fen": 1},
            {"account": "household:h", "side": "credit", "amount_fen": 1},
        ],
    }
    for bad in (True, 1.0):
        with pytest.raises(ValidationError):
            PaymentReceived.model_validate({**fields, "amount_fen": bad})
    assert PaymentReceived.model_validate({**fields, "amount_fen": 1}).amount_fen == 1


def test_a_posting_whose_debits_and_credits_differ_is_refused() -> None:
    with pytest.raises(ValidationError, match="debits and credits must be equal"):
        _posting("m", date(2025, 3, 3), (ESCROW_BANK, Side.DEBIT, 100), ("household:h", Side.CREDIT, 99))
    with pytest.raises(ValidationError):
        _posting("m", date(2025, 3, 3), (ESCROW_BANK, Side.DEBIT, 100))  # one leg is not a movement


def test_a_posting_may_split_over_several_accounts() -> None:
    posting = _posting(
        "m",
        date(2025, 3, 3),
        (reserved_account("a"), Side.DEBIT, 60),
        (reserved_account("b"), Side.DEBIT, 40),
        (ESCROW_BANK, Side.CREDIT, 100),
    )
    assert posting.effect_on(ESCROW_BANK) == -100


@pytest.mark.parametrize("bad", ["bank", "household:", "household:A", "household:a.b", "reserved", "payee:x"])
def test_only_the_chart_of_accounts_names_ledger_accounts(bad: str) -> None:
    with pytest.raises(ValidationError):
        Leg(account=bad, side=Side.DEBIT, amount_fen=1)


def test_balances_as_of_a_date_count_what_was_booked_by_then() -> None:
    march_1, march_5 = date(2025, 3, 1), date(2025, 3, 5)
    postings = [
        _posting("p1", march_1, (ESCROW_BANK, Side.DEBIT, 1000), (household_account("a"), Side.CREDIT, 1000)),
        _posting("p2", march_5, (ESCROW_BANK, Side.DEBIT, 500), (household_account("b"), Side.CREDIT, 500)),
    ]
    assert balances_as_of(postings, date(2025, 2, 28)).held == 0
    assert balances_as_of(postings, march_1).held == 1000
    assert balances_as_of(postings, date(2025, 3, 4)).household_free("b") == 0
    assert balances_as_of(postings, march_5).household_free("b") == 500
    everything = balances_as_of(postings)
    assert everything.held == everything.available == 1500
    assert everything.total == 0
    assert everything.households == {"a", "b"}


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 100, 0), (49, 100, 0), (50, 100, 1), (149, 100, 1), (150, 100, 2), (250, 100, 3), (7, 3, 2)],
)
def test_rounding_is_half_up_to_the_fen(numerator: int, denominator: int, expected: int) -> None:
    assert divide_half_up(numerator, denominator) == expected


@pytest.mark.parametrize(("fen", "text"), [(0, "0.00"), (5, "0.05"), (12345, "123.45"), (-1, "-0.01")])
def test_fen_read_as_yuan(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


# --- largest remainder ---------------------------------------------------------------------------------------------

weights_st = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True), st.integers(0, 10**6), min_size=1, max_size=30
).filter(lambda w: sum(w.values()) > 0)


@given(total=st.integers(0, 10**12), weights=weights_st)
def test_the_parts_add_up_to_the_total_exactly(total: int, weights: dict[str, int]) -> None:
    parts = apportion(total, weights)
    assert sum(parts.values()) == total
    assert set(parts) == set(weights)


@given(total=st.integers(0, 10**12), weights=weights_st)
def test_each_part_is_its_quota_rounded_down_or_up(total: int, weights: dict[str, int]) -> None:
    weight_sum = sum(weights.values())
    for share in apportion_with_breakdown(total, weights):
        exact_floor = total * share.weight // weight_sum
        assert share.amount in (exact_floor, exact_floor + 1)
        assert share.floor_part == exact_floor
        assert share.remainder == total * share.weight % weight_sum
        if share.weight == 0:
            assert share.amount == 0


@given(total=st.integers(0, 10**9), weights=weights_st)
def test_the_extra_fen_go_to_the_largest_remainders(total: int, weights: dict[str, int]) -> None:
    shares = apportion_with_breakdown(total, weights)
    lucky = [s for s in shares if s.extra]
    unlucky = [s for s in shares if not s.extra]
    if lucky and unlucky:
        assert min(s.remainder for s in lucky) >= max(s.remainder for s in unlucky)


def test_ties_go_to_the_smaller_key() -> None:
    assert apportion(100, {"b": 1, "a": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert apportion(2, {"c": 1, "b": 1, "a": 1}) == {"a": 1, "b": 1, "c": 0}


def test_apportion_refuses_what_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="positive"):
        apportion(100, {"a": 0})
    with pytest.raises(ValueError, match="non-negative"):
        apportion(-1, {"a": 1})
    with pytest.raises(ValueError, match="at least one"):
        apportion(1, {})
