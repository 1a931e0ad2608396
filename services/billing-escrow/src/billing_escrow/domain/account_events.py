"""The escrow account's events: lifecycle, holds, money in, corrections, and payments out.

Every event names its account and the instant it happened (``occurred_at``, passed in by the command). Who did it
is the envelope's ``actor``; an event names a person itself only where a rule depends on who it was (the requester
and the co-signers of a payment out, the notary who reopens an account).

Events that move money carry their ledger ``legs`` and ``booked_on`` date in full: the log itself is the journal,
and an auditor needs no code of this service to re-add it.

NATS subject of each: ``jinlin.escrow.account.<account_id>.<subject_token>``.
"""

from datetime import date
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from billing_escrow.domain.channels import PaymentChannel
from billing_escrow.domain.events import registry
from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.ledger import Legs
from billing_escrow.domain.money import PositiveFen
from billing_escrow.domain.parties import BankAccountDetails, Condition, CoSignature, Payee, Signer, SignerRole
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.terms import AccountTerms
from billing_escrow.domain.texts import Name, OptionalReason, Reason, Reference
from billing_escrow.domain.utc import UtcDatetime
from jinlin.events import DomainEvent


class AccountEvent(DomainEvent):
    """What every escrow account event carries. Not registered itself: only its concrete subclasses are."""

    account_id: Identifier
    occurred_at: UtcDatetime


# --- lifecycle -----------------------------------------------------------------------------------------------------


@registry.register
class EscrowAccountRequested(AccountEvent):
    """The center asked the notary office to open an escrow collection account for a compound and purpose."""

    subject_token: ClassVar[str] = "requested"  # noqa: S105

    compound_id: Identifier
    purpose: Purpose
    terms: AccountTerms


@registry.register
class EscrowAccountOpened(AccountEvent):
    """The notary office opened the account: its file, the supervising notary, and the account at the bank."""

    subject_token: ClassVar[str] = "opened"  # noqa: S105

    notary_reference: Reference
    supervising_notary_id: Identifier
    supervising_notary_name: Name
    bank_account: BankAccountDetails


@registry.register
class EscrowAccountActivated(AccountEvent):
    """The account is in use: money may come in and, under its terms, go out."""

    subject_token: ClassVar[str] = "activated"  # noqa: S105


@registry.register
class EscrowAccountTermsChanged(AccountEvent):
    """New co-signing terms, for payments out requested from now on (pending ones keep the terms they began under)."""

    subject_token: ClassVar[str] = "terms_changed"  # noqa: S105

    terms: AccountTerms
    reason: Reason


@registry.register
class EscrowAccountFrozen(AccountEvent):
    """A hold was placed: no payment out may be requested or executed while any hold is in place."""

    subject_token: ClassVar[str] = "frozen"  # noqa: S105

    hold_id: Identifier
    reason: Reason


@registry.register
class EscrowAccountUnfrozen(AccountEvent):
    """A hold was lifted. The account is frozen until its last hold is lifted."""

    subject_token: ClassVar[str] = "unfrozen"  # noqa: S105

    hold_id: Identifier
    reason: OptionalReason = ""


@registry.register
class EscrowAccountClosed(AccountEvent):
    """Closed at a zero balance, with nothing pending and no hold."""

    subject_token: ClassVar[str] = "closed"  # noqa: S105

    reason: Reason


@registry.register
class EscrowAccountReopened(AccountEvent):
    """The notary reopened a closed account."""

    subject_token: ClassVar[str] = "reopened"  # noqa: S105

    reopened_by: Signer
    reason: Reason


@registry.register
class BooksClosed(AccountEvent):
    """Nothing may be booked on or before ``through`` any more: the periods up to it can be stated for good."""

    subject_token: ClassVar[str] = "books_closed"  # noqa: S105

    through: date


# --- money in and corrections --------------------------------------------------------------------------------------


