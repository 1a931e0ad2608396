"""Statements for the notary: arithmetic, every entry with its document, per-household reconciliation, the chain."""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from billing_escrow.domain import (
    ESCROW_BANK,
    EntryDirection,
    HistoryError,
    IdempotencyConflict,
    InvalidTransition,
    Leg,
    MovementKind,
    Side,
    StatementIssued,
    StatementKind,
    ValidationFailed,
    apply_statement_events,
    arithmetic_problems,
    build_statement,
    chain_problems,
    close_books,
    household_account,
    issue_statement,
    reallocate_funds,
    registry,
    replay_statements,
    reverse_movement,
    statement_hash,
    void_disbursement,
)
from jinlin.events import GENESIS_HASH


def _march(b: Any) -> None:
    """A month of the 金园华庭 electricity account: payments, a correction, a payment out, a voided one."""
    b.pay("h-101", 50_000, movement_id="p1", reference="WX-1")
    b.pay("h-102", 30_000, movement_id="p2", reference="WX-2")
    b.later(days=2)
    b.pay("h-201", 20_000, movement_id="p3", reference="CCB-3")
    b.pay("h-201", 999, movement_id="p4", reference="CCB-4")
    b.do(reverse_movement, movement_id="r4", reverses="p4", reason="重复入账", booked_on=b.today)
    b.do(
        reallocate_funds,
        movement_id="fix",
        from_household_id="h-102",
        to_household_id="h-101",
        amount_fen=5_000,
        reason="门牌号填错",
        booked_on=b.today,
    )
    b.later(days=5)
    b.request("d-arrears", 60_000)
    b.sign_all("d-arrears")
    b.execute("d-arrears")
    b.request("d-void", 1_000)
    b.do(void_disbursement, disbursement_id="d-void", reason="撤回")
    b.request("d-pending", 2_000)  # still pending at the end of the month


def _issue(
    b: Any, chain: Any, statement_id: str, start: date, end: date, kind: StatementKind = StatementKind.PERIODIC
) -> Any:
    [issued] = issue_statement(
        chain, b.state, statement_id=statement_id, kind=kind, period_start=start, period_end=end, at=b.now
    )
    assert isinstance(issued, StatementIssued)
    return issued


def test_opening_plus_credits_minus_debits_is_closing(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=30)
    b.do(close_books, through=date(2025, 3, 31))
    statement = _issue(b, None, "st-2025-03", date(2025, 3, 3), date(2025, 3, 31)).statement
    assert statement.opening_balance_fen == 0
    assert statement.total_credits_fen == 50_000 + 30_000 + 20_000 + 999
    assert statement.total_debits_fen == 999 + 60_000
    assert statement.closing_balance_fen == 40_000
    assert statement.opening_balance_fen + statement.total_credits_fen - statement.total_debits_fen == 40_000
    assert (statement.credit_count, statement.debit_count) == (4, 2)
    assert [e.balance_after_fen for e in statement.entries] == [50_000, 80_000, 100_000, 100_999, 100_000, 40_000]
    assert arithmetic_problems(statement) == []
    assert not statement.provisional


def test_every_entry_says_what_it_was(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=30)
    b.do(close_books, through=date(2025, 3, 31))
    statement = _issue(b, None, "st-2025-03", date(2025, 3, 3), date(2025, 3, 31)).statement
    by_id = {(e.movement_id, e.kind): e for e in statement.entries}
    payment = by_id[("p1", MovementKind.PAYMENT_IN)]
    assert (payment.direction, payment.counterparty_id, payment.reference) == (EntryDirection.CREDIT, "h-101", "WX-1")
    reversal = by_id[("r4", MovementKind.REVERSAL)]
    assert (reversal.direction, reversal.reverses, reversal.amount_fen) == (EntryDirection.DEBIT, "p4", 999)
    out = by_id[("d-arrears", MovementKind.PAYMENT_OUT)]
    assert out.direction is EntryDirection.DEBIT
    assert out.condition is not None and out.condition.code == "power_company_confirms_arrears"
    assert {s.role for s in out.co_signatures} == {"center_finance", "notary"}
    assert out.counterparty_id == "state-grid-tianchang"
    assert out.evidence == ("doc-grid-confirmation-2025-03",)
    # Reservations and releases move no money: they are not bank entries. The reallocation is a transfer.
    assert {e.kind for e in statement.entries} == {
        MovementKind.PAYMENT_IN,
        MovementKind.REVERSAL,
        MovementKind.PAYMENT_OUT,
    }
    [transfer] = statement.transfers
    assert {(e.household_id, e.amount_fen) for e in transfer.household_effects} == {("h-102", -5_000), ("h-101", 5_000)}
    assert statement.reconciliation.reserved_closing_fen == 2_000


