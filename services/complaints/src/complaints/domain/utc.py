"""Instants: the domain only ever holds timezone-aware datetimes, normalised to UTC.

Time is always passed in (the domain never reads a clock), so a naive datetime coming in is a caller's bug that would
silently shift deadlines by the server's UTC offset (China is UTC+8): refuse it instead of guessing.
"""

from datetime import datetime

from complaints.domain.errors import ValidationFailed
from jinlin.events.time import UtcDatetime, to_utc


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


__all__ = ["UtcDatetime", "iso_utc", "require_utc", "to_utc"]
