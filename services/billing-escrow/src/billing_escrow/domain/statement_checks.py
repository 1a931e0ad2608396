"""Checks anyone can run on a statement alone, or on a chain of them (the notary's offline verification uses these).

Each check returns the problems it found, in words, and an empty list when there are none. They recompute, never
trust: the totals from the entries, the running balances, the closing balance, each household's line, the chain.
"""

from collections.abc import Sequence
from datetime import timedelta

from billing_escrow.domain.statement import EntryDirection, Statement, StatementKind, statement_hash
from jinlin.events import GENESIS_HASH


def arithmetic_problems(statement: Statement) -> list[str]:
    problems = []
    s = statement
    credits = [e.amount_fen for e in s.entries if e.direction is EntryDirection.CREDIT]
    debits = [e.amount_fen for e in s.entries if e.direction is EntryDirection.DEBIT]
    if sum(credits) != s.total_credits_fen or len(credits) != s.credit_count:
        problems.append("the credits do not add up to their total")
    if sum(debits) != s.total_debits_fen or len(debits) != s.debit_count:
        problems.append("the debits do not add up to their total")
    if s.opening_balance_fen + s.total_credits_fen - s.total_debits_fen != s.closing_balance_fen:
        problems.append("opening + credits − debits is not the closing balance")
    balance = s.opening_balance_fen
    for number, entry in enumerate(s.entries, start=1):
        balance += entry.amount_fen if entry.direction is EntryDirection.CREDIT else -entry.amount_fen
        if entry.entry_number != number:
            problems.append(f"entry {number} is numbered {entry.entry_number}")
        if entry.balance_after_fen != balance:
            problems.append(f"the balance after entry {number} is wrong")
        if not s.period_start <= entry.booked_on <= s.period_end:
            problems.append(f"entry {number} is booked outside the period")
    for line in s.households:
        if line.opening_fen + line.credits_fen - line.debits_fen != line.expected_closing_fen:
            problems.append(f"household {line.household_id}: its expected closing balance does not add up")
        if not line.matches:
            problems.append(f"household {line.household_id}: its sub-ledger does not match its documents")
    r = s.reconciliation
    if r.held_closing_fen != s.closing_balance_fen:
        problems.append("the reconciliation's bank balance is not the closing balance")
    if sum(line.closing_fen for line in s.households) != r.households_closing_fen:
        problems.append("the households' closing balances do not add up to their total")
    if r.held_closing_fen != r.households_closing_fen:
        problems.append("the households' sub-ledgers do not add up to the bank balance")
    return problems


def chain_problems(statements: Sequence[Statement]) -> list[str]:
    """Problems in a sequence of one account's statements, in sequence order from the first."""
    problems = []
    previous_hash, previous_periodic = GENESIS_HASH, None
    for expected_sequence, statement in enumerate(statements, start=1):
        name = f"statement {statement.statement_id}"
        if statement.sequence != expected_sequence:
            problems.append(f"{name} has sequence {statement.sequence}, expected {expected_sequence}: one is missing")
        if statement.previous_statement_hash != previous_hash:
            problems.append(f"{name} does not chain to the statement before it")
        if statement.kind is StatementKind.PERIODIC:
            if previous_periodic is not None:
                if statement.period_start != previous_periodic.period_end + timedelta(days=1):
                    problems.append(f"{name} does not start the day after the previous periodic statement ended")
                if statement.opening_balance_fen != previous_periodic.closing_balance_fen:
                    problems.append(f"{name} does not open with the previous periodic statement's closing balance")
            previous_periodic = statement
        previous_hash = statement_hash(statement)
    return problems
