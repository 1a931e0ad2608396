"""Building a statement from an account's postings: a pure function of the ledger and the period.

Bank entries are listed in booking-date order, and within a day in the order they were recorded, each with the bank
balance after it. Every household that has had money in the account by the end of the period is reconciled, also
those without a movement in the period (their balance must still be accounted for).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from billing_escrow.domain.account_state import AccountState
from billing_escrow.domain.balances import balances_as_of
from billing_escrow.domain.ledger import ESCROW_BANK, Posting, household_of
from billing_escrow.domain.statement import (
    EntryDirection,
    HouseholdReconciliation,
    Reconciliation,
    Statement,
    StatementEntry,
    StatementKind,
    SubLedgerTransfer,
)


def _in_period(postings: Iterable[Posting], start: date, end: date) -> list[Posting]:
    # ``sorted`` is stable: within a booking date, postings keep the order they were recorded in.
    return sorted((p for p in postings if start <= p.booked_on <= end), key=lambda p: p.booked_on)


def _entries(postings: Sequence[Posting], opening: int) -> tuple[StatementEntry, ...]:
    entries: list[StatementEntry] = []
    balance = opening
    for posting in postings:
        change = posting.effect_on(ESCROW_BANK)  # a debit of the bank account is money in
        if change == 0:
            continue
        balance += change
        entries.append(
            StatementEntry(
                entry_number=len(entries) + 1,
                movement_id=posting.movement_id,
                kind=posting.kind,
                booked_on=posting.booked_on,
                direction=EntryDirection.CREDIT if change > 0 else EntryDirection.DEBIT,
                amount_fen=abs(change),
                balance_after_fen=balance,
                counterparty_id=posting.counterparty_id,
                counterparty_name=posting.counterparty_name,
                reference=posting.reference,
                channel=posting.channel,
                reverses=posting.reverses,
                memo=posting.memo,
                household_effects=posting.household_effects,
                condition=posting.condition,
                evidence=posting.evidence,
                co_signatures=posting.co_signatures,
            )
        )
    return tuple(entries)


def _transfers(postings: Sequence[Posting]) -> tuple[SubLedgerTransfer, ...]:
    return tuple(
        SubLedgerTransfer(
            movement_id=p.movement_id,
            kind=p.kind,
            booked_on=p.booked_on,
            household_effects=p.household_effects,
            reverses=p.reverses,
            memo=p.memo,
        )
        for p in postings
        if not p.touches_bank and p.household_effects
    )


def _households(postings: Sequence[Posting], start: date, end: date) -> tuple[HouseholdReconciliation, ...]:
    up_to_end = [p for p in postings if p.booked_on <= end]
    opening = balances_as_of(up_to_end, start - timedelta(days=1))
    closing = balances_as_of(up_to_end)
    credits: dict[str, int] = defaultdict(int)
    debits: dict[str, int] = defaultdict(int)
    documents: dict[str, int] = defaultdict(int)
    for posting in up_to_end:
        for effect in posting.household_effects:
            documents[effect.household_id] += effect.amount_fen
            if posting.booked_on >= start:
                target = credits if effect.amount_fen > 0 else debits
                target[effect.household_id] += abs(effect.amount_fen)
    households = sorted(
        closing.households
        | {h for p in up_to_end for leg in p.legs if (h := household_of(leg.account))}
        | set(documents)
    )
    lines = []
    for h in households:
        expected = opening.household_held(h) + credits[h] - debits[h]
        actual = closing.household_held(h)
        lines.append(
            HouseholdReconciliation(
                household_id=h,
                opening_fen=opening.household_held(h),
                credits_fen=credits[h],
                debits_fen=debits[h],
                expected_closing_fen=expected,
                closing_fen=actual,
                documents_balance_fen=documents[h],
                difference_fen=actual - expected,
                matches=actual == expected == documents[h],
            )
        )
    return tuple(lines)


def _reconciliation(
    postings: Sequence[Posting], end: date, households: Sequence[HouseholdReconciliation]
) -> Reconciliation:
    closing = balances_as_of(postings, end)
    households_total = sum(h.closing_fen for h in households)
    mismatched = tuple(h.household_id for h in households if not h.matches)
    difference = closing.held - households_total
    return Reconciliation(
        held_closing_fen=closing.held,
        reserved_closing_fen=closing.reserved,
        households_closing_fen=households_total,
        difference_fen=difference,
        mismatched_households=mismatched,
        balanced=difference == 0 and not mismatched,
    )


def build_statement(
    account: AccountState,
    *,
    statement_id: str,
    sequence: int,
    kind: StatementKind,
    period_start: date,
    period_end: date,
    previous_statement_hash: str,
    created_at: datetime,
) -> Statement:
    """The statement of ``account`` for the days ``period_start`` to ``period_end`` (both included).

    The account must have been opened at the notary office (the statement names its notary file and bank account).
    """
    if account.notary is None:
        raise ValueError("an account that was never opened has no statement")
    postings = account.postings
    opening = balances_as_of(postings, period_start - timedelta(days=1)).held
    in_period = _in_period(postings, period_start, period_end)
    entries = _entries(in_period, opening)
    credits = [e.amount_fen for e in entries if e.direction is EntryDirection.CREDIT]
    debits = [e.amount_fen for e in entries if e.direction is EntryDirection.DEBIT]
    households = _households(postings, period_start, period_end)
    closed = account.books_closed_through
    return Statement(
        statement_id=statement_id,
        account_id=account.account_id,
        compound_id=account.compound_id,
        purpose=account.purpose,
        sequence=sequence,
        kind=kind,
        provisional=closed is None or period_end > closed,
        period_start=period_start,
        period_end=period_end,
        created_at=created_at,
        bank_account=account.notary.bank_account,
        notary_reference=account.notary.notary_reference,
        supervising_notary_name=account.notary.supervising_notary_name,
        opening_balance_fen=opening,
        total_credits_fen=sum(credits),
        total_debits_fen=sum(debits),
        credit_count=len(credits),
        debit_count=len(debits),
        closing_balance_fen=balances_as_of(postings, period_end).held,
        entries=entries,
        transfers=_transfers(in_period),
        households=households,
        reconciliation=_reconciliation(postings, period_end, households),
        previous_statement_hash=previous_statement_hash,
    )
