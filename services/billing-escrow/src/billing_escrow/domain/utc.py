"""Instants and business dates.

The domain only ever holds timezone-aware datetimes, normalised to UTC; time is passed in, never read from a clock.
A naive datetime is refused rather than guessed at (China is UTC+8: a guess would shift booking dates by a day).

Booking dates are calendar dates in China Standard Time, the business day of the center and the banks. China has
observed no daylight saving time since 1991, so a fixed UTC+8 offset is exact and needs no time zone database.
"""

from datetime import date, datetime, timedelta, timezone
from typing import Final

from billing_escrow.domain.errors import ValidationFailed
from jinlin.events.time import UtcDatetime, to_utc

BUSINESS_TZ: Final = timezone(timedelta(hours=8), "CST")


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


__all__ = ["UtcDatetime", "business_date", "require_date", "require_utc", "to_utc"]
