"""The double-entry ledger of one escrow account: its chart of accounts, legs and postings.

Chart of accounts (one set per escrow account)::

    escrow_bank          asset      the money in the escrow account at the bank
    household:<id>       liability  money held for a household, free to be used for it
    reserved:<id>        liability  money of a household earmarked for a pending payment out

The books balance by construction: every posting's debits equal its credits, so the signed balances (debits minus
credits) of all accounts sum to zero, and ``escrow_bank`` = Σ ``household:*`` + Σ ``reserved:*`` at every date.
No account may ever go below zero on its normal side: the bank cannot hold less than nothing, a household cannot
spend money it has not paid in, a reservation cannot release more than it holds. That one rule is what makes
"available = held − reserved" never negative and "escrow never pays out more than it holds" true.

Movements (``MovementKind``) and their legs::

    payment_in    Dr escrow_bank        Cr household:<h>       money arrives for a household
    reallocation  Dr household:<from>   Cr household:<to>      a payment booked to the wrong household moves
    reversal      the mirror of the movement it reverses       a mistake is undone by a new entry, never an edit
    reservation   Dr household:<h>      Cr reserved:<h>        a payment out is requested: its money is set aside
    release       Dr reserved:<h>       Cr household:<h>       the request is voided or expires
    payment_out   Dr reserved:<h>       Cr escrow_bank         the request is executed: the money leaves the bank

Besides its legs, a posting carries what its *document* says about the households (``household_effects``: the
household named by the payment, the charges of a payment out, the two households of a reallocation). The legs are
the books, the effects are the evidence; a statement reconciles one against the other household by household.
"""

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from billing_escrow.domain.channels import PaymentChannel
from billing_escrow.domain.identifiers import IDENTIFIER_PATTERN, Identifier
from billing_escrow.domain.money import Fen, PositiveFen
from billing_escrow.domain.parties import Condition, CoSignature
from billing_escrow.domain.texts import Name, OptionalReason, Reference
from billing_escrow.domain.utc import UtcDatetime

ESCROW_BANK: Final = "escrow_bank"
HOUSEHOLD_PREFIX: Final = "household:"
RESERVED_PREFIX: Final = "reserved:"

_ID = IDENTIFIER_PATTERN.removeprefix("^").removesuffix("$")
LEDGER_ACCOUNT_PATTERN: Final = rf"^(escrow_bank|(household|reserved):{_ID})$"
_LEDGER_ACCOUNT: Final = re.compile(LEDGER_ACCOUNT_PATTERN)

LedgerAccount = Annotated[str, StringConstraints(pattern=LEDGER_ACCOUNT_PATTERN)]


def household_account(household_id: str) -> str:
    return f"{HOUSEHOLD_PREFIX}{household_id}"


def reserved_account(household_id: str) -> str:
    return f"{RESERVED_PREFIX}{household_id}"


def household_of(account: str) -> str | None:
    """The household a sub-ledger account belongs to (``household:h`` or ``reserved:h`` → ``h``), else ``None``."""
    for prefix in (HOUSEHOLD_PREFIX, RESERVED_PREFIX):
        if account.startswith(prefix):
            return account.removeprefix(prefix)
    return None


def is_ledger_account(value: object) -> bool:
    return isinstance(value, str) and _LEDGER_ACCOUNT.match(value) is not None


def is_debit_normal(account: str) -> bool:
    """Assets grow by debits (the bank); liabilities by credits (what is held for households)."""
    return account == ESCROW_BANK


def normal_balance(account: str, signed: int) -> int:
    """A signed balance (debits − credits) read the way the account grows: what it holds, never negative."""
    return signed if is_debit_normal(account) else -signed


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class Leg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: LedgerAccount
    side: Side
    amount_fen: PositiveFen

    @property
    def signed(self) -> int:
        """Debits count positive, credits negative."""
        return self.amount_fen if self.side is Side.DEBIT else -self.amount_fen

    def mirrored(self) -> "Leg":
        other = Side.CREDIT if self.side is Side.DEBIT else Side.DEBIT
        return Leg(account=self.account, side=other, amount_fen=self.amount_fen)


def _balanced(legs: tuple[Leg, ...]) -> tuple[Leg, ...]:
    if sum(leg.signed for leg in legs) != 0:
        raise ValueError("debits and credits must be equal")
    return legs


# At least one debit and one credit, equal in total.
Legs = Annotated[tuple[Leg, ...], Field(min_length=2, max_length=10_000), AfterValidator(_balanced)]


def transfer(debit: str, credit: str, amount_fen: int) -> tuple[Leg, Leg]:
    """The two legs of moving ``amount_fen`` from one account to another."""
    return (
        Leg(account=debit, side=Side.DEBIT, amount_fen=amount_fen),
        Leg(account=credit, side=Side.CREDIT, amount_fen=amount_fen),
    )


def mirror(legs: tuple[Leg, ...]) -> tuple[Leg, ...]:
    return tuple(leg.mirrored() for leg in legs)


class MovementKind(StrEnum):
    PAYMENT_IN = "payment_in"
    REALLOCATION = "reallocation"
    REVERSAL = "reversal"
    RESERVATION = "reservation"
    RELEASE = "release"
    PAYMENT_OUT = "payment_out"


class HouseholdEffect(BaseModel):
    """What a movement's document says it did to one household's money: positive credited, negative charged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    household_id: Identifier
    amount_fen: Fen


class Posting(BaseModel):
    """One balanced movement in the books, booked on a date, with the document behind it.

    ``movement_id`` is the caller's id of the movement (for the postings of a disbursement, the disbursement's id);
    with ``kind`` it is unique in an account's ledger. The document's fields say what a statement shows: who the
    counterparty is (a household id for money in, the payee for money out), the bank's reference, and for a payment
    out the condition it satisfied, its evidence and its co-signatures.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    movement_id: Identifier
    kind: MovementKind
    booked_on: date
    recorded_at: UtcDatetime
    legs: Legs
    household_effects: tuple[HouseholdEffect, ...] = ()
    counterparty_id: Identifier | None = None
    counterparty_name: Name | None = None
    reference: Reference | None = None
    channel: PaymentChannel | None = None
    reverses: Identifier | None = None
    condition: Condition | None = None
    evidence: tuple[Reference, ...] = ()
    co_signatures: tuple[CoSignature, ...] = ()
    memo: OptionalReason = ""

    def effect_on(self, account: str) -> int:
        """The signed change (debits − credits) this posting makes to one ledger account."""
        return sum(leg.signed for leg in self.legs if leg.account == account)

    @property
    def accounts(self) -> frozenset[str]:
        return frozenset(leg.account for leg in self.legs)

    @property
    def touches_bank(self) -> bool:
        return ESCROW_BANK in self.accounts