@registry.register
class PaymentReceived(AccountEvent):
    """Money arrived for a household. ``reference`` (the bank's or payment provider's) is unique in the account."""

    subject_token: ClassVar[str] = "payment_received"  # noqa: S105

    movement_id: Identifier
    household_id: Identifier
    amount_fen: PositiveFen
    channel: PaymentChannel
    reference: Reference
    booked_on: date
    legs: Legs


@registry.register
class FundsReallocated(AccountEvent):
    """Money held for one household moved to another (a payment booked to the wrong household, say)."""

    subject_token: ClassVar[str] = "funds_reallocated"  # noqa: S105

    movement_id: Identifier
    from_household_id: Identifier
    to_household_id: Identifier
    amount_fen: PositiveFen
    reason: Reason
    booked_on: date
    legs: Legs


@registry.register
class MovementReversed(AccountEvent):
    """A payment in, a reallocation or a reversal was undone by its mirror entry (never by editing it)."""

    subject_token: ClassVar[str] = "movement_reversed"  # noqa: S105

    movement_id: Identifier
    reverses: Identifier
    reason: Reason
    booked_on: date
    legs: Legs


# --- payments out --------------------------------------------------------------------------------------------------


class Charge(BaseModel):
    """How much of a payment out is charged to one household's money."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    household_id: Identifier
    amount_fen: PositiveFen


class DisbursementOrder(BaseModel):
    """What the requester asked for: exactly the content a retried request must repeat to be the same request.

    ``requested_charges`` is ``None`` when the requester left the split to the rule (pro rata to what each household
    has free); the split applied is the event's ``charges`` either way.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    payee: Payee
    amount_fen: PositiveFen
    condition: Condition
    evidence: Annotated[tuple[Reference, ...], Field(min_length=1, max_length=100)]
    expires_at: UtcDatetime
    requested_by: Identifier
    requested_charges: tuple[Charge, ...] | None = None


@registry.register
class DisbursementRequested(AccountEvent):
    """A payment out was requested and its money reserved at once (the legs move it to ``reserved:*``).

    ``required_roles`` are the co-signatures it needs, fixed by the account's terms at the time of the request.
    """

    subject_token: ClassVar[str] = "disbursement_requested"  # noqa: S105

    disbursement_id: Identifier
    order: DisbursementOrder
    charges: Annotated[tuple[Charge, ...], Field(min_length=1)]
    required_roles: Annotated[tuple[SignerRole, ...], Field(min_length=1)]
    booked_on: date
    legs: Legs


@registry.register
class DisbursementSigned(AccountEvent):
    subject_token: ClassVar[str] = "disbursement_signed"  # noqa: S105

    disbursement_id: Identifier
    role: SignerRole
    signer_id: Identifier


@registry.register
class DisbursementExecuted(AccountEvent):
    """The money left the escrow account for the payee. Self-contained, for consumers that follow payments out."""

    subject_token: ClassVar[str] = "disbursement_executed"  # noqa: S105

    disbursement_id: Identifier
    compound_id: Identifier
    purpose: Purpose
    payee: Payee
    amount_fen: PositiveFen
    condition: Condition
    evidence: Annotated[tuple[Reference, ...], Field(min_length=1)]
    co_signatures: Annotated[tuple[CoSignature, ...], Field(min_length=1)]
    charges: Annotated[tuple[Charge, ...], Field(min_length=1)]
    bank_reference: Reference
    booked_on: date
    legs: Legs


@registry.register
class DisbursementVoided(AccountEvent):
    """The request was withdrawn before execution; its reservation went back to the households."""

    subject_token: ClassVar[str] = "disbursement_voided"  # noqa: S105

    disbursement_id: Identifier
    reason: Reason
    booked_on: date
    legs: Legs


@registry.register
class DisbursementExpired(AccountEvent):
    """The request reached its expiry unexecuted (recorded by the watcher); its reservation went back."""

    subject_token: ClassVar[str] = "disbursement_expired"  # noqa: S105

    disbursement_id: Identifier
    expires_at: UtcDatetime
    booked_on: date
    legs: Legs
