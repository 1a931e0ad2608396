"""The statement of an escrow account for a period, as the notary receives it (the content; signing and the XML and
PDF renderings are done elsewhere).

Directions are the bank's, from the account holder's side, as in ISO 20022 camt.053: a ``credit`` is money into the
escrow account (our ``escrow_bank`` ledger account is debited), a ``debit`` is money out. So::

    opening_balance_fen + total_credits_fen − total_debits_fen = closing_balance_fen

``entries`` are the movements of the bank balance booked in the period; ``transfers`` are movements between
households' sub-ledgers that leave the bank balance unchanged (reallocations and their reversals). ``households``
reconciles each household's sub-ledger on its own: a household short by the amount another is long leaves the
totals equal, so only a per-household check sees it.

The statement's hash is the SHA-256 of its canonical JSON (RFC 8785); each statement carries its predecessor's hash,
so a missing, altered or reordered statement breaks the chain.
"""

import hashlib
from datetime import date
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from billing_escrow.domain.channels import PaymentChannel
from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.ledger import HouseholdEffect, MovementKind
from billing_escrow.domain.money import CURRENCY, Fen, NonNegativeFen, PositiveFen
from billing_escrow.domain.parties import BankAccountDetails, Condition, CoSignature
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.texts import Name, OptionalReason, Reference
from billing_escrow.domain.utc import UtcDatetime
from jinlin.events.canonical import canonical_json

HASH_PATTERN: Final = r"^[0-9a-f]{64}$"
Sha256 = Annotated[str, Field(pattern=HASH_PATTERN)]
Count = Annotated[int, Strict(), Field(ge=0)]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatementKind(StrEnum):
    PERIODIC = "periodic"  # the monthly statement: periods follow each other without a gap
    ON_DEMAND = "on_demand"  # any period, when the notary asks


class EntryDirection(StrEnum):
    CREDIT = "credit"  # money in
    DEBIT = "debit"  # money out


class StatementEntry(_Value):
    """One booked movement of the escrow account's bank balance."""

    entry_number: Annotated[int, Strict(), Field(ge=1)]
    movement_id: Identifier
    kind: MovementKind
    booked_on: date
    direction: EntryDirection
    amount_fen: PositiveFen
    balance_after_fen: Fen
    counterparty_id: Identifier | None = None  # the household (money in) or the payee (money out)
    counterparty_name: Name | None = None
    reference: Reference | None = None
    channel: PaymentChannel | None = None
    reverses: Identifier | None = None
    memo: OptionalReason = ""
    household_effects: tuple[HouseholdEffect, ...] = ()
    # For a payment out: what it satisfied, the evidence, and who co-signed it.
    condition: Condition | None = None
    evidence: tuple[Reference, ...] = ()
    co_signatures: tuple[CoSignature, ...] = ()


class SubLedgerTransfer(_Value):
    """Money moved between households' sub-ledgers; the bank balance did not change."""

    movement_id: Identifier
    kind: MovementKind
    booked_on: date
    household_effects: tuple[HouseholdEffect, ...]
    reverses: Identifier | None = None
    memo: OptionalReason = ""


class HouseholdReconciliation(_Value):
    """One household's sub-ledger (free + reserved) checked against its documents.

    ``opening_fen``/``closing_fen`` are the ledger's balances; ``credits_fen``/``debits_fen`` what the period's
    documents (payments, charges of payments out, reallocations, reversals) say happened to the household, so
    ``expected_closing_fen = opening_fen + credits_fen − debits_fen``. ``documents_balance_fen`` is what all its
    documents since the account opened add up to. It matches when the ledger agrees with both.
    """

    household_id: Identifier
    opening_fen: Fen
    credits_fen: NonNegativeFen
    debits_fen: NonNegativeFen
    expected_closing_fen: Fen
    closing_fen: Fen
    documents_balance_fen: Fen
    difference_fen: Fen  # closing − expected closing
    matches: bool


class Reconciliation(_Value):
    """The households' sub-ledgers against the bank balance, at the end of the period."""

    held_closing_fen: Fen  # the bank balance
    reserved_closing_fen: Fen  # of it, set aside for pending payments out
    households_closing_fen: Fen  # Σ of the households' closing balances
    difference_fen: Fen  # held − Σ households
    mismatched_households: tuple[Identifier, ...]
    balanced: bool  # no difference in total and none per household


class Statement(_Value):
    statement_id: Identifier
    account_id: Identifier
    compound_id: Identifier
    purpose: Purpose
    currency: Literal["CNY"] = CURRENCY
    sequence: Annotated[int, Strict(), Field(ge=1)]
    kind: StatementKind
    # An on-demand statement of days whose books are still open: a later booking may still change those days.
    provisional: bool
    period_start: date
    period_end: date
    created_at: UtcDatetime
    bank_account: BankAccountDetails
    notary_reference: Reference
    supervising_notary_name: Name
    opening_balance_fen: Fen
    total_credits_fen: NonNegativeFen
    total_debits_fen: NonNegativeFen
    credit_count: Count
    debit_count: Count
    closing_balance_fen: Fen
    entries: tuple[StatementEntry, ...]
    transfers: tuple[SubLedgerTransfer, ...]
    households: tuple[HouseholdReconciliation, ...]
    reconciliation: Reconciliation
    previous_statement_hash: Sha256


def statement_hash(statement: Statement) -> str:
    """SHA-256 (hex) of the statement's canonical JSON: what the chain links and the signature covers."""
    return hashlib.sha256(canonical_json(statement.model_dump(mode="json"))).hexdigest()
