"""Which bills a household's payments settle (oldest first), what is still owed, and how long overdue.

Pure functions of a household's bills and the money the escrow account recorded for it. Payments are not assigned
to bills by events: the rule is applied to the totals whenever it is asked, so a reversal or a reallocation simply
changes the total and the settlement follows. The oldest live bill (by month, then by issue order) is settled first;
what is left after the newest bill is the household's credit, which settles the next bills as they are issued.

Ageing buckets count whole days past the due date: a bill is overdue from the day after it is due. ``0-30`` holds
bills 1 to 30 days overdue, ``31-90`` 31 to 90, ``91-180`` 91 to 180, ``over-180`` more.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from billing_escrow.domain.account_state import AccountState
from billing_escrow.domain.household_state import Bill, HouseholdState
from billing_escrow.domain.ledger import MovementKind
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.utc import BUSINESS_TZ


@dataclass(frozen=True)
class Receipt:
    """Money in for a household (negative when a reversal or reallocation took it back), on its booking date."""

    movement_id: str
    booked_on: date
    amount_fen: int


def household_receipts(account: AccountState, household_id: str) -> tuple[Receipt, ...]:
    """What the household paid into this account, net of corrections. Payments out do not un-pay its bills."""
    receipts = []
    for posting in account.postings:
        if posting.kind is MovementKind.PAYMENT_OUT:
            continue
        amount = sum(e.amount_fen for e in posting.household_effects if e.household_id == household_id)
        if amount:
            receipts.append(Receipt(posting.movement_id, posting.booked_on, amount))
    return tuple(receipts)


@dataclass(frozen=True)
class BillLine:
    bill_id: str
    period: str
    due_on: date
    amount_fen: int
    paid_fen: int

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.paid_fen


@dataclass(frozen=True)
class Settlement:
    lines: tuple[BillLine, ...]
    credit_fen: int  # paid beyond every bill

    @property
    def outstanding_fen(self) -> int:
        return sum(line.outstanding_fen for line in self.lines)


def settle_oldest_first(bills: Iterable[Bill], paid_fen: int) -> Settlement:
    """Spread ``paid_fen`` over the bills, oldest first."""
    left = max(paid_fen, 0)
    lines = []
    for bill in sorted(bills, key=lambda b: (b.period, b.sequence)):
        paid = min(left, bill.amount_fen)
        left -= paid
        lines.append(BillLine(bill.bill_id, bill.period, bill.due_on, bill.amount_fen, paid))
    return Settlement(tuple(lines), left)


class AgeingBucket(StrEnum):
    NOT_DUE = "not-due"
    DAYS_0_30 = "0-30"
    DAYS_31_90 = "31-90"
    DAYS_91_180 = "91-180"
    OVER_180 = "over-180"


def bucket_for(due_on: date, as_of: date) -> AgeingBucket:
    days = (as_of - due_on).days
    if days <= 0:
        return AgeingBucket.NOT_DUE
    if days <= 30:
        return AgeingBucket.DAYS_0_30
    if days <= 90:
        return AgeingBucket.DAYS_31_90
    if days <= 180:
        return AgeingBucket.DAYS_91_180
    return AgeingBucket.OVER_180


def ageing(settlement: Settlement, as_of: date) -> dict[AgeingBucket, int]:
    """What is still owed, per bucket (every bucket present, zero where nothing is owed)."""
    buckets = dict.fromkeys(AgeingBucket, 0)
    for line in settlement.lines:
        buckets[bucket_for(line.due_on, as_of)] += line.outstanding_fen
    return buckets


@dataclass(frozen=True)
class HouseholdArrears:
    household_id: str
    purpose: Purpose
    as_of: date
    billed_fen: int
    paid_fen: int
    settlement: Settlement
    buckets: Mapping[AgeingBucket, int]

    @property
    def arrears_fen(self) -> int:
        """Owed on bills already past their due date."""
        return sum(amount for bucket, amount in self.buckets.items() if bucket is not AgeingBucket.NOT_DUE)

    @property
    def credit_fen(self) -> int:
        return self.settlement.credit_fen


def household_arrears(
    household: HouseholdState, purpose: Purpose, receipts: Iterable[Receipt], as_of: date
) -> HouseholdArrears:
    """A household's position for one purpose at the end of ``as_of`` (China time): bills then live, money then in."""
    end_of_day = datetime.combine(as_of, time.max, tzinfo=BUSINESS_TZ)
    bills = [b for b in household.bills.values() if b.purpose is purpose and b.live_on(end_of_day)]
    paid = sum(r.amount_fen for r in receipts if r.booked_on <= as_of)
    settlement = settle_oldest_first(bills, paid)
    return HouseholdArrears(
        household_id=household.household_id,
        purpose=purpose,
        as_of=as_of,
        billed_fen=sum(b.amount_fen for b in bills),
        paid_fen=paid,
        settlement=settlement,
        buckets=ageing(settlement, as_of),
    )
