"""Billing periods: calendar months written ``YYYY-MM``."""

import calendar
from datetime import date
from typing import Annotated, Final

from pydantic import StringConstraints

from billing_escrow.domain.errors import ValidationFailed

PERIOD_PATTERN: Final = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

Period = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]


def parse_period(value: object, field: str = "period") -> tuple[int, int]:
    """``"2025-03"`` → ``(2025, 3)``, or ``ValidationFailed``."""
    if not isinstance(value, str) or len(value) != 7 or value[4] != "-":
        raise ValidationFailed.single(field, "must be a month written YYYY-MM")
    year, month = value[:4], value[5:]
    if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12 and int(year) >= 1):
        raise ValidationFailed.single(field, "must be a month written YYYY-MM")
    return int(year), int(month)


def first_day(period: str) -> date:
    year, month = parse_period(period)
    return date(year, month, 1)


def last_day(period: str) -> date:
    year, month = parse_period(period)
    return date(year, month, calendar.monthrange(year, month)[1])


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