def test_each_household_is_reconciled_on_its_own(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=30)
    b.do(close_books, through=date(2025, 3, 31))
    statement = _issue(b, None, "st-2025-03", date(2025, 3, 3), date(2025, 3, 31)).statement
    lines = {line.household_id: line for line in statement.households}
    assert set(lines) == {"h-101", "h-102", "h-201"}
    assert all(line.matches for line in lines.values())
    assert sum(line.closing_fen for line in lines.values()) == statement.closing_balance_fen
    assert statement.reconciliation.balanced
    # h-101 paid 50000 and received 5000 from h-102; its share of the 60000 paid out followed its free money.
    h101 = lines["h-101"]
    assert h101.credits_fen == 55_000
    assert h101.opening_fen + h101.credits_fen - h101.debits_fen == h101.closing_fen


def test_a_short_household_hidden_by_a_long_one_is_caught(books: Callable[..., Any]) -> None:
    """The ledger credited h-102 with a payment whose document names h-101: the totals still agree."""
    b = books()
    _march(b)
    b.later(days=30)
    b.do(close_books, through=date(2025, 3, 31))
    good = b.state.postings[0]  # p1: 50000 for h-101
    assert good.movement_id == "p1"
    misposted = good.model_copy(
        update={
            "legs": (
                Leg(account=ESCROW_BANK, side=Side.DEBIT, amount_fen=50_000),
                Leg(account=household_account("h-102"), side=Side.CREDIT, amount_fen=50_000),
            )
        }
    )
    damaged = replace(b.state, postings=(misposted, *b.state.postings[1:]))
    statement = build_statement(
        damaged,
        statement_id="st",
        sequence=1,
        kind=StatementKind.PERIODIC,
        period_start=date(2025, 3, 3),
        period_end=date(2025, 3, 31),
        previous_statement_hash=GENESIS_HASH,
        created_at=b.now,
    )
    r = statement.reconciliation
    assert r.difference_fen == 0  # the total check alone would pass
    assert r.held_closing_fen == r.households_closing_fen
    assert r.mismatched_households == ("h-101", "h-102")
    assert not r.balanced
    lines = {line.household_id: line for line in statement.households}
    assert lines["h-101"].difference_fen == -50_000 and not lines["h-101"].matches
    assert lines["h-102"].difference_fen == 50_000 and not lines["h-102"].matches
    problems = arithmetic_problems(statement)
    assert any("household h-101" in p for p in problems)
    assert any("household h-102" in p for p in problems)


def test_a_mismatch_from_an_earlier_period_still_shows(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=55)
    b.do(close_books, through=date(2025, 4, 30))
    misposted = b.state.postings[0].model_copy(
        update={
            "legs": (
                Leg(account=ESCROW_BANK, side=Side.DEBIT, amount_fen=50_000),
                Leg(account=household_account("h-102"), side=Side.CREDIT, amount_fen=50_000),
            )
        }
    )
    damaged = replace(b.state, postings=(misposted, *b.state.postings[1:]))
    april = build_statement(
        damaged,
        statement_id="st-04",
        sequence=2,
        kind=StatementKind.PERIODIC,
        period_start=date(2025, 4, 1),
        period_end=date(2025, 4, 30),
        previous_statement_hash=GENESIS_HASH,
        created_at=b.now,
    )
    # No movement in April: the period's own arithmetic adds up, but the documents since opening do not.
    assert set(april.reconciliation.mismatched_households) == {"h-101", "h-102"}


def test_statements_chain_by_hash_and_periods_follow_without_a_gap(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=30)
    b.do(close_books, through=date(2025, 3, 31))
    first = _issue(b, None, "st-2025-03", date(2025, 3, 3), date(2025, 3, 31))
    chain = apply_statement_events(None, [first])
    assert first.previous_statement_hash == GENESIS_HASH
    assert first.statement_hash == statement_hash(first.statement)
    b.pay("h-101", 700, movement_id="p-apr", reference="WX-APR", booked_on=date(2025, 4, 2))
    b.later(days=22)
    b.do(close_books, through=date(2025, 4, 30))
    with pytest.raises(ValidationFailed, match="2025-04-01, so no day is skipped"):
        issue_statement(
            chain,
            b.state,
            statement_id="st-2025-04",
            kind=StatementKind.PERIODIC,
            period_start=date(2025, 4, 2),
            period_end=date(2025, 4, 30),
            at=b.now,
        )
    second = _issue(b, chain, "st-2025-04", date(2025, 4, 1), date(2025, 4, 30))
    assert second.sequence == 2
    assert second.previous_statement_hash == first.statement_hash
    assert second.statement.opening_balance_fen == first.statement.closing_balance_fen
    assert chain_problems([first.statement, second.statement]) == []
    chain = apply_statement_events(chain, [second])
    assert chain is not None and chain.next_sequence == 3


