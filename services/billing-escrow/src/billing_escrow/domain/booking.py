"""When a movement may be booked: after the account was opened, after the closed books, and not in the future."""

from datetime import date, datetime

from billing_escrow.domain.account_state import AccountState
from billing_escrow.domain.errors import ValidationFailed
from billing_escrow.domain.utc import business_date, require_date


def check_booking_date(state: AccountState, booked_on: date, at: datetime, field: str = "booked_on") -> date:
    booked_on = require_date(booked_on, field)
    if booked_on > business_date(at):
        raise ValidationFailed.single(field, "is in the future")
    if state.notary is not None and booked_on < state.notary.opened_on:
        raise ValidationFailed.single(field, "is before the account was opened")
    if state.books_closed_through is not None and booked_on <= state.books_closed_through:
        # A closed period has been (or is being) stated to the notary: a late correction is booked now, not then.
        raise ValidationFailed.single(field, "falls in a period whose books are closed")
    return booked_on
