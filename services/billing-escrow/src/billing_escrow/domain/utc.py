"""Instants and business dates.

The domain only ever holds timezone-aware datetimes, normalised to UTC; time is passed in, never read from a clock.
A naive datetime is refused rather than guessed at (China is UTC+8: a guess would shift booking dates by a day).

Booking dates are calendar dates in China Standard Time, the business day of the center and the banks. China has
observed no daylight saving time since 1991, so a fixed UTC+8 offset is exact and needs no time zone database.
"""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Final

from pydantic import AfterValidator, AwareDatetime

from billing_escrow.domain.errors import ValidationFailed

BUSINESS_TZ: Final = timezone(timedelta(hours=8), "CST")


def to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # Near year 1 or 9999 the shift to UTC leaves the calendar: bad input (a 422), not a server error.
        raise ValueError("is outside the supported range of dates") from None


# The type of every datetime field of an event: aware on input, UTC once validated.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]


def require_utc(value: datetime, field: str = "at") -> datetime:
    """The UTC form of a datetime handed to a command, or ``ValidationFailed`` if it has no timezone."""
    if not isinstance(value, datetime):
        raise ValidationFailed.single(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed.single(field, "must be timezone-aware")
    return to_utc(value)


def require_date(value: date, field: str) -> date:
    # A datetime is a date too in Python; taking its date part silently would drop the time zone question.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed.single(field, "must be a calendar date")
    return value


def business_date(at: datetime) -> date:
    """The calendar date in China of an instant: the booking date of what the center books itself."""
    return at.astimezone(BUSINESS_TZ).date()
