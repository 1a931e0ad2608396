"""The direct-supply handover of 金园华庭: milestones in order, a transparent allocation, progress, completion."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_escrow.domain import (
    AllocationRule,
    ArrearsAllocated,
    ArrearsPaid,
    HandoverEvent,
    HandoverState,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    Payee,
    ValidationFailed,
    allocate_arrears,
    apply_handover_events,
    complete_handover,
    confirm_arrears,
    handover_progress,
    record_arrears_paid,
    record_arrears_paid_by,
    record_escrow_opened,
    record_facilities_transferred,
    record_meter_installed,
    record_owners_vote,
    record_supply_switched,
    replay_handover,
    start_handover,
)

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
GRID = Payee(payee_id="state-grid-tianchang", name="国网天长市供电公司")
HOUSEHOLDS = ["h-101", "h-102", "h-201"]


class Handover:
    def __init__(self, households: list[str] = HOUSEHOLDS) -> None:
        self.now = T0
        self.events = start_handover(compound_id="jinyuan-huating", household_ids=households, at=self.now)
        self.state = replay_handover(self.events)

    def do(self, command: Callable[..., list[HandoverEvent]], **arguments: Any) -> list[HandoverEvent]:
        self.now += timedelta(hours=1)
        new = command(self.state, at=self.now, **arguments)
        state = apply_handover_events(self.state, new)
        assert isinstance(state, HandoverState)
        self.state = state
        self.events.extend(new)
        return new

    def vote(self, passed: bool = True, in_favour: int = 80, against: int = 5) -> None:
        self.do(
            record_owners_vote,
            held_on=date(2025, 3, 1),
            eligible=96,
            in_favour=in_favour,
            against=against,
            abstained=3,
            passed=passed,
            resolution_reference="业委会决议〔2025〕3号",
        )

    def up_to_allocation(self, amount_fen: int = 1_000_000) -> None:
        self.vote()
        self.do(record_escrow_opened, account_id="jyht-electricity")
        self.do(
            confirm_arrears,
            amount_fen=amount_fen,
            creditor=GRID,
            master_meter_number="总表-0001",
            confirmation_reference="供电欠费确认函2025-017",
            as_of=date(2025, 2, 28),
        )
        self.do(
            allocate_arrears, rule=AllocationRule.BY_FLOOR_AREA, basis={"h-101": 8937, "h-102": 8937, "h-201": 12000}
        )

    def pay(self, amount_fen: int, disbursement_id: str = "d-arrears") -> list[HandoverEvent]:
        return self.do(
            record_arrears_paid,
            account_id="jyht-electricity",
            disbursement_id=disbursement_id,
            payee=GRID,
            amount_fen=amount_fen,
            paid_on=date(2025, 3, 20),
            bank_reference=f"CCB-{disbursement_id}",
        )


def test_the_whole_handover_in_order() -> None:
    h = Handover()
    h.up_to_allocation()
    [paid] = h.pay(1_000_000)
    assert isinstance(paid, ArrearsPaid)
    for household in HOUSEHOLDS:
        h.do(record_meter_installed, household_id=household, meter_number=f"DB-{household}")
        h.do(record_supply_switched, household_id=household)
    h.do(record_facilities_transferred, transfer_reference="配电设施移交书-01")
    h.do(complete_handover)
    progress = handover_progress(h.state)
    assert progress.complete
    assert (progress.meters_installed_percent, progress.supply_switched_percent, progress.arrears_paid_percent) == (
        100,
        100,
        100,
    )
    assert all(m.done for m in progress.milestones)
    with pytest.raises(InvalidTransition, match="complete"):
        h.do(record_facilities_transferred, transfer_reference="again")


def test_arrears_paid_carries_what_mediation_matches_on() -> None:
    h = Handover()
    h.up_to_allocation(amount_fen=1_000_000)
    [first] = h.pay(400_000, "d-1")
    [second] = h.pay(600_000, "d-2")
    assert isinstance(first, ArrearsPaid) and isinstance(second, ArrearsPaid)
    assert (first.compound_id, first.disbursement_id, first.payee.payee_id) == ("jinyuan-huating", "d-1", GRID.payee_id)
    assert (first.amount_fen, first.paid_to_date_fen, first.fully_paid) == (400_000, 400_000, False)
    assert (second.paid_to_date_fen, second.arrears_total_fen, second.fully_paid) == (1_000_000, 1_000_000, True)
    assert ArrearsPaid.token() == "arrears_paid"


def test_an_arrears_payment_is_recorded_once_and_never_beyond_the_arrears() -> None:
    h = Handover()
    h.up_to_allocation(amount_fen=1_000)
    h.pay(600, "d-1")
    assert h.pay(600, "d-1") == []
    with pytest.raises(IdempotencyConflict):
        h.pay(601, "d-1")
    with pytest.raises(InvalidTransition, match="400 fen outstanding"):
        h.pay(401, "d-2")
    with pytest.raises(InvalidTransition, match="creditor"):
        h.do(
            record_arrears_paid,
            account_id="jyht-electricity",
            disbursement_id="d-3",
            payee=Payee(payee_id="old-property-co", name="物业公司"),
            amount_fen=100,
            paid_on=date(2025, 3, 20),
            bank_reference="X",
        )
    with pytest.raises(InvalidTransition, match="escrow account"):
        h.do(
            record_arrears_paid,
            account_id="another-account",
            disbursement_id="d-3",
            payee=GRID,
            amount_fen=100,
            paid_on=date(2025, 3, 20),
            bank_reference="X",
        )
    with pytest.raises(InvalidTransition, match="already paid"):
        h.do(
            confirm_arrears,
            amount_fen=2_000,
            creditor=GRID,
            master_meter_number="总表-0001",
            confirmation_reference="再次确认",
            as_of=date(2025, 3, 1),
        )


def test_the_executed_disbursement_becomes_the_arrears_payment(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-101", 1_000_000)
    b.request("d-arrears", 1_000_000, payee=GRID)
    b.sign_all("d-arrears")
    [executed] = b.execute("d-arrears")
    h = Handover()
    h.vote()
    h.do(record_escrow_opened, account_id=b.state.account_id)
    h.do(
        confirm_arrears,
        amount_fen=1_000_000,
        creditor=GRID,
        master_meter_number="总表-0001",
        confirmation_reference="确认函",
        as_of=date(2025, 2, 28),
    )
    h.do(allocate_arrears, rule=AllocationRule.BY_METER_READING, basis={"h-101": 1, "h-102": 1, "h-201": 1})
    [paid] = h.do(record_arrears_paid_by, executed=executed)
    assert isinstance(paid, ArrearsPaid)
    assert (paid.disbursement_id, paid.amount_fen, paid.fully_paid) == ("d-arrears", 1_000_000, True)


def test_milestones_wait_for_what_they_need() -> None:
    h = Handover()
    with pytest.raises(InvalidTransition, match="owners have not voted"):
        h.do(record_escrow_opened, account_id="acc")
    h.vote(passed=False, in_favour=30, against=40)
    with pytest.raises(InvalidTransition, match="owners have not voted"):
        h.do(record_escrow_opened, account_id="acc")
    with pytest.raises(InvalidTransition, match="not confirmed"):
        h.do(allocate_arrears, rule=AllocationRule.BY_FLOOR_AREA, basis=dict.fromkeys(HOUSEHOLDS, 1))
    h.do(record_meter_installed, household_id="h-101", meter_number="DB-1")  # meters may go in early
    with pytest.raises(InvalidTransition, match="not paid in full"):
        h.do(record_supply_switched, household_id="h-101")
    with pytest.raises(InvalidTransition, match="meter is not installed"):
        Handover().do(record_supply_switched, household_id="h-102")
    with pytest.raises(NotFound):
        h.do(record_meter_installed, household_id="h-999", meter_number="DB-9")


def test_completion_needs_every_household_switched_and_the_arrears_paid() -> None:
    h = Handover()
    h.up_to_allocation(amount_fen=1_000)
    h.pay(1_000)
    h.do(record_facilities_transferred, transfer_reference="移交书")
    for household in HOUSEHOLDS[:2]:
        h.do(record_meter_installed, household_id=household, meter_number=f"DB-{household}")
        h.do(record_supply_switched, household_id=household)
    with pytest.raises(InvalidTransition, match="1 household"):
        h.do(complete_handover)
    progress = handover_progress(h.state)
    assert (progress.supply_switched, progress.households, progress.supply_switched_percent) == (2, 3, 66)
    assert not progress.complete


def test_a_vote_must_add_up() -> None:
    h = Handover()
    with pytest.raises(ValidationFailed, match="fewer than the votes"):
        h.do(
            record_owners_vote,
            held_on=date(2025, 3, 1),
            eligible=10,
            in_favour=8,
            against=2,
            abstained=1,
            passed=True,
            resolution_reference="r",
        )
    with pytest.raises(ValidationFailed, match="did not pass"):
        h.vote(passed=True, in_favour=20, against=20)


def test_the_allocation_names_every_household_and_shows_its_working() -> None:
    h = Handover()
    h.up_to_allocation(amount_fen=100)
    [allocated] = h.do(
        allocate_arrears, rule=AllocationRule.BY_METER_READING, basis={"h-101": 1, "h-102": 1, "h-201": 1}
    )
    assert isinstance(allocated, ArrearsAllocated)
    shares = {s.household_id: s for s in allocated.shares}
    assert {h_: s.amount_fen for h_, s in shares.items()} == {"h-101": 34, "h-102": 33, "h-201": 33}
    assert (shares["h-101"].floor_fen, shares["h-101"].remainder, shares["h-101"].extra_fen) == (33, 1, 1)
    assert allocated.basis_total == 3
    assert h.state.share_of("h-201") == 33
    with pytest.raises(ValidationFailed, match="every household"):
        h.do(allocate_arrears, rule=AllocationRule.BY_FLOOR_AREA, basis={"h-101": 1, "h-102": 1})
    with pytest.raises(ValidationFailed, match="non-negative integers"):
        h.do(allocate_arrears, rule=AllocationRule.BY_FLOOR_AREA, basis={"h-101": 1.5, "h-102": 1, "h-201": 1})


@given(
    total=st.integers(1, 10**11),
    basis=st.lists(st.integers(0, 10**6), min_size=1, max_size=40).filter(lambda b: sum(b) > 0),
)
def test_allocated_parts_sum_exactly_to_the_confirmed_arrears(total: int, basis: list[int]) -> None:
    households = [f"h-{i:03d}" for i in range(len(basis))]
    h = Handover(households)
    h.vote()
    h.do(
        confirm_arrears,
        amount_fen=total,
        creditor=GRID,
        master_meter_number="M",
        confirmation_reference="C",
        as_of=date(2025, 2, 28),
    )
    [allocated] = h.do(
        allocate_arrears, rule=AllocationRule.BY_FLOOR_AREA, basis=dict(zip(households, basis, strict=True))
    )
    assert isinstance(allocated, ArrearsAllocated)
    assert sum(s.amount_fen for s in allocated.shares) == total
    for share in allocated.shares:
        assert share.amount_fen == share.floor_fen + share.extra_fen
        assert share.floor_fen == total * share.basis // allocated.basis_total
        assert share.remainder == total * share.basis % allocated.basis_total


def test_a_new_confirmation_replaces_the_allocation() -> None:
    h = Handover()
    h.up_to_allocation(amount_fen=1_000)
    h.do(
        confirm_arrears,
        amount_fen=1_200,
        creditor=GRID,
        master_meter_number="总表-0001",
        confirmation_reference="更正确认函",
        as_of=date(2025, 3, 1),
    )
    assert h.state.allocation is None
    with pytest.raises(InvalidTransition, match="not confirmed and allocated"):
        h.pay(1_200)


def test_replay_gives_the_same_handover() -> None:
    h = Handover()
    h.up_to_allocation()
    h.pay(1_000_000)
    assert replay_handover(h.events) == h.state
