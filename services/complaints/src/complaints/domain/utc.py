"""Instants: the domain only ever holds timezone-aware datetimes, normalised to UTC.

Time is always passed in (the domain never reads a clock), so a naive datetime coming in is a caller's bug that would
silently shift deadlines by the server's UTC offset (China is UTC+8): refuse it instead of guessing.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from complaints.domain.errors import ValidationFailed


def to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # Near year 1 or 9999 the shift to UTC leaves the calendar: bad input (a 422), not a server error.
        raise ValueError("is outside the supported range of dates") from None


# The type of every datetime field of an event: aware on input, UTC once validated (serialised with "Z").
UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]


def require_utc(value: datetime, field: str = "at") -> datetime:
    """The UTC form of a datetime handed to a command, or ``ValidationFailed`` if it has no timezone."""
    if not isinstance(value, datetime):
        raise ValidationFailed.single(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed.single(field, "must be timezone-aware")
    return to_utc(value)


def iso_utc(value: datetime) -> str:
    """RFC 3339 in UTC with a "Z", the one textual form datetimes take inside the domain."""
    return to_utc(value).isoformat().replace("+00:00", "Z")
