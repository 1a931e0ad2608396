"""Payments out: two-phase and co-signed.

1. ``request_disbursement`` reserves the amount at once against what is *available* (held − reserved), charged to
   households' free money (Dr ``household:<h>``, Cr ``reserved:<h>``). Two requests racing for the same money: the
   one recorded second finds it reserved and fails cleanly with ``InsufficientFunds``.
2. ``sign_disbursement``: each role the account's terms required at the time of the request signs once. Four-eyes:
   the requester may not co-sign, and one person signs in one role only (``FourEyesViolation``).
3. ``execute_disbursement`` posts the payment (Dr ``reserved:<h>``, Cr ``escrow_bank``) once every role has signed;
   or ``void_disbursement`` / ``expire_disbursement`` release the reservation (Dr ``reserved:<h>``,
   Cr ``household:<h>``). A pending reservation is resolved exactly once: executed, voided or expired.

A frozen account (any hold in place) accepts no request and no execution; signing, voiding and expiry go on, since
they pay nothing out. Retrying a step that already happened the same way records nothing.

How a payment out is charged to households: as the requester says (``charges``), or else pro rata to what each
household has free, by the largest-remainder rule, so that the charges add up to the amount exactly and no household
pays more than it has.
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Final

from billing_escrow.domain.account_events import (
    AccountEvent,
    Charge,
    DisbursementExecuted,
    DisbursementExpired,
    DisbursementOrder,
    DisbursementRequested,
    DisbursementSigned,
    DisbursementVoided,
)
from billing_escrow.domain.account_lifecycle import begin
from billing_escrow.domain.account_state import AccountState, AccountStatus
from billing_escrow.domain.apportion import apportion
from billing_escrow.domain.balances import check_covered
from billing_escrow.domain.booking import check_booking_date
from billing_escrow.domain.commanding import build, in_order
from billing_escrow.domain.disbursement import Disbursement, DisbursementStatus
from billing_escrow.domain.errors import (
    FourEyesViolation,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from billing_escrow.domain.identifiers import require_identifier
from billing_escrow.domain.ledger import (
    ESCROW_BANK,
    Leg,
    MovementKind,
    Posting,
    Side,
    household_account,
    reserved_account,
)
from billing_escrow.domain.money import require_amount
from billing_escrow.domain.parties import Condition, Payee, Signer
from billing_escrow.domain.texts import same_text
from billing_escrow.domain.utc import business_date, require_utc

REQUEST_FROM: Final = frozenset({AccountStatus.ACTIVE})
SIGN_FROM: Final = frozenset({AccountStatus.ACTIVE, AccountStatus.FROZEN})
EXECUTE_FROM: Final = frozenset({AccountStatus.ACTIVE})
RELEASE_FROM: Final = frozenset({AccountStatus.ACTIVE, AccountStatus.FROZEN})


def pro_rata_charges(free_by_household: Mapping[str, int], amount_fen: int) -> dict[str, int]:
    """``amount_fen`` split over the households in proportion to their free money (largest remainder).

    No household is charged more than it has free, as long as the amount does not exceed the total: each charge is
    its exact quota rounded down or up, and the quota is at most the household's free money.
    """
    weights = {h: free for h, free in free_by_household.items() if free > 0}
    if amount_fen > sum(weights.values()):
        raise InsufficientFunds("available", needed=amount_fen, available=sum(weights.values()))
    return {h: part for h, part in apportion(amount_fen, weights).items() if part > 0}


def _charges(state: AccountState, amount_fen: int, requested: Mapping[str, int] | None) -> tuple[Charge, ...]:
    if requested is None:
        split = pro_rata_charges({h: state.balances.household_free(h) for h in state.balances.households}, amount_fen)
    else:
        split = dict(requested)
        if sum(split.values()) != amount_fen:
            raise ValidationFailed.single("charges", "must add up to the amount")
    return tuple(Charge(household_id=h, amount_fen=split[h]) for h in sorted(split))


def _requested_charges(charges: Mapping[str, int] | None) -> tuple[Charge, ...] | None:
    if charges is None:
        return None
    if not isinstance(charges, Mapping) or not charges:
        raise ValidationFailed.single("charges", "must name at least one household")
    for household_id, amount in charges.items():
        require_identifier(household_id, f"charges.{household_id}")
        require_amount(amount, f"charges.{household_id}")
    return tuple(build(Charge, {"household_id": h, "amount_fen": charges[h]}) for h in sorted(charges))


def _legs(charges: Sequence[Charge], debit: str, credit: str) -> tuple[Leg, ...]:
    """Per household, Dr ``<debit>:<h>`` and Cr ``<credit>:<h>`` (or Cr ``escrow_bank`` once for the total)."""
    accounts = {"household": household_account, "reserved": reserved_account}
    legs = [Leg(account=accounts[debit](c.household_id), side=Side.DEBIT, amount_fen=c.amount_fen) for c in charges]
    if credit == ESCROW_BANK:
        total = sum(c.amount_fen for c in charges)
        return (*legs, Leg(account=ESCROW_BANK, side=Side.CREDIT, amount_fen=total))
    return (
        *legs,
        *(Leg(account=accounts[credit](c.household_id), side=Side.CREDIT, amount_fen=c.amount_fen) for c in charges),
    )


def _covered(
    state: AccountState, disbursement_id: str, kind: MovementKind, booked_on: date, at: datetime, legs: tuple[Leg, ...]
) -> None:
    posting = Posting(movement_id=disbursement_id, kind=kind, booked_on=booked_on, recorded_at=at, legs=legs)
    check_covered(state.postings, posting)


def _event(event_type: type[AccountEvent], state: AccountState, at: datetime, **fields: object) -> AccountEvent:
    return build(event_type, {"account_id": state.account_id, "occurred_at": at, **fields})


def _disbursement(state: AccountState, disbursement_id: str) -> Disbursement:
    disbursement = state.disbursements.get(disbursement_id)
    if disbursement is None:
        raise NotFound("disbursement", disbursement_id)
    return disbursement


def _refuse(command: str, disbursement: Disbursement, reason: str = "") -> InvalidTransition:
    return InvalidTransition(command, f"the disbursement is {disbursement.status}", reason)


# --- 1. request ----------------------------------------------------------------------------------------------------


def request_disbursement(
    state: AccountState,
    *,
    disbursement_id: str,
    payee: Payee,
    amount_fen: int,
    condition: Condition,
    evidence: Sequence[str],
    expires_at: datetime,
    requested_by: str,
    at: datetime,
    charges: Mapping[str, int] | None = None,
) -> list[AccountEvent]:
    """Request a payment out and reserve its money now. ``disbursement_id`` is also its movement id."""
    at = in_order(at, state.updated_at, "account")
    amount_fen = require_amount(amount_fen)
    expires_at = require_utc(expires_at, "expires_at")
    order = build(
        DisbursementOrder,
        {
            "payee": payee,
            "amount_fen": amount_fen,
            "condition": condition,
            "evidence": tuple(evidence) if not isinstance(evidence, str) else evidence,
            "expires_at": expires_at,
            "requested_by": requested_by,
            "requested_charges": _requested_charges(charges),
        },
    )
    disbursement_id = require_identifier(disbursement_id, "disbursement_id")
    recorded = state.movements.get(disbursement_id)
    if recorded is not None:
        if recorded == ("disbursement", order):
            return []
        raise IdempotencyConflict("disbursement", disbursement_id)
    begin(state, "request a disbursement", REQUEST_FROM, at)
    if expires_at <= at:
        raise ValidationFailed.single("expires_at", "must be later than the request")
    booked_on = check_booking_date(state, business_date(at), at)
    if amount_fen > state.available:
        raise InsufficientFunds("available", needed=amount_fen, available=state.available)
    applied = _charges(state, amount_fen, charges)
    legs = _legs(applied, "household", "reserved")
    _covered(state, disbursement_id, MovementKind.RESERVATION, booked_on, at, legs)
    return [
        _event(
            DisbursementRequested,
            state,
            at,
            disbursement_id=disbursement_id,
            order=order,
            charges=applied,
            required_roles=state.terms.required_roles,
            booked_on=booked_on,
            legs=legs,
        )
    ]


# --- 2. co-sign ----------------------------------------------------------------------------------------------------


def sign_disbursement(state: AccountState, *, disbursement_id: str, signer: Signer, at: datetime) -> list[AccountEvent]:
    command = "sign the disbursement"
    at = in_order(at, state.updated_at, "account")
    disbursement = _disbursement(state, disbursement_id)
    earlier = disbursement.signature_for(signer.role)
    if earlier is not None:
        if earlier.signer_id == signer.signer_id:
            return []  # the same signature again
        raise _refuse(command, disbursement, f"it was already signed as {signer.role}")
    if not disbursement.is_pending:
        raise _refuse(command, disbursement)
    begin(state, command, SIGN_FROM, at)
    if signer.role not in disbursement.required_roles:
        raise _refuse(command, disbursement, f"its terms do not ask for a signature as {signer.role}")
    if signer.signer_id == disbursement.order.requested_by:
        raise FourEyesViolation("the person who requested a disbursement may not co-sign it")
    if any(s.signer_id == signer.signer_id for s in disbursement.signatures):
        raise FourEyesViolation("one person may co-sign a disbursement in one role only")
    if disbursement.expired_by(at):
        raise _refuse(command, disbursement, "it has expired")
    return [
        _event(
            DisbursementSigned, state, at, disbursement_id=disbursement_id, role=signer.role, signer_id=signer.signer_id
        )
    ]


# --- 3. execute, void, expire --------------------------------------------------------------------------------------


def execute_disbursement(
    state: AccountState, *, disbursement_id: str, bank_reference: str, booked_on: date, at: datetime
) -> list[AccountEvent]:
    """Post the payment out, on the bank's booking date, once every required role has signed."""
    command = "execute the disbursement"
    at = in_order(at, state.updated_at, "account")
    disbursement = _disbursement(state, disbursement_id)
    if disbursement.status is DisbursementStatus.EXECUTED:
        recorded = disbursement.bank_reference or ""
        if same_text(recorded, bank_reference) and disbursement.executed_on == booked_on:
            return []
        raise IdempotencyConflict("disbursement", disbursement_id, "was already executed otherwise")
    if not disbursement.is_pending:
        raise _refuse(command, disbursement)
    begin(state, command, EXECUTE_FROM, at)
    if disbursement.missing_roles:
        missing = ", ".join(disbursement.missing_roles)
        raise _refuse(command, disbursement, f"it still needs the signature of {missing}")
    if disbursement.expired_by(at):
        raise _refuse(command, disbursement, "it has expired")
    booked_on = check_booking_date(state, booked_on, at)
    if booked_on < disbursement.reserved_on:
        raise ValidationFailed.single("booked_on", "is before the disbursement was requested")
    legs = _legs(disbursement.charges, "reserved", ESCROW_BANK)
    _covered(state, disbursement_id, MovementKind.PAYMENT_OUT, booked_on, at, legs)
    order = disbursement.order
    return [
        _event(
            DisbursementExecuted,
            state,
            at,
            disbursement_id=disbursement_id,
            compound_id=state.compound_id,
            purpose=state.purpose,
            payee=order.payee,
            amount_fen=order.amount_fen,
            condition=order.condition,
            evidence=order.evidence,
            co_signatures=disbursement.signatures,
            charges=disbursement.charges,
            bank_reference=bank_reference,
            booked_on=booked_on,
            legs=legs,
        )
    ]


