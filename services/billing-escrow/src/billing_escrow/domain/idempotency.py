"""What makes two requests for a movement "the same": the content the caller chose, not when or how it was booked.

A movement id (and a payment's reference) is the caller's promise that a retry is the same request. A retry records
nothing; the same id with a different content is an ``IdempotencyConflict``. The fingerprint leaves out what the
domain derived (the legs, the pro-rata split) and when the command ran, so a retry next week is still the same.
"""

from billing_escrow.domain.account_events import (
    DisbursementRequested,
    FundsReallocated,
    MovementReversed,
    PaymentReceived,
)
from billing_escrow.domain.errors import HistoryError
from jinlin.events import DomainEvent

Fingerprint = tuple[object, ...]


def fingerprint(event: DomainEvent) -> Fingerprint:
    match event:
        case PaymentReceived():
            return ("payment_in", event.household_id, event.amount_fen, event.channel, event.reference, event.booked_on)
        case FundsReallocated():
            return (
                "reallocation",
                event.from_household_id,
                event.to_household_id,
                event.amount_fen,
                event.reason,
                event.booked_on,
            )
        case MovementReversed():
            return ("reversal", event.reverses, event.reason, event.booked_on)
        case DisbursementRequested():
            return ("disbursement", event.order)
        case _:
            raise HistoryError(f"{type(event).__name__} is not a movement with a caller's id")
