"""Balances as of any date: pure functions over an account's postings.

"As of" a date means at the end of that business day: every posting booked on or before it counts. The order in
which postings were recorded does not matter to a balance, only their booking dates.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from billing_escrow.domain.errors import InsufficientFunds
from billing_escrow.domain.ledger import (
    ESCROW_BANK,
    HOUSEHOLD_PREFIX,
    RESERVED_PREFIX,
    Posting,
    household_account,
    household_of,
    normal_balance,
    reserved_account,
)


def signed_balances(postings: Iterable[Posting], as_of: date | None = None) -> dict[str, int]:
    """Debits − credits per ledger account, over the postings booked on or before ``as_of`` (all if ``None``)."""
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        if as_of is None or posting.booked_on <= as_of:
            for leg in posting.legs:
                totals[leg.account] += leg.signed
    return dict(totals)


@dataclass(frozen=True)
class Balances:
    """The balances of one escrow account's ledger, read the way each account grows (what it holds)."""

    signed: Mapping[str, int]

    def of(self, account: str) -> int:
        return normal_balance(account, self.signed.get(account, 0))

    @property
    def held(self) -> int:
        """What the bank holds in the escrow account."""
        return self.of(ESCROW_BANK)

    @property
    def reserved(self) -> int:
        """What is set aside for pending payments out."""
        return sum(self.of(a) for a in self.signed if a.startswith(RESERVED_PREFIX))

    @property
    def available(self) -> int:
        """What a new payment out may still use: held − reserved, i.e. the households' free money."""
        return sum(self.of(a) for a in self.signed if a.startswith(HOUSEHOLD_PREFIX))

    def household_free(self, household_id: str) -> int:
        return self.of(household_account(household_id))

    def household_reserved(self, household_id: str) -> int:
        return self.of(reserved_account(household_id))

    def household_held(self, household_id: str) -> int:
        """All a household's money in the account: free plus reserved."""
        return self.household_free(household_id) + self.household_reserved(household_id)

    @property
    def households(self) -> frozenset[str]:
        return frozenset(h for a in self.signed if (h := household_of(a)) is not None)

    @property
    def total(self) -> int:
        """The sum of every account's signed balance: zero in balanced books."""
        return sum(self.signed.values())


def balances_as_of(postings: Iterable[Posting], as_of: date | None = None) -> Balances:
    return Balances(signed_balances(postings, as_of))


def lowest_balance_from(postings: Iterable[Posting], account: str, from_date: date) -> int:
    """The lowest end-of-day balance (normal side) of ``account`` on any day from ``from_date`` on."""
    carried = 0
    by_date: dict[date, int] = defaultdict(int)
    for posting in postings:
        change = posting.effect_on(account)
        if change == 0:
            continue
        if posting.booked_on < from_date:
            carried += change
        else:
            by_date[posting.booked_on] += change
    running = carried
    lowest = normal_balance(account, running)
    for day in sorted(by_date):
        running += by_date[day]
        lowest = min(lowest, normal_balance(account, running))
    return lowest


def check_covered(postings: Iterable[Posting], new: Posting) -> None:
    """Raise ``InsufficientFunds`` if ``new`` would take any account below zero on any day from its booking date on.

    A movement booked on an earlier date than others changes every later end-of-day balance too, so checking only
    the latest balance would let a back-dated debit overdraw the books as of some past date.
    """
    history = [*postings, new]
    for account in sorted(new.accounts):
        change = normal_balance(account, new.effect_on(account))
        if change >= 0:
            continue
        lowest = lowest_balance_from(history, account, new.booked_on)
        if lowest < 0:
            # At the tightest day the account held ``lowest - change`` before this movement.
            raise InsufficientFunds(account, needed=-change, available=lowest - change)
