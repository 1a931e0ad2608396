"""An escrow account's state: nothing but the fold of its events.

``apply`` trusts the events (facts already checked by the commands that made them) and refuses only what cannot be
an account's history at all: events before the request, another account's events, a posting that does not balance,
a movement id used twice, a payment out resolved twice or never requested.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from billing_escrow.domain.account_events import (
    AccountEvent,
    BooksClosed,
    DisbursementExecuted,
    DisbursementExpired,
    DisbursementRequested,
    DisbursementSigned,
    DisbursementVoided,
    EscrowAccountActivated,
    EscrowAccountClosed,
    EscrowAccountFrozen,
    EscrowAccountOpened,
    EscrowAccountReopened,
    EscrowAccountRequested,
    EscrowAccountTermsChanged,
    EscrowAccountUnfrozen,
    FundsReallocated,
    MovementReversed,
    PaymentReceived,
)
from billing_escrow.domain.balances import Balances
from billing_escrow.domain.disbursement import Disbursement, DisbursementStatus
from billing_escrow.domain.errors import HistoryError
from billing_escrow.domain.idempotency import Fingerprint, fingerprint
from billing_escrow.domain.ledger import HouseholdEffect, MovementKind, Posting
from billing_escrow.domain.parties import BankAccountDetails, CoSignature
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.terms import AccountTerms
from billing_escrow.domain.utc import business_date
from jinlin.events import DomainEvent

# The movements a desk enters by hand, and so the ones that can be reversed. A disbursement's own postings are
# undone by its lifecycle (void, expiry), never by a reversal.
REVERSIBLE = frozenset({MovementKind.PAYMENT_IN, MovementKind.REALLOCATION, MovementKind.REVERSAL})


class AccountStatus(StrEnum):
    REQUESTED = "requested"  # asked of the notary office
    OPENED = "opened"  # opened at the notary office and the bank, not yet in use
    ACTIVE = "active"  # in use
    FROZEN = "frozen"  # active, with at least one hold: money comes in, nothing goes out
    CLOSED = "closed"  # at zero; the notary may reopen it


@dataclass(frozen=True)
class NotaryFile:
    notary_reference: str
    supervising_notary_id: str
    supervising_notary_name: str
    bank_account: BankAccountDetails
    opened_at: datetime

    @property
    def opened_on(self) -> date:
        return business_date(self.opened_at)


@dataclass(frozen=True)
class Hold:
    hold_id: str
    reason: str
    placed_at: datetime


@dataclass(frozen=True)
class AccountState:
    account_id: str
    compound_id: str
    purpose: Purpose
    terms: AccountTerms
    # The lifecycle stage; FROZEN is never stored here, it is ACTIVE with holds (see ``status``).
    lifecycle: AccountStatus
    # How many events were folded: the stream version to expect when appending the next ones.
    version: int
    requested_at: datetime
    updated_at: datetime  # of the last event; commands may not go back before it

    notary: NotaryFile | None = None
    holds: Mapping[str, Hold] = field(default_factory=dict)
    used_hold_ids: frozenset[str] = frozenset()
    postings: tuple[Posting, ...] = ()
    balances: Balances = field(default_factory=lambda: Balances({}))
    movements: Mapping[str, Fingerprint] = field(default_factory=dict)  # movement id → what was asked
    payment_references: Mapping[str, str] = field(default_factory=dict)  # payment reference → movement id
    reversed_by: Mapping[str, str] = field(default_factory=dict)  # movement id → the reversal's movement id
    disbursements: Mapping[str, Disbursement] = field(default_factory=dict)
    books_closed_through: date | None = None
    closed_at: datetime | None = None

    @property
    def status(self) -> AccountStatus:
        if self.lifecycle is AccountStatus.ACTIVE and self.holds:
            return AccountStatus.FROZEN
        return self.lifecycle

    @property
    def is_frozen(self) -> bool:
        return bool(self.holds)

    @property
    def held(self) -> int:
        return self.balances.held

    @property
    def reserved(self) -> int:
        return self.balances.reserved

    @property
    def available(self) -> int:
        return self.balances.available

    @property
    def pending_disbursements(self) -> tuple[Disbursement, ...]:
        return tuple(d for d in self.disbursements.values() if d.is_pending)

    def posting(self, movement_id: str, kinds: Iterable[MovementKind] = REVERSIBLE) -> Posting | None:
        """The posting a desk movement made (or, with ``kinds``, a disbursement's posting of that kind)."""
        wanted = frozenset(kinds)
        return next((p for p in self.postings if p.movement_id == movement_id and p.kind in wanted), None)


# --- folding -------------------------------------------------------------------------------------------------------


def _requested(event: EscrowAccountRequested) -> AccountState:
    return AccountState(
        account_id=event.account_id,
        compound_id=event.compound_id,
        purpose=event.purpose,
        terms=event.terms,
        lifecycle=AccountStatus.REQUESTED,
        version=1,
        requested_at=event.occurred_at,
        updated_at=event.occurred_at,
    )


def _effects(pairs: Iterable[tuple[str, int]]) -> tuple[HouseholdEffect, ...]:
    return tuple(HouseholdEffect(household_id=h, amount_fen=amount) for h, amount in pairs)


def _book(state: AccountState, posting: Posting) -> AccountState:
    signed = dict(state.balances.signed)
    for leg in posting.legs:
        signed[leg.account] = signed.get(leg.account, 0) + leg.signed
    return replace(state, postings=(*state.postings, posting), balances=Balances(signed))


def _remember(state: AccountState, movement_id: str, event: DomainEvent) -> AccountState:
    if movement_id in state.movements:
        raise HistoryError(f"movement {movement_id} recorded twice in account {state.account_id}")
    return replace(state, movements={**state.movements, movement_id: fingerprint(event)})


def _pending(state: AccountState, disbursement_id: str) -> Disbursement:
    disbursement = state.disbursements.get(disbursement_id)
    if disbursement is None:
        raise HistoryError(f"disbursement {disbursement_id} was never requested")
    if not disbursement.is_pending:
        raise HistoryError(f"disbursement {disbursement_id} was already {disbursement.status}")
    return disbursement


def _with(state: AccountState, disbursement: Disbursement) -> AccountState:
    return replace(state, disbursements={**state.disbursements, disbursement.disbursement_id: disbursement})


def _payment_received(state: AccountState, event: PaymentReceived) -> AccountState:
    state = _remember(state, event.movement_id, event)
    if event.reference in state.payment_references:
        raise HistoryError(f"payment reference recorded twice in account {state.account_id}")
    state = replace(state, payment_references={**state.payment_references, event.reference: event.movement_id})
    posting = Posting(
        movement_id=event.movement_id,
        kind=MovementKind.PAYMENT_IN,
        booked_on=event.booked_on,
        recorded_at=event.occurred_at,
        legs=event.legs,
        household_effects=_effects([(event.household_id, event.amount_fen)]),
        counterparty_id=event.household_id,
        reference=event.reference,
        channel=event.channel,
    )
    return _book(state, posting)


def _funds_reallocated(state: AccountState, event: FundsReallocated) -> AccountState:
    state = _remember(state, event.movement_id, event)
    posting = Posting(
        movement_id=event.movement_id,
        kind=MovementKind.REALLOCATION,
        booked_on=event.booked_on,
        recorded_at=event.occurred_at,
        legs=event.legs,
        household_effects=_effects(
            [(event.from_household_id, -event.amount_fen), (event.to_household_id, event.amount_fen)]
        ),
        counterparty_id=event.to_household_id,
        memo=event.reason,
    )
    return _book(state, posting)


def _movement_reversed(state: AccountState, event: MovementReversed) -> AccountState:
    original = state.posting(event.reverses)
    if original is None:
        raise HistoryError(f"reversal of unknown movement {event.reverses}")
    if event.reverses in state.reversed_by:
        raise HistoryError(f"movement {event.reverses} reversed twice")
    state = _remember(state, event.movement_id, event)
    state = replace(state, reversed_by={**state.reversed_by, event.reverses: event.movement_id})
    posting = Posting(
        movement_id=event.movement_id,
        kind=MovementKind.REVERSAL,
        booked_on=event.booked_on,
        recorded_at=event.occurred_at,
        legs=event.legs,
        household_effects=_effects((e.household_id, -e.amount_fen) for e in original.household_effects),
        counterparty_id=original.counterparty_id,
        counterparty_name=original.counterparty_name,
        reference=original.reference,
        channel=original.channel,
        reverses=event.reverses,
        memo=event.reason,
    )
    return _book(state, posting)


def _disbursement_requested(state: AccountState, event: DisbursementRequested) -> AccountState:
    state = _remember(state, event.disbursement_id, event)
    disbursement = Disbursement(
        disbursement_id=event.disbursement_id,
        order=event.order,
        charges=event.charges,
        required_roles=event.required_roles,
        requested_at=event.occurred_at,
        reserved_on=event.booked_on,
    )
    posting = Posting(
        movement_id=event.disbursement_id,
        kind=MovementKind.RESERVATION,
        booked_on=event.booked_on,
        recorded_at=event.occurred_at,
        legs=event.legs,
        counterparty_id=event.order.payee.payee_id,
        counterparty_name=event.order.payee.name,
        condition=event.order.condition,
        evidence=event.order.evidence,
    )
    return _book(_with(state, disbursement), posting)


def _disbursement_signed(state: AccountState, event: DisbursementSigned) -> AccountState:
    disbursement = _pending(state, event.disbursement_id)
    if event.role in disbursement.signed_roles:
        raise HistoryError(f"disbursement {event.disbursement_id} signed twice as {event.role}")
    signature = CoSignature(role=event.role, signer_id=event.signer_id, signed_at=event.occurred_at)
    return _with(state, replace(disbursement, signatures=(*disbursement.signatures, signature)))


def _disbursement_executed(state: AccountState, event: DisbursementExecuted) -> AccountState:
    disbursement = _pending(state, event.disbursement_id)
    executed = replace(
        disbursement,
        status=DisbursementStatus.EXECUTED,
        resolved_at=event.occurred_at,
        executed_on=event.booked_on,
        bank_reference=event.bank_reference,
    )
    posting = Posting(
        movement_id=event.disbursement_id,
        kind=MovementKind.PAYMENT_OUT,
        booked_on=event.booked_on,
        recorded_at=event.occurred_at,
        legs=event.legs,
        household_effects=_effects((c.household_id, -c.amount_fen) for c in event.charges),
        counterparty_id=event.payee.payee_id,
        counterparty_name=event.payee.name,
        reference=event.bank_reference,
        condition=event.condition,
        evidence=event.evidence,
        co_signatures=event.co_signatures,
    )
    return _book(_with(state, executed), posting)


def _released(
    state: AccountState, event: DisbursementVoided | DisbursementExpired, status: DisbursementStatus, reason: str
) -> AccountState:
    disbursement = _pending(state, event.disbursement_id)
    resolved = replace(
        disbursement,
        status=status,
        resolved_at=event.occurred_at,
        void_reason=reason if status is DisbursementStatus.VOIDED else None,
    )
    posting = Posting(
        movement_id=event.disbursement_id,
        kind=MovementKind.RELEASE,
        booked_on=event.booked_on,
        recorded_at=event.occurred_at,
        legs=event.legs,
        counterparty_id=disbursement.order.payee.payee_id,
        counterparty_name=disbursement.order.payee.name,
        memo=reason,
    )
    return _book(_with(state, resolved), posting)


def _notary_file(event: EscrowAccountOpened) -> NotaryFile:
    return NotaryFile(
        notary_reference=event.notary_reference,
        supervising_notary_id=event.supervising_notary_id,
        supervising_notary_name=event.supervising_notary_name,
        bank_account=event.bank_account,
        opened_at=event.occurred_at,
    )


def _evolve(state: AccountState, event: DomainEvent) -> AccountState:
    match event:
        case EscrowAccountOpened():
            return replace(state, lifecycle=AccountStatus.OPENED, notary=_notary_file(event))
        case EscrowAccountActivated():
            return replace(state, lifecycle=AccountStatus.ACTIVE)
        case EscrowAccountTermsChanged():
            return replace(state, terms=event.terms)
        case EscrowAccountFrozen():
            if event.hold_id in state.used_hold_ids:
                raise HistoryError(f"hold {event.hold_id} placed twice")
            hold = Hold(event.hold_id, event.reason, event.occurred_at)
            return replace(
                state, holds={**state.holds, event.hold_id: hold}, used_hold_ids=state.used_hold_ids | {event.hold_id}
            )
        case EscrowAccountUnfrozen():
            if event.hold_id not in state.holds:
                raise HistoryError(f"hold {event.hold_id} lifted but not in place")
            return replace(state, holds={k: v for k, v in state.holds.items() if k != event.hold_id})
        case EscrowAccountClosed():
            return replace(state, lifecycle=AccountStatus.CLOSED, closed_at=event.occurred_at)
        case EscrowAccountReopened():
            return replace(state, lifecycle=AccountStatus.ACTIVE, closed_at=None)
        case BooksClosed():
            return replace(state, books_closed_through=event.through)
        case PaymentReceived():
            return _payment_received(state, event)
        case FundsReallocated():
            return _funds_reallocated(state, event)
        case MovementReversed():
            return _movement_reversed(state, event)
        case DisbursementRequested():
            return _disbursement_requested(state, event)
        case DisbursementSigned():
            return _disbursement_signed(state, event)
        case DisbursementExecuted():
            return _disbursement_executed(state, event)
        case DisbursementVoided():
            return _released(state, event, DisbursementStatus.VOIDED, event.reason)
        case DisbursementExpired():
            return _released(state, event, DisbursementStatus.EXPIRED, "expired")
        case _:
            raise HistoryError(f"{type(event).__name__} is not an escrow account event")


def apply_account(state: AccountState | None, event: DomainEvent) -> AccountState:
    """The state after ``event``; ``state`` is ``None`` before the first (request) event."""
    if state is None:
        if not isinstance(event, EscrowAccountRequested):
            raise HistoryError(f"an account's history starts with EscrowAccountRequested, not {type(event).__name__}")
        return _requested(event)
    if isinstance(event, EscrowAccountRequested):
        raise HistoryError(f"account {state.account_id} was already requested")
    if not isinstance(event, AccountEvent) or event.account_id != state.account_id:
        raise HistoryError(f"event {type(event).__name__} does not belong to account {state.account_id}")
    evolved = _evolve(state, event)
    return replace(evolved, version=state.version + 1, updated_at=event.occurred_at)


def apply_account_events(state: AccountState | None, events: Iterable[DomainEvent]) -> AccountState | None:
    for event in events:
        state = apply_account(state, event)
    return state


def replay_account(events: Iterable[DomainEvent]) -> AccountState:
    """An account rebuilt from its whole history."""
    state = apply_account_events(None, events)
    if state is None:
        raise HistoryError("an account's history cannot be empty")
    return state