def test_a_missing_altered_or_reordered_statement_breaks_the_chain(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=61)
    b.do(close_books, through=date(2025, 4, 30))
    first = _issue(b, None, "st-03", date(2025, 3, 3), date(2025, 3, 31))
    chain = apply_statement_events(None, [first])
    second = _issue(b, chain, "st-04", date(2025, 4, 1), date(2025, 4, 30))
    chain = apply_statement_events(chain, [second])
    third = _issue(b, chain, "st-demand", date(2025, 3, 10), date(2025, 4, 15), StatementKind.ON_DEMAND)
    statements = [first.statement, second.statement, third.statement]
    assert chain_problems(statements) == []
    assert any("missing" in p for p in chain_problems([first.statement, third.statement]))
    assert chain_problems([second.statement, first.statement])
    altered = first.statement.model_copy(update={"closing_balance_fen": first.statement.closing_balance_fen + 1})
    assert any("does not chain" in p for p in chain_problems([altered, second.statement, third.statement]))
    assert arithmetic_problems(altered)
    # The store refuses to fold a tampered statement event as well.
    tampered = first.model_copy(update={"statement": altered})
    with pytest.raises(HistoryError, match="does not match its hash"):
        replay_statements([tampered])
    with pytest.raises(HistoryError, match="out of sequence"):
        replay_statements([second])


def test_a_periodic_statement_needs_closed_books_and_an_on_demand_one_may_be_provisional(
    books: Callable[..., Any],
) -> None:
    b = books()
    _march(b)
    b.later(days=30)
    with pytest.raises(InvalidTransition, match="close the books first"):
        issue_statement(
            None,
            b.state,
            statement_id="st",
            kind=StatementKind.PERIODIC,
            period_start=date(2025, 3, 3),
            period_end=date(2025, 3, 31),
            at=b.now,
        )
    on_demand = _issue(b, None, "st-now", date(2025, 3, 3), b.today, StatementKind.ON_DEMAND)
    assert on_demand.statement.provisional
    with pytest.raises(ValidationFailed, match="future"):
        issue_statement(
            None,
            b.state,
            statement_id="st-x",
            kind=StatementKind.ON_DEMAND,
            period_start=date(2025, 3, 3),
            period_end=b.today + timedelta(days=1),
            at=b.now,
        )
    with pytest.raises(ValidationFailed, match="before the account was opened"):
        issue_statement(
            None,
            b.state,
            statement_id="st-x",
            kind=StatementKind.ON_DEMAND,
            period_start=date(2025, 3, 1),
            period_end=date(2025, 3, 5),
            at=b.now,
        )


def test_issuing_the_same_statement_again_records_nothing(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=30)
    b.do(close_books, through=date(2025, 3, 31))
    first = _issue(b, None, "st-03", date(2025, 3, 3), date(2025, 3, 31))
    chain = apply_statement_events(None, [first])
    again = issue_statement(
        chain,
        b.state,
        statement_id="st-03",
        kind=StatementKind.PERIODIC,
        period_start=date(2025, 3, 3),
        period_end=date(2025, 3, 31),
        at=b.now,
    )
    assert again == []
    with pytest.raises(IdempotencyConflict, match="statement st-03"):
        issue_statement(
            chain,
            b.state,
            statement_id="st-03",
            kind=StatementKind.ON_DEMAND,
            period_start=date(2025, 3, 3),
            period_end=date(2025, 3, 31),
            at=b.now,
        )


def test_the_issued_event_rebuilds_the_statement_from_its_json(books: Callable[..., Any]) -> None:
    b = books()
    _march(b)
    b.later(days=30)
    b.do(close_books, through=date(2025, 3, 31))
    issued = _issue(b, None, "st-03", date(2025, 3, 3), date(2025, 3, 31))
    decoded = registry.decode(registry.type_of(issued), json.loads(issued.model_dump_json()))
    assert decoded == issued
    assert isinstance(decoded, StatementIssued)
    assert statement_hash(decoded.statement) == issued.statement_hash
    assert StatementIssued.token() == "issued"
    data = json.loads(issued.model_dump_json())["statement"]
    money = [data["opening_balance_fen"], data["closing_balance_fen"], data["total_credits_fen"]]
    money += [e["amount_fen"] for e in data["entries"]] + [line["closing_fen"] for line in data["households"]]
    assert all(type(amount) is int for amount in money)  # fen in the JSON, never "123.45" nor 123.45
