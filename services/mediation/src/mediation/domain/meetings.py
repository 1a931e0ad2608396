"""Consultation meetings (the "neighbourhood tea party", 近邻茶话会): invited parties, RSVPs, who came, minutes.

A case may hold several. What the parties said they would do (RSVP) and what they did (attendance) are kept apart on
purpose: the difference is what the mediator follows up. Rescheduling clears the RSVPs, since an answer was given
for the old time; the invitations stand.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Rsvp(StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"  # its minutes are recorded
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    place: str
    starts_at: datetime
    ends_at: datetime
    agenda: tuple[str, ...]
    status: MeetingStatus = MeetingStatus.SCHEDULED
    invited: tuple[str, ...] = ()  # party ids, in the order they were invited
    rsvps: Mapping[str, Rsvp] = field(default_factory=dict)
    attendance: Mapping[str, bool] = field(default_factory=dict)  # party id -> came or not
    minutes: str | None = None
    cancellation_reason: str | None = None
    times_rescheduled: int = 0

    def has_started(self, now: datetime) -> bool:
        return now >= self.starts_at

    @property
    def attended(self) -> tuple[str, ...]:
        return tuple(party_id for party_id, came in self.attendance.items() if came)
