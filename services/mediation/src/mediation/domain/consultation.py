"""Consultation meetings (近邻茶话会): scheduled, parties invited, RSVPs, attendance, minutes; or cancelled.

Meetings are held only for accepted cases, while mediating and, to chase the carrying out of an agreement, while it
is in effect. A meeting is open to changes of plan (reschedule, cancel, invitations, RSVPs) until it starts or
someone's attendance is recorded; from its start, attendance and minutes can be recorded; the minutes make it held.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from mediation.domain.commanding import begin, coerce, new_event, require_meeting, require_party
from mediation.domain.errors import InvalidTransition, ValidationFailed
from mediation.domain.events import (
    AttendanceRecorded,
    CaseEvent,
    MeetingCancelled,
    MeetingRescheduled,
    MeetingScheduled,
    MinutesRecorded,
    PartiesInvited,
    RsvpRecorded,
)
from mediation.domain.meetings import Meeting, MeetingStatus, Rsvp
from mediation.domain.state import CaseState
from mediation.domain.status import CaseStatus
from mediation.domain.utc import require_utc

MEETINGS_IN: Final = frozenset({CaseStatus.ACCEPTED, CaseStatus.AGREEMENT_IN_EFFECT})


def _scheduled(state: CaseState, command: str, meeting_id: str) -> Meeting:
    meeting = require_meeting(state, meeting_id)
    if meeting.status is not MeetingStatus.SCHEDULED:
        raise InvalidTransition(command, state.status, f"meeting {meeting_id} is {meeting.status}")
    return meeting


def _still_planned(state: CaseState, command: str, meeting_id: str) -> Meeting:
    """A scheduled meeting nobody has been recorded at yet: its plan can still change."""
    meeting = _scheduled(state, command, meeting_id)
    if meeting.attendance:
        raise InvalidTransition(command, state.status, f"meeting {meeting_id} took place; record its minutes")
    return meeting


def _started(state: CaseState, command: str, meeting: Meeting, at: datetime) -> None:
    if not meeting.has_started(at):
        raise InvalidTransition(command, state.status, f"meeting {meeting.meeting_id} has not started")


def schedule_meeting(
    state: CaseState, *, place: str, starts_at: datetime, ends_at: datetime, agenda: Sequence[str], at: datetime
) -> list[CaseEvent]:
    """A new meeting under the next free id (``state.next_meeting_id``)."""
    at = begin(state, "schedule a meeting for", MEETINGS_IN, at)
    return [
        new_event(
            MeetingScheduled,
            state,
            at,
            meeting_id=state.next_meeting_id,
            place=place,
            starts_at=require_utc(starts_at, "starts_at"),
            ends_at=require_utc(ends_at, "ends_at"),
            agenda=tuple(agenda),
        )
    ]


def reschedule_meeting(
    state: CaseState,
    *,
    meeting_id: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    at: datetime,
    place: str | None = None,
) -> list[CaseEvent]:
    """A new time (and place, if given). The RSVPs given for the old time are cleared; invitations stand."""
    at = begin(state, "reschedule a meeting of", MEETINGS_IN, at)
    meeting = _still_planned(state, "reschedule a meeting of", meeting_id)
    return [
        new_event(
            MeetingRescheduled,
            state,
            at,
            meeting_id=meeting_id,
            place=place if place is not None else meeting.place,
            starts_at=require_utc(starts_at, "starts_at"),
            ends_at=require_utc(ends_at, "ends_at"),
            reason=reason,
        )
    ]


def cancel_meeting(state: CaseState, *, meeting_id: str, reason: str, at: datetime) -> list[CaseEvent]:
    at = begin(state, "cancel a meeting of", MEETINGS_IN, at)
    _still_planned(state, "cancel a meeting of", meeting_id)
    return [new_event(MeetingCancelled, state, at, meeting_id=meeting_id, reason=reason)]


def invite_parties(state: CaseState, *, meeting_id: str, party_ids: Sequence[str], at: datetime) -> list[CaseEvent]:
    at = begin(state, "invite parties to a meeting of", MEETINGS_IN, at)
    meeting = _still_planned(state, "invite parties to a meeting of", meeting_id)
    for party_id in party_ids:
        require_party(state, "invite parties to a meeting of", party_id)
        if party_id in meeting.invited:
            raise InvalidTransition(
                "invite parties to a meeting of", state.status, f"{party_id} is already invited to {meeting_id}"
            )
    return [new_event(PartiesInvited, state, at, meeting_id=meeting_id, party_ids=tuple(party_ids))]


def record_rsvp(state: CaseState, *, meeting_id: str, party_id: str, rsvp: Rsvp, at: datetime) -> list[CaseEvent]:
    """An invited party's answer (yes / no / maybe), before the meeting starts; a later answer replaces it."""
    at = begin(state, "record an RSVP for a meeting of", MEETINGS_IN, at)
    meeting = _still_planned(state, "record an RSVP for a meeting of", meeting_id)
    require_party(state, "record an RSVP for a meeting of", party_id)
    if party_id not in meeting.invited:
        raise InvalidTransition(
            "record an RSVP for a meeting of", state.status, f"{party_id} is not invited to {meeting_id}"
        )
    if meeting.has_started(at):
        raise InvalidTransition(
            "record an RSVP for a meeting of", state.status, f"meeting {meeting_id} has started; record attendance"
        )
    rsvp = coerce(Rsvp, rsvp, "rsvp")
    return [new_event(RsvpRecorded, state, at, meeting_id=meeting_id, party_id=party_id, rsvp=rsvp)]


def record_attendance(
    state: CaseState, *, meeting_id: str, party_id: str, attended: bool, at: datetime
) -> list[CaseEvent]:
    """Whether a party came (invited or not: a party may turn up uninvited); from the meeting's start."""
    at = begin(state, "record attendance at a meeting of", MEETINGS_IN, at)
    meeting = require_meeting(state, meeting_id)
    if meeting.status is MeetingStatus.CANCELLED:
        raise InvalidTransition("record attendance at a meeting of", state.status, f"meeting {meeting_id} is cancelled")
    require_party(state, "record attendance at a meeting of", party_id)
    _started(state, "record attendance at a meeting of", meeting, at)
    if not isinstance(attended, bool):
        raise ValidationFailed.single("attended", "must be true or false")
    return [new_event(AttendanceRecorded, state, at, meeting_id=meeting_id, party_id=party_id, attended=attended)]


def record_minutes(state: CaseState, *, meeting_id: str, minutes: str, at: datetime) -> list[CaseEvent]:
    """The meeting's minutes, from its start; once recorded the meeting is held."""
    at = begin(state, "record minutes of a meeting of", MEETINGS_IN, at)
    meeting = _scheduled(state, "record minutes of a meeting of", meeting_id)
    _started(state, "record minutes of a meeting of", meeting, at)
    return [new_event(MinutesRecorded, state, at, meeting_id=meeting_id, minutes=minutes)]
