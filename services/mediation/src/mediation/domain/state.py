"""A case's state: nothing but the fold of its events.

``apply`` trusts the events (they are facts already checked by the commands that made them) and only refuses what
cannot be a case's history at all: events before the opening, a second opening, another case's events, references
to meetings, parties or terms the case never had, an agreement taking effect without every signature.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from jinlin.events import DomainEvent
from mediation.domain.access import PartyAccess
from mediation.domain.agreements import Agreement, JudicialConfirmation, Posting
from mediation.domain.errors import HistoryError
from mediation.domain.events import (
    AgreementAmended,
    AgreementDiscarded,
    AgreementDrafted,
    AgreementPosted,
    AgreementSigned,
    AgreementTookEffect,
    AttendanceRecorded,
    CaseAccepted,
    CaseClosed,
    CaseDeadlineExtended,
    CaseDeclined,
    CaseEndedWithoutAgreement,
    CaseEvent,
    CaseOpened,
    CaseReopened,
    ComplaintsJoinedCase,
    FollowUpVisitRecorded,
    JudicialConfirmationApplied,
    JudicialConfirmationDecided,
    MediatorAssigned,
    MediatorReassigned,
    MeetingCancelled,
    MeetingRescheduled,
    MeetingScheduled,
    MinutesRecorded,
    ObligationDueDateExtended,
    ObligationFulfilled,
    ObligationMarkedOverdue,
    ObligationWaived,
    PartiesInvited,
    PartyAccessGranted,
    PartyAccessRevoked,
    PartyAdded,
    PartyInformedOfRights,
    PartyRemoved,
    RsvpRecorded,
)
from mediation.domain.meetings import Meeting, MeetingStatus
from mediation.domain.obligations import Obligation, ObligationStatus
from mediation.domain.origins import Origin, Route
from mediation.domain.parties import Mediator, Party, party_id
from mediation.domain.status import ENDED, CaseStatus


@dataclass(frozen=True)
class PartyRecord:
    party: Party
    joined_at: datetime
    rights_informed_at: datetime | None = None  # the latest time they were told their rights


@dataclass(frozen=True)
class FollowUpVisit:
    at: datetime
    performance: str
    party_id: str | None
    satisfaction: int | None


@dataclass(frozen=True)
class CaseState:
    case_id: str
    status: CaseStatus
    # How many events were folded: the stream version to expect when appending the next ones.
    version: int
    origin: Origin
    reason: str  # of the latest referral or application
    opened_at: datetime
    updated_at: datetime  # of the last event; commands may not go back before it

    compound_id: str | None
    category_code: str | None
    complaint_ids: tuple[str, ...]  # every complaint referred into the case, in the order they came
    escalation_event_ids: frozenset[str]  # the complaints desk's events already taken in
    applicant_party_id: str | None
    referred_by: str | None
    referral_reference: str | None

    parties: Mapping[str, PartyRecord]  # the current parties by id, in the order they joined
    parties_numbered: int  # ids ever given; a removed party's id is never reused

    rounds: int = 1  # 1 + the times a new referral reopened the case
    accepted_at: datetime | None = None
    due_at: datetime | None = None  # the end of the month to mediate (or of the extension agreed)
    mediator: Mediator | None = None
    meetings: Mapping[str, Meeting] = field(default_factory=dict)
    agreement: Agreement | None = None  # the one being drafted and signed, or the one in effect
    agreements_drafted: int = 0
    obligations: Mapping[str, Obligation] = field(default_factory=dict)  # by term id, once the agreement took effect
    follow_up_visits: tuple[FollowUpVisit, ...] = ()
    party_access: Mapping[str, PartyAccess] = field(default_factory=dict)  # by access id, revoked ones included
    decline_reason: str | None = None
    end_reason: str | None = None
    routes_advised: tuple[Route, ...] = ()
    ended_at: datetime | None = None  # closed, declined or ended without agreement
    summary: str = ""

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED

    @property
    def unsettled_term_ids(self) -> tuple[str, ...]:
        return tuple(term_id for term_id, obligation in self.obligations.items() if not obligation.settled)

    @property
    def next_party_id(self) -> str:
        return party_id(self.parties_numbered + 1)

    @property
    def next_meeting_id(self) -> str:
        return f"meeting-{len(self.meetings) + 1}"

    @property
    def next_agreement_id(self) -> str:
        return f"agreement-{self.agreements_drafted + 1}"

    @property
    def next_access_id(self) -> str:
        return f"access-{len(self.party_access) + 1}"

    def party(self, party_id: str) -> PartyRecord | None:
        return self.parties.get(party_id)


# --- helpers -------------------------------------------------------------------------------------------------------


def _party(state: CaseState, party_id: str) -> PartyRecord:
    record = state.parties.get(party_id)
    if record is None:
        raise HistoryError(f"case {state.case_id} has no party {party_id}")
    return record


def _meeting(state: CaseState, meeting_id: str) -> Meeting:
    meeting = state.meetings.get(meeting_id)
    if meeting is None:
        raise HistoryError(f"case {state.case_id} has no meeting {meeting_id}")
    return meeting


def _agreement(state: CaseState, agreement_id: str) -> Agreement:
    if state.agreement is None or state.agreement.agreement_id != agreement_id:
        raise HistoryError(f"agreement {agreement_id} is not the agreement of case {state.case_id}")
    return state.agreement


def _obligation(state: CaseState, term_id: str) -> Obligation:
    obligation = state.obligations.get(term_id)
    if obligation is None:
        raise HistoryError(f"case {state.case_id} has no obligation {term_id}")
    return obligation


def _update_meeting(state: CaseState, meeting: Meeting) -> CaseState:
    return replace(state, meetings={**state.meetings, meeting.meeting_id: meeting})


def _update_agreement(state: CaseState, agreement: Agreement) -> CaseState:
    return replace(state, agreement=agreement)


def _update_obligation(state: CaseState, obligation: Obligation) -> CaseState:
    return replace(state, obligations={**state.obligations, obligation.term_id: obligation})


def _new_complaints(state: CaseState, complaint_ids: Iterable[str]) -> tuple[str, ...]:
    return state.complaint_ids + tuple(c for c in complaint_ids if c not in state.complaint_ids)


# --- the fold ------------------------------------------------------------------------------------------------------


def _opened(event: CaseOpened) -> CaseState:
    at = event.occurred_at
    return CaseState(
        case_id=event.case_id,
        status=CaseStatus.OPENED,
        version=1,
        origin=event.origin,
        reason=event.reason,
        opened_at=at,
        updated_at=at,
        compound_id=event.compound_id,
        category_code=event.category_code,
        complaint_ids=event.complaint_ids,
        escalation_event_ids=frozenset({event.escalation_event_id} if event.escalation_event_id else ()),
        applicant_party_id=event.applicant_party_id,
        referred_by=event.referred_by,
        referral_reference=event.referral_reference,
        parties={party.party_id: PartyRecord(party, at) for party in event.parties},
        parties_numbered=len(event.parties),
    )


def _evolve_case(state: CaseState, event: CaseEvent) -> CaseState | None:
    """Opening again, acceptance, people and the end. ``None`` when the event is not one of these."""
    at = event.occurred_at
    match event:
        case ComplaintsJoinedCase():
            return replace(
                state,
                complaint_ids=_new_complaints(state, event.complaint_ids),
                escalation_event_ids=state.escalation_event_ids | {event.escalation_event_id},
            )
        case CaseReopened():
            # A new round: what belonged to the round that ended (its acceptance, its unfinished draft, its end)
            # is history in the events, no longer state.
            return replace(
                state,
                status=CaseStatus.OPENED,
                reason=event.reason,
                complaint_ids=_new_complaints(state, event.complaint_ids),
                escalation_event_ids=state.escalation_event_ids | {event.escalation_event_id},
                rounds=state.rounds + 1,
                accepted_at=None,
                due_at=None,
                agreement=None,
                decline_reason=None,
                end_reason=None,
                routes_advised=(),
                ended_at=None,
            )
        case CaseAccepted():
            return replace(state, status=CaseStatus.ACCEPTED, accepted_at=at, due_at=event.due_at)
        case CaseDeclined():
            return replace(state, status=CaseStatus.DECLINED, decline_reason=event.reason, ended_at=at)
        case CaseDeadlineExtended():
            return replace(state, due_at=event.due_at)
        case MediatorAssigned() | MediatorReassigned():
            return replace(state, mediator=event.mediator)
        case PartyAdded():
            if event.party.party_id != state.next_party_id:
                raise HistoryError(f"party {event.party.party_id} joins where {state.next_party_id} was due")
            parties = {**state.parties, event.party.party_id: PartyRecord(event.party, at)}
            return replace(state, parties=parties, parties_numbered=state.parties_numbered + 1)
        case PartyRemoved():
            _party(state, event.party_id)
            remaining = {pid: record for pid, record in state.parties.items() if pid != event.party_id}
            return replace(state, parties=remaining)
        case PartyInformedOfRights():
            record = replace(_party(state, event.party_id), rights_informed_at=at)
            return replace(state, parties={**state.parties, event.party_id: record})
        case FollowUpVisitRecorded():
            visit = FollowUpVisit(at, event.performance, event.party_id, event.satisfaction)
            return replace(state, follow_up_visits=(*state.follow_up_visits, visit))
        case CaseClosed():
            return replace(state, status=CaseStatus.CLOSED, ended_at=at, summary=event.summary)
        case CaseEndedWithoutAgreement():
            # After a decline the case stays "declined"; the event is the same news for the complaints desk.
            status = CaseStatus.DECLINED if state.status is CaseStatus.DECLINED else CaseStatus.ENDED_WITHOUT_AGREEMENT
            return replace(
                state, status=status, end_reason=event.reason, routes_advised=event.routes_advised, ended_at=at
            )
    return None


def _evolve_meetings(state: CaseState, event: CaseEvent) -> CaseState | None:
    match event:
        case MeetingScheduled():
            if event.meeting_id != state.next_meeting_id or event.meeting_id in state.meetings:
                raise HistoryError(f"meeting {event.meeting_id} scheduled where {state.next_meeting_id} was due")
            meeting = Meeting(event.meeting_id, event.place, event.starts_at, event.ends_at, event.agenda)
            return _update_meeting(state, meeting)
        case MeetingRescheduled():
            meeting = _meeting(state, event.meeting_id)
            return _update_meeting(
                state,
                replace(
                    meeting,
                    place=event.place,
                    starts_at=event.starts_at,
                    ends_at=event.ends_at,
                    rsvps={},
                    times_rescheduled=meeting.times_rescheduled + 1,
                ),
            )
        case MeetingCancelled():
            meeting = _meeting(state, event.meeting_id)
            cancelled = replace(meeting, status=MeetingStatus.CANCELLED, cancellation_reason=event.reason)
            return _update_meeting(state, cancelled)
        case PartiesInvited():
            meeting = _meeting(state, event.meeting_id)
            for invited in event.party_ids:
                _party(state, invited)
            return _update_meeting(state, replace(meeting, invited=(*meeting.invited, *event.party_ids)))
        case RsvpRecorded():
            meeting = _meeting(state, event.meeting_id)
            rsvps = {**meeting.rsvps, event.party_id: event.rsvp}
            return _update_meeting(state, replace(meeting, rsvps=rsvps))
        case AttendanceRecorded():
            meeting = _meeting(state, event.meeting_id)
            attendance = {**meeting.attendance, event.party_id: event.attended}
            return _update_meeting(state, replace(meeting, attendance=attendance))
        case MinutesRecorded():
            meeting = _meeting(state, event.meeting_id)
            return _update_meeting(state, replace(meeting, status=MeetingStatus.HELD, minutes=event.minutes))
    return None


def _evolve_agreement(state: CaseState, event: CaseEvent) -> CaseState | None:
    at = event.occurred_at
    match event:
        case AgreementDrafted():
            if event.agreement_id != state.next_agreement_id:
                raise HistoryError(f"agreement {event.agreement_id} drafted where {state.next_agreement_id} was due")
            agreement = Agreement(
                event.agreement_id, event.revision, event.party_ids, event.facts, event.issues, event.terms, at
            )
            return replace(state, agreement=agreement, agreements_drafted=state.agreements_drafted + 1)
        case AgreementAmended():
            agreement = _agreement(state, event.agreement_id)
            if agreement.signatures:
                raise HistoryError(f"agreement {event.agreement_id} was amended after it was signed")
            amended = replace(
                agreement,
                revision=event.revision,
                party_ids=event.party_ids,
                facts=event.facts,
                issues=event.issues,
                terms=event.terms,
            )
            return _update_agreement(state, amended)
        case AgreementDiscarded():
            _agreement(state, event.agreement_id)
            return replace(state, agreement=None)
        case AgreementSigned():
            agreement = _agreement(state, event.agreement_id)
            if event.party_id not in agreement.party_ids or event.revision != agreement.revision:
                raise HistoryError(f"signature of {event.party_id} does not belong to {event.agreement_id}")
            signatures = {**agreement.signatures, event.party_id: at}
            return _update_agreement(state, replace(agreement, signatures=signatures))
        case AgreementTookEffect():
            agreement = _agreement(state, event.agreement_id)
            if agreement.unsigned_party_ids:
                raise HistoryError(f"agreement {event.agreement_id} took effect without every signature")
            obligations = {term.term_id: Obligation(term, term.due_at) for term in agreement.terms}
            return replace(
                state,
                status=CaseStatus.AGREEMENT_IN_EFFECT,
                agreement=replace(agreement, took_effect_at=at),
                obligations=obligations,
            )
        case AgreementPosted():
            agreement = _agreement(state, event.agreement_id)
            posting = Posting(event.place, at, event.until)
            return _update_agreement(state, replace(agreement, postings=(*agreement.postings, posting)))
        case JudicialConfirmationApplied():
            agreement = _agreement(state, event.agreement_id)
            confirmation = JudicialConfirmation(event.court, at, event.party_ids, event.reference)
            return _update_agreement(state, replace(agreement, judicial_confirmation=confirmation))
        case JudicialConfirmationDecided():
            agreement = _agreement(state, event.agreement_id)
            if agreement.judicial_confirmation is None:
                raise HistoryError(f"a court decided on {event.agreement_id} without an application")
            decided = replace(
                agreement.judicial_confirmation, outcome=event.outcome, decided_at=at, remark=event.remark
            )
            return _update_agreement(state, replace(agreement, judicial_confirmation=decided))
    return None


def _evolve_obligations(state: CaseState, event: CaseEvent) -> CaseState | None:
    at = event.occurred_at
    match event:
        case ObligationFulfilled():
            obligation = _obligation(state, event.term_id)
            if obligation.settled:
                raise HistoryError(f"obligation {event.term_id} was settled twice")
            fulfilled = replace(
                obligation,
                status=ObligationStatus.FULFILLED,
                settled_at=at,
                evidence=event.evidence,
                fulfilling_event=event.by_event,
            )
            return _update_obligation(state, fulfilled)
        case ObligationMarkedOverdue():
            obligation = _obligation(state, event.term_id)
            if obligation.overdue_marked or event.due_at != obligation.due_at:
                raise HistoryError(f"obligation {event.term_id} marked overdue twice or for another deadline")
            marked = replace(obligation, overdue_marked=True, times_marked_overdue=obligation.times_marked_overdue + 1)
            return _update_obligation(state, marked)
        case ObligationDueDateExtended():
            return _update_obligation(state, _obligation(state, event.term_id).extended(event.due_at))
        case ObligationWaived():
            obligation = _obligation(state, event.term_id)
            if obligation.settled:
                raise HistoryError(f"obligation {event.term_id} was settled twice")
            waived = replace(obligation, status=ObligationStatus.WAIVED, settled_at=at, waiver_reason=event.reason)
            return _update_obligation(state, waived)
    return None


def _evolve_access(state: CaseState, event: CaseEvent) -> CaseState | None:
    match event:
        case PartyAccessGranted():
            if event.access_id != state.next_access_id:
                raise HistoryError(f"access {event.access_id} granted where {state.next_access_id} was due")
            _party(state, event.party_id)
            granted = PartyAccess(
                event.access_id, event.party_id, event.token_sha256, event.occurred_at, event.expires_at
            )
            return replace(state, party_access={**state.party_access, event.access_id: granted})
        case PartyAccessRevoked():
            access = state.party_access.get(event.access_id)
            if access is None or access.party_id != event.party_id or access.revoked_at is not None:
                raise HistoryError(f"access {event.access_id} of {event.party_id} revoked without being in force")
            revoked = replace(access, revoked_at=event.occurred_at, revocation_reason=event.reason)
            return replace(state, party_access={**state.party_access, event.access_id: revoked})
    return None


_EVOLVERS = (_evolve_case, _evolve_meetings, _evolve_agreement, _evolve_obligations, _evolve_access)


def apply(state: CaseState | None, event: DomainEvent) -> CaseState:
    """The state after ``event``; ``state`` is ``None`` before the first (opening) event."""
    if state is None:
        if not isinstance(event, CaseOpened):
            raise HistoryError(f"a case's history starts with CaseOpened, not {type(event).__name__}")
        return _opened(event)
    if isinstance(event, CaseOpened):
        raise HistoryError(f"case {state.case_id} was already opened")
    if not isinstance(event, CaseEvent) or event.case_id != state.case_id:
        raise HistoryError(f"event {type(event).__name__} does not belong to case {state.case_id}")
    for evolve in _EVOLVERS:
        evolved = evolve(state, event)
        if evolved is not None:
            return replace(evolved, version=state.version + 1, updated_at=event.occurred_at)
    raise HistoryError(f"{type(event).__name__} is not a case event")


def apply_all(state: CaseState | None, events: Iterable[DomainEvent]) -> CaseState | None:
    for event in events:
        state = apply(state, event)
    return state


def replay(events: Iterable[DomainEvent]) -> CaseState:
    """A case rebuilt from its whole history."""
    state = apply_all(None, events)
    if state is None:
        raise HistoryError("a case's history cannot be empty")
    return state
