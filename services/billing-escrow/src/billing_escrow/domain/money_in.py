"""Money in, and the corrections of what the desk booked: payments, reallocations between households, reversals.

Every command takes the caller's ``movement_id``. Recording the same movement again (a retry) returns no events; the
same id with a different content raises ``IdempotencyConflict``. A payment is also idempotent by its ``reference``
(the bank's or the payment provider's): the same payment reported twice, under whatever movement id, is one payment.

Payments in are accepted while the account is active or frozen (a hold stops money going out, not coming in).
"""

from datetime import date, datetime
from typing import Final

from billing_escrow.domain.account_events import AccountEvent, FundsReallocated, MovementReversed, PaymentReceived
from billing_escrow.domain.account_lifecycle import begin
from billing_escrow.domain.account_state import AccountState, AccountStatus
from billing_escrow.domain.balances import check_covered
from billing_escrow.domain.booking import check_booking_date
from billing_escrow.domain.commanding import build, in_order
from billing_escrow.domain.errors import IdempotencyConflict, InvalidTransition, NotFound, ValidationFailed
from billing_escrow.domain.idempotency import fingerprint
from billing_escrow.domain.identifiers import require_identifier
from billing_escrow.domain.ledger import ESCROW_BANK, Posting, household_account, mirror, transfer
from billing_escrow.domain.money import require_amount

MONEY_IN_FROM: Final = frozenset({AccountStatus.ACTIVE, AccountStatus.FROZEN})
CORRECT_FROM: Final = frozenset({AccountStatus.ACTIVE, AccountStatus.FROZEN})


def _already_recorded(state: AccountState, movement_id: str, candidate: AccountEvent) -> bool:
    """``True`` if this exact movement was recorded before; ``IdempotencyConflict`` if its id was used otherwise."""
    recorded = state.movements.get(movement_id)
    if recorded is None:
        return False
    if recorded != fingerprint(candidate):
        raise IdempotencyConflict("movement", movement_id)
    return True


def _posting_of(event: PaymentReceived | FundsReallocated | MovementReversed, kind: str) -> Posting:
    """The bare posting of a new movement, for checking that the books cover it."""
    return Posting.model_validate(
        {
            "movement_id": event.movement_id,
            "kind": kind,
            "booked_on": event.booked_on,
            "recorded_at": event.occurred_at,
            "legs": event.legs,
        }
    )


def record_payment(
    state: AccountState,
    *,
    movement_id: str,
    household_id: str,
    amount_fen: int,
    channel: str,
    reference: str,
    booked_on: date,
    at: datetime,
) -> list[AccountEvent]:
    """Money arrived for a household: Dr ``escrow_bank``, Cr ``household:<id>``, on the bank's booking date."""
    at = in_order(at, state.updated_at, "account")
    amount_fen = require_amount(amount_fen)
    household_id = require_identifier(household_id, "household_id")
    payment = build(
        PaymentReceived,
        {
            "account_id": state.account_id,
            "occurred_at": at,
            "movement_id": movement_id,
            "household_id": household_id,
            "amount_fen": amount_fen,
            "channel": channel,
            "reference": reference,
            "booked_on": booked_on,
            "legs": transfer(ESCROW_BANK, household_account(household_id), amount_fen),
        },
    )
    if _already_recorded(state, payment.movement_id, payment):
        return []
    earlier_id = state.payment_references.get(payment.reference)
    if earlier_id is not None:
        # The fingerprint includes the reference but not the movement id: equal means the same payment.
        if state.movements[earlier_id] == fingerprint(payment):
            return []
        raise IdempotencyConflict("payment reference", payment.reference, "was already recorded for another payment")
    begin(state, "record a payment", MONEY_IN_FROM, at)
    check_booking_date(state, payment.booked_on, at)
    return [payment]


def reallocate_funds(
    state: AccountState,
    *,
    movement_id: str,
    from_household_id: str,
    to_household_id: str,
    amount_fen: int,
    reason: str,
    booked_on: date,
    at: datetime,
) -> list[AccountEvent]:
    """Move money held for one household to another: Dr ``household:<from>``, Cr ``household:<to>``."""
    at = in_order(at, state.updated_at, "account")
    amount_fen = require_amount(amount_fen)
    from_household_id = require_identifier(from_household_id, "from_household_id")
    to_household_id = require_identifier(to_household_id, "to_household_id")
    if from_household_id == to_household_id:
        raise ValidationFailed.single("to_household_id", "must differ from from_household_id")
    legs = transfer(household_account(from_household_id), household_account(to_household_id), amount_fen)
    event = build(
        FundsReallocated,
        {
            "account_id": state.account_id,
            "occurred_at": at,
            "movement_id": movement_id,
            "from_household_id": from_household_id,
            "to_household_id": to_household_id,
            "amount_fen": amount_fen,
            "reason": reason,
            "booked_on": booked_on,
            "legs": legs,
        },
    )
    if _already_recorded(state, event.movement_id, event):
        return []
    begin(state, "reallocate funds", CORRECT_FROM, at)
    check_booking_date(state, event.booked_on, at)
    check_covered(state.postings, _posting_of(event, "reallocation"))
    return [event]


def reverse_movement(
    state: AccountState,
    *,
    movement_id: str,
    reverses: str,
    reason: str,
    booked_on: date,
    at: datetime,
) -> list[AccountEvent]:
    """Undo a payment in, a reallocation or a reversal by its mirror entry, booked as a new movement.

    A movement is reversed at most once, and only while the money it brought is still free: a reversal can't take
    out more than is held (``InsufficientFunds``). Payments out are undone by their own lifecycle, not reversed.
    """
    at = in_order(at, state.updated_at, "account")
    original = state.posting(require_identifier(reverses, "reverses"))
    if original is None:
        # Postings never disappear, so a recorded reversal always names a known movement: a retry can't get here.
        if movement_id in state.movements:
            raise IdempotencyConflict("movement", movement_id)
        raise NotFound("reversible movement", reverses)
    event = build(
        MovementReversed,
        {
            "account_id": state.account_id,
            "occurred_at": at,
            "movement_id": movement_id,
            "reverses": reverses,
            "reason": reason,
            "booked_on": booked_on,
            "legs": mirror(original.legs),
        },
    )
    if _already_recorded(state, event.movement_id, event):
        return []
    begin(state, "reverse a movement", CORRECT_FROM, at)
    if reverses in state.reversed_by:
        reason_ = f"it was already reversed by {state.reversed_by[reverses]}"
        raise InvalidTransition("reverse a movement", f"the account is {state.status}", reason_)
    check_booking_date(state, event.booked_on, at)
    if event.booked_on < original.booked_on:
        raise ValidationFailed.single("booked_on", "is before the movement it reverses")
    check_covered(state.postings, _posting_of(event, "reversal"))
    return [event]
