"""Consultation meetings: only for accepted cases; invitations, RSVPs against attendance, minutes, changes of plan."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from mediation.domain import (
    InvalidTransition,
    MeetingStatus,
    NotAParty,
    Rsvp,
    UnknownItem,
    ValidationFailed,
    cancel_meeting,
    invite_parties,
    record_attendance,
    record_minutes,
    record_rsvp,
    reschedule_meeting,
    schedule_meeting,
)

Desk = Any
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def _schedule(d: Desk, start_in: timedelta = 2 * DAY) -> str:
    [scheduled] = d.do(
        schedule_meeting,
        place="金园华庭党群服务站",
        starts_at=d.now + start_in,
        ends_at=d.now + start_in + 2 * HOUR,
        agenda=["电费欠缴情况说明", "直供电改造安排"],
    )
    meeting_id: str = scheduled.meeting_id
    return meeting_id


def test_meetings_are_only_for_accepted_cases(desk: Callable[..., Desk]) -> None:
    with pytest.raises(InvalidTransition, match="cannot schedule a meeting for a case that is opened"):
        _schedule(desk())


def test_a_case_holds_several_meetings(accepted: Desk) -> None:
    assert [_schedule(accepted), _schedule(accepted, 9 * DAY)] == ["meeting-1", "meeting-2"]
    first = accepted.state.meetings["meeting-1"]
    assert (first.place, first.agenda, first.status) == (
        "金园华庭党群服务站",
        ("电费欠缴情况说明", "直供电改造安排"),
        MeetingStatus.SCHEDULED,
    )


def test_a_meeting_ends_after_it_starts(accepted: Desk) -> None:
    with pytest.raises(ValidationFailed):
        accepted.do(schedule_meeting, place="x", starts_at=accepted.now, ends_at=accepted.now, agenda=["a"])
    with pytest.raises(ValidationFailed, match="agenda"):
        accepted.do(schedule_meeting, place="x", starts_at=accepted.now, ends_at=accepted.now + HOUR, agenda=[])


def test_rsvps_and_attendance_are_kept_apart(accepted: Desk) -> None:
    meeting_id = _schedule(accepted)
    accepted.do(invite_parties, meeting_id=meeting_id, party_ids=["party-1", "party-2", "party-3"])
    accepted.do(record_rsvp, meeting_id=meeting_id, party_id="party-1", rsvp=Rsvp.NO)
    accepted.do(record_rsvp, meeting_id=meeting_id, party_id="party-2", rsvp=Rsvp.MAYBE)
    accepted.do(record_rsvp, meeting_id=meeting_id, party_id="party-2", rsvp=Rsvp.YES)  # changed their mind
    accepted.later(days=2)
    for party_id, came in (("party-1", True), ("party-2", False), ("party-4", True)):  # party-4 came uninvited
        accepted.do(record_attendance, meeting_id=meeting_id, party_id=party_id, attended=came)
    meeting = accepted.state.meetings[meeting_id]
    assert meeting.invited == ("party-1", "party-2", "party-3")
    assert meeting.rsvps == {"party-1": Rsvp.NO, "party-2": Rsvp.YES}
    assert meeting.attended == ("party-1", "party-4")


def test_only_parties_are_invited_and_only_once(accepted: Desk) -> None:
    meeting_id = _schedule(accepted)
    with pytest.raises(NotAParty):
        accepted.do(invite_parties, meeting_id=meeting_id, party_ids=["party-1", "party-9"])
    accepted.do(invite_parties, meeting_id=meeting_id, party_ids=["party-1"])
    with pytest.raises(InvalidTransition, match="already invited"):
        accepted.do(invite_parties, meeting_id=meeting_id, party_ids=["party-1"])
    with pytest.raises(ValidationFailed, match="party_ids"):
        accepted.do(invite_parties, meeting_id=meeting_id, party_ids=["party-2", "party-2"])
    with pytest.raises(UnknownItem, match="no meeting meeting-7"):
        accepted.do(invite_parties, meeting_id="meeting-7", party_ids=["party-2"])


def test_only_the_invited_answer_and_before_the_meeting(accepted: Desk) -> None:
    meeting_id = _schedule(accepted)
    accepted.do(invite_parties, meeting_id=meeting_id, party_ids=["party-1"])
    with pytest.raises(InvalidTransition, match="not invited"):
        accepted.do(record_rsvp, meeting_id=meeting_id, party_id="party-2", rsvp=Rsvp.YES)
    with pytest.raises(ValidationFailed, match="rsvp"):
        accepted.do(record_rsvp, meeting_id=meeting_id, party_id="party-1", rsvp="perhaps")
    accepted.later(days=2)
    with pytest.raises(InvalidTransition, match="has started"):
        accepted.do(record_rsvp, meeting_id=meeting_id, party_id="party-1", rsvp=Rsvp.YES)


def test_attendance_and_minutes_wait_for_the_meeting(accepted: Desk) -> None:
    meeting_id = _schedule(accepted)
    with pytest.raises(InvalidTransition, match="has not started"):
        accepted.do(record_attendance, meeting_id=meeting_id, party_id="party-1", attended=True)
    with pytest.raises(InvalidTransition, match="has not started"):
        accepted.do(record_minutes, meeting_id=meeting_id, minutes="……")
    accepted.later(days=2, hours=3).do(record_minutes, meeting_id=meeting_id, minutes="各方同意先结清欠费")
    meeting = accepted.state.meetings[meeting_id]
    assert (meeting.status, meeting.minutes) == (MeetingStatus.HELD, "各方同意先结清欠费")
    with pytest.raises(InvalidTransition, match="is held"):
        accepted.do(record_minutes, meeting_id=meeting_id, minutes="again")
    # Attendance can still be filled in after the minutes.
    accepted.do(record_attendance, meeting_id=meeting_id, party_id="party-3", attended=True)


def test_rescheduling_keeps_invitations_and_clears_rsvps(accepted: Desk, t0: datetime) -> None:
    meeting_id = _schedule(accepted)
    accepted.do(invite_parties, meeting_id=meeting_id, party_ids=["party-1"])
    accepted.do(record_rsvp, meeting_id=meeting_id, party_id="party-1", rsvp=Rsvp.YES)
    new_start = accepted.now + 5 * DAY
    accepted.do(
        reschedule_meeting, meeting_id=meeting_id, starts_at=new_start, ends_at=new_start + HOUR, reason="供电公司不便"
    )
    meeting = accepted.state.meetings[meeting_id]
    assert (meeting.starts_at, meeting.place, meeting.times_rescheduled) == (new_start, "金园华庭党群服务站", 1)
    assert (meeting.invited, meeting.rsvps) == (("party-1",), {})


def test_a_meeting_that_took_place_is_not_rescheduled_or_cancelled(accepted: Desk) -> None:
    meeting_id = _schedule(accepted)
    accepted.later(days=2).do(record_attendance, meeting_id=meeting_id, party_id="party-1", attended=True)
    with pytest.raises(InvalidTransition, match="took place"):
        accepted.do(cancel_meeting, meeting_id=meeting_id, reason="x")
    with pytest.raises(InvalidTransition, match="took place"):
        accepted.do(
            reschedule_meeting, meeting_id=meeting_id, starts_at=accepted.now, ends_at=accepted.now + HOUR, reason="x"
        )


def test_a_cancelled_meeting_takes_nothing_more(accepted: Desk) -> None:
    meeting_id = _schedule(accepted)
    accepted.do(cancel_meeting, meeting_id=meeting_id, reason="台风")
    assert accepted.state.meetings[meeting_id].status is MeetingStatus.CANCELLED
    accepted.later(days=3)
    commands: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (cancel_meeting, {"reason": "x"}),
        (invite_parties, {"party_ids": ["party-1"]}),
        (record_attendance, {"party_id": "party-1", "attended": True}),
        (record_minutes, {"minutes": "x"}),
    ]
    for command, arguments in commands:
        with pytest.raises(InvalidTransition, match="cancelled"):
            accepted.do(command, meeting_id=meeting_id, **arguments)


def test_meetings_go_on_while_the_agreement_is_carried_out(agreed: Desk) -> None:
    assert _schedule(agreed) == "meeting-1"
