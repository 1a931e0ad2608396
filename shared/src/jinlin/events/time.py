"""Instants in events: timezone-aware on input, normalised to UTC. Shared by every service's domain."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # Near year 1 or 9999 the shift to UTC leaves the calendar: bad input (a 422), not a server error.
        raise ValueError("is outside the supported range of dates") from None


# The type of every datetime field of an event: aware on input, UTC once validated (serialised with "Z").
UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