def _release(state: AccountState, disbursement: Disbursement, at: datetime) -> tuple[date, tuple[Leg, ...]]:
    booked_on = check_booking_date(state, business_date(at), at)
    legs = _legs(disbursement.charges, "reserved", "household")
    _covered(state, disbursement.disbursement_id, MovementKind.RELEASE, booked_on, at, legs)
    return booked_on, legs


def void_disbursement(state: AccountState, *, disbursement_id: str, reason: str, at: datetime) -> list[AccountEvent]:
    command = "void the disbursement"
    at = in_order(at, state.updated_at, "account")
    disbursement = _disbursement(state, disbursement_id)
    if disbursement.status is DisbursementStatus.VOIDED:
        return []
    if not disbursement.is_pending:
        raise _refuse(command, disbursement)
    begin(state, command, RELEASE_FROM, at)
    booked_on, legs = _release(state, disbursement, at)
    return [
        _event(
            DisbursementVoided,
            state,
            at,
            disbursement_id=disbursement_id,
            reason=reason,
            booked_on=booked_on,
            legs=legs,
        )
    ]


def expire_disbursement(state: AccountState, *, disbursement_id: str, at: datetime) -> list[AccountEvent]:
    """What the expiry watcher records once a pending request's ``expires_at`` has passed."""
    command = "expire the disbursement"
    at = in_order(at, state.updated_at, "account")
    disbursement = _disbursement(state, disbursement_id)
    if disbursement.status is DisbursementStatus.EXPIRED:
        return []
    if not disbursement.is_pending:
        raise _refuse(command, disbursement)
    begin(state, command, RELEASE_FROM, at)
    if not disbursement.expired_by(at):
        raise _refuse(command, disbursement, "it has not expired yet")
    booked_on, legs = _release(state, disbursement, at)
    return [
        _event(
            DisbursementExpired,
            state,
            at,
            disbursement_id=disbursement_id,
            expires_at=disbursement.expires_at,
            booked_on=booked_on,
            legs=legs,
        )
    ]


def disbursements_due_for_expiry(state: AccountState, at: datetime) -> tuple[str, ...]:
    """The pending requests the watcher should expire at ``at``."""
    at = require_utc(at)
    return tuple(d.disbursement_id for d in state.pending_disbursements if d.expired_by(at))
