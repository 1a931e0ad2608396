"""The escrow account's lifecycle commands: requested → opened → active ⇄ frozen → closed (→ reopened).

Each command checks the rules against the current state and returns the events to record, or raises a
``DomainError`` and records nothing. ``at`` is when it happens: timezone-aware, not before the last event.

====================  ================================================================================
status                lifecycle commands
====================  ================================================================================
requested             open_account, close_account
opened                activate_account, change_terms, close_account, close_books
active                change_terms, freeze_account, close_account, close_books
frozen                change_terms, freeze_account (another hold), unfreeze_account, close_books
closed                reopen_account (the notary), close_books
====================  ================================================================================

An account closes only when it holds nothing, has no payment out pending and no hold in place: closing is how the
supervision of the money ends, so there must be no money left to supervise.
"""

from datetime import date, datetime
from typing import Final

from billing_escrow.domain.account_events import (
    AccountEvent,
    BooksClosed,
    EscrowAccountActivated,
    EscrowAccountClosed,
    EscrowAccountFrozen,
    EscrowAccountOpened,
    EscrowAccountReopened,
    EscrowAccountRequested,
    EscrowAccountTermsChanged,
    EscrowAccountUnfrozen,
)
from billing_escrow.domain.account_state import AccountState, AccountStatus
from billing_escrow.domain.commanding import build, in_order
from billing_escrow.domain.errors import IdempotencyConflict, InvalidTransition, ValidationFailed
from billing_escrow.domain.parties import BankAccountDetails, Signer, SignerRole
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.terms import AccountTerms
from billing_escrow.domain.texts import same_text
from billing_escrow.domain.utc import business_date, require_date, require_utc

S = AccountStatus
OPEN_FROM: Final = frozenset({S.REQUESTED})
ACTIVATE_FROM: Final = frozenset({S.OPENED})
TERMS_FROM: Final = frozenset({S.OPENED, S.ACTIVE, S.FROZEN})
FREEZE_FROM: Final = frozenset({S.ACTIVE, S.FROZEN})
UNFREEZE_FROM: Final = frozenset({S.FROZEN})
CLOSE_FROM: Final = frozenset({S.REQUESTED, S.OPENED, S.ACTIVE})
REOPEN_FROM: Final = frozenset({S.CLOSED})
CLOSE_BOOKS_FROM: Final = frozenset({S.OPENED, S.ACTIVE, S.FROZEN, S.CLOSED})


def begin(state: AccountState, command: str, allowed: frozenset[AccountStatus], at: datetime) -> datetime:
    """The common gate of every command on an existing account: allowed in this status, and ``at`` in order."""
    at = in_order(at, state.updated_at, "account")
    if state.status not in allowed:
        raise InvalidTransition(command, f"the account is {state.status}")
    return at


def _event(event_type: type[AccountEvent], state: AccountState, at: datetime, **fields: object) -> AccountEvent:
    return build(event_type, {"account_id": state.account_id, "occurred_at": at, **fields})


def request_account(
    *,
    account_id: str,
    compound_id: str,
    purpose: Purpose,
    at: datetime,
    terms: AccountTerms | None = None,
) -> list[AccountEvent]:
    """Ask the notary office for an escrow account. Without ``terms``: the center's finance desk and the notary sign."""
    at = require_utc(at)
    fields = {
        "account_id": account_id,
        "occurred_at": at,
        "compound_id": compound_id,
        "purpose": purpose,
        "terms": terms if terms is not None else AccountTerms.standard(),
    }
    return [build(EscrowAccountRequested, fields)]


def open_account(
    state: AccountState,
    *,
    notary_reference: str,
    supervising_notary_id: str,
    supervising_notary_name: str,
    bank_account: BankAccountDetails,
    at: datetime,
) -> list[AccountEvent]:
    at = begin(state, "open the account", OPEN_FROM, at)
    return [
        _event(
            EscrowAccountOpened,
            state,
            at,
            notary_reference=notary_reference,
            supervising_notary_id=supervising_notary_id,
            supervising_notary_name=supervising_notary_name,
            bank_account=bank_account,
        )
    ]


def activate_account(state: AccountState, *, at: datetime) -> list[AccountEvent]:
    at = begin(state, "activate the account", ACTIVATE_FROM, at)
    return [_event(EscrowAccountActivated, state, at)]


def change_terms(state: AccountState, *, terms: AccountTerms, reason: str, at: datetime) -> list[AccountEvent]:
    at = begin(state, "change the account's terms", TERMS_FROM, at)
    if terms == state.terms:
        raise InvalidTransition("change the account's terms", f"the account is {state.status}", "they are the same")
    return [_event(EscrowAccountTermsChanged, state, at, terms=terms, reason=reason)]


def freeze_account(state: AccountState, *, hold_id: str, reason: str, at: datetime) -> list[AccountEvent]:
    """Place a hold. Holds are independent (a court's and the notary's, say): each is lifted by its own id.

    Retrying with a hold id that is in place with the same reason records nothing.
    """
    at = require_utc(at)
    existing = state.holds.get(hold_id)
    if existing is not None:
        if same_text(existing.reason, reason):
            return []
        raise IdempotencyConflict("hold", hold_id)
    if hold_id in state.used_hold_ids:
        raise IdempotencyConflict("hold", hold_id, "was already placed and lifted; use a new hold id")
    at = begin(state, "freeze the account", FREEZE_FROM, at)
    return [_event(EscrowAccountFrozen, state, at, hold_id=hold_id, reason=reason)]


def unfreeze_account(state: AccountState, *, hold_id: str, at: datetime, reason: str = "") -> list[AccountEvent]:
    at = begin(state, "unfreeze the account", UNFREEZE_FROM, at)
    if hold_id not in state.holds:
        raise InvalidTransition("unfreeze the account", f"the account is {state.status}", "no such hold is in place")
    return [_event(EscrowAccountUnfrozen, state, at, hold_id=hold_id, reason=reason)]


def close_account(state: AccountState, *, reason: str, at: datetime) -> list[AccountEvent]:
    at = begin(state, "close the account", CLOSE_FROM, at)
    command, status = "close the account", f"the account is {state.status}"
    if state.held != 0:
        raise InvalidTransition(command, status, "it still holds money")
    if state.pending_disbursements:
        raise InvalidTransition(command, status, "a payment out is pending")
    return [_event(EscrowAccountClosed, state, at, reason=reason)]


def reopen_account(state: AccountState, *, reopened_by: Signer, reason: str, at: datetime) -> list[AccountEvent]:
    """Only the notary reopens a closed account: it was the notary's supervision that ended."""
    at = begin(state, "reopen the account", REOPEN_FROM, at)
    if reopened_by.role is not SignerRole.NOTARY:
        raise InvalidTransition("reopen the account", f"the account is {state.status}", "only the notary may")
    return [_event(EscrowAccountReopened, state, at, reopened_by=reopened_by, reason=reason)]


def close_books(state: AccountState, *, through: date, at: datetime) -> list[AccountEvent]:
    """Close the books through a date (the end of a statement period): nothing may be booked on or before it again.

    Only days already over in China can be closed. Closing through the date already closed records nothing.
    """
    at = begin(state, "close the books", CLOSE_BOOKS_FROM, at)
    through = require_date(through, "through")
    if state.books_closed_through is not None and through <= state.books_closed_through:
        if through == state.books_closed_through:
            return []
        raise ValidationFailed.single("through", "is before the date the books are already closed through")
    if through >= business_date(at):
        raise ValidationFailed.single("through", "must be a day that is already over")
    return [_event(BooksClosed, state, at, through=through)]
