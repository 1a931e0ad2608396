"""What every command does the same way: build an event from its fields, reporting bad input as ``ValidationFailed``."""

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from billing_escrow.domain.errors import Problem, ValidationFailed
from billing_escrow.domain.utc import require_utc

M = TypeVar("M", bound=BaseModel)
Enum = TypeVar("Enum", bound=StrEnum)


def problems_of(error: ValidationError) -> list[Problem]:
    # Built from location and message only: pydantic's own text would quote the input.
    return [
        Problem(".".join(str(part) for part in detail["loc"]) or "event", detail["msg"])
        for detail in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def build(model: type[M], fields: Mapping[str, Any]) -> M:
    """The event (or value) with these fields, or ``ValidationFailed`` listing every problem."""
    try:
        return model.model_validate(dict(fields))
    except ValidationError as error:
        raise ValidationFailed(problems_of(error)) from None


def coerce(enum: type[Enum], value: object, field: str) -> Enum:
    if isinstance(value, str) and value in enum.__members__.values():
        return enum(value)
    raise ValidationFailed.single(field, f"must be one of {', '.join(member.value for member in enum)}")


def in_order(at: datetime, updated_at: datetime, what: str) -> datetime:
    """``at`` in UTC, refused if before the aggregate's last event (history is recorded in order)."""
    at = require_utc(at)
    if at < updated_at:
        raise ValidationFailed.single("at", f"is before the {what}'s last recorded event")
    return at
