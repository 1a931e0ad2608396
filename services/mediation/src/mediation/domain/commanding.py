"""What every case command shares: building events from checked input, and the gate before a command runs.

A command never changes anything itself: it returns new events (to append to the case's stream, then fold with
``state.apply``) or raises a ``DomainError``, in which case nothing is recorded. ``at`` is the instant the command
happens; it must be timezone-aware and not before the case's last event.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationError

from mediation.domain.agreements import Agreement
from mediation.domain.errors import InvalidTransition, NotAParty, Problem, UnknownItem, ValidationFailed
from mediation.domain.events import CaseEvent
from mediation.domain.meetings import Meeting
from mediation.domain.obligations import Obligation
from mediation.domain.state import CaseState, PartyRecord
from mediation.domain.utc import require_utc

E = TypeVar("E", bound=CaseEvent)
Enum = TypeVar("Enum", bound=StrEnum)


def problems_of(error: ValidationError) -> list[Problem]:
    # Built from location and message only: pydantic's own text would quote the input, which may be personal data.
    return [
        Problem(".".join(str(part) for part in detail["loc"]) or "event", detail["msg"])
        for detail in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def build(event_type: type[E], fields: Mapping[str, Any], problems: Iterable[Problem] = ()) -> E:
    """The event, or ``ValidationFailed`` with every problem: those found by the command and those of the fields."""
    found = list(problems)
    try:
        event = event_type.model_validate(fields)
    except ValidationError as error:
        found.extend(problems_of(error))
    if found:
        raise ValidationFailed(found)
    return event


def new_event(event_type: type[E], state: CaseState, at: datetime, **fields: Any) -> E:
    return build(event_type, {"case_id": state.case_id, "occurred_at": at, **fields})


def coerce(enum: type[Enum], value: object, field: str) -> Enum:
    if isinstance(value, str) and value in enum.__members__.values():
        return enum(value)
    raise ValidationFailed.single(field, f"must be one of {', '.join(member.value for member in enum)}")


def begin(state: CaseState, command: str, allowed: Iterable[StrEnum], at: datetime) -> datetime:
    """The common gate of every command on an existing case: allowed in this status, and ``at`` in order."""
    if state.status not in frozenset(allowed):
        raise InvalidTransition(command, state.status)
    at = require_utc(at)
    if at < state.updated_at:
        raise ValidationFailed.single("at", "is before the case's last recorded event")
    return at


def require_party(state: CaseState, command: str, party_id: str) -> PartyRecord:
    record = state.party(party_id)
    if record is None:
        raise NotAParty(command, state.status, party_id)
    return record


def require_meeting(state: CaseState, meeting_id: str) -> Meeting:
    meeting = state.meetings.get(meeting_id)
    if meeting is None:
        raise UnknownItem("meeting", meeting_id)
    return meeting


def require_agreement(state: CaseState, command: str) -> Agreement:
    if state.agreement is None:
        raise InvalidTransition(command, state.status, "no agreement is drafted")
    return state.agreement


def require_obligation(state: CaseState, term_id: str) -> Obligation:
    obligation = state.obligations.get(term_id)
    if obligation is None:
        raise UnknownItem("obligation", term_id)
    return obligation
