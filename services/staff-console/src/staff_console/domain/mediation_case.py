"""A mediation case as its page shows it, folded from the case's events (``jinlin.mediation.*.v1``).

Reads: CaseOpened, ComplaintsJoinedCase, CaseReopened, CaseAccepted, CaseDeclined, CaseDeadlineExtended,
MediatorAssigned, MediatorReassigned, PartyAdded, PartyRemoved, MeetingScheduled, MeetingRescheduled,
MeetingCancelled, PartiesInvited, RsvpRecorded, AttendanceRecorded, MinutesRecorded, AgreementDrafted,
AgreementAmended, AgreementDiscarded, AgreementSigned, AgreementTookEffect, AgreementPosted, ObligationFulfilled,
ObligationMarkedOverdue, ObligationDueDateExtended, ObligationWaived, FollowUpVisitRecorded, CaseClosed,
CaseEndedWithoutAgreement. Any other type is only shown in the case's history. Missing fields are tolerated.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from staff_console.domain.words import event_name


@dataclass
class Meeting:
    meeting_id: str
    place: str = ""
    starts_at: str = ""
    ends_at: str = ""
    agenda: list[str] = field(default_factory=list)
    cancelled: bool = False
    invited: list[str] = field(default_factory=list)
    rsvps: dict[str, str] = field(default_factory=dict)
    attended: dict[str, bool] = field(default_factory=dict)
    minutes: str = ""


@dataclass
class Obligation:
    term_id: str
    obligor: str
    what: str
    due_at: str
    evidence_required: str
    state: str = "open"
    evidence: str = ""


@dataclass
class Agreement:
    agreement_id: str
    revision: int
    facts: str
    issues: list[str]
    party_ids: list[str]
    signed_by: list[str] = field(default_factory=list)
    in_effect: bool = False
    posted_at: str = ""


@dataclass
class MediationCase:
    case_id: str
    status: str = "opened"
    compound_id: str | None = None
    reason: str = ""
    origin: str = ""
    due_at: str | None = None
    mediator: str = ""
    complaint_ids: list[str] = field(default_factory=list)
    parties: dict[str, str] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    agreement: Agreement | None = None
    obligations: dict[str, Obligation] = field(default_factory=dict)
    followups: list[dict[str, Any]] = field(default_factory=list)


def party_name(party: dict[str, Any]) -> str:
    """An organisation by its name; a person by kind and reference only (their name is sealed)."""
    if party.get("organisation"):
        return str(party["organisation"])
    return f"{party.get('kind', 'person')} ({party.get('person_ref', '?')})"


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def fold_case(case_id: str, events: Iterable[tuple[str, dict[str, Any]]]) -> MediationCase:
    """``events``: ``(type, data)`` of the case, in log order."""
    case = MediationCase(case_id)
    for event_type, data in events:
        _apply(case, event_name(event_type), data)
    return case


def _apply(case: MediationCase, name: str, data: dict[str, Any]) -> None:
    if name == "CaseOpened":
        case.status, case.reason, case.origin = "opened", _text(data, "reason"), _text(data, "origin")
        case.compound_id = data.get("compound_id")
        case.complaint_ids = list(data.get("complaint_ids") or [])
        for party in data.get("parties") or []:
            case.parties[str(party.get("party_id"))] = party_name(party)
    elif name in ("ComplaintsJoinedCase", "CaseReopened"):
        case.complaint_ids += [c for c in data.get("complaint_ids") or [] if c not in case.complaint_ids]
        if name == "CaseReopened":
            case.status = "opened"
    elif name == "CaseAccepted":
        case.status, case.due_at = "accepted", data.get("due_at")
    elif name == "CaseDeadlineExtended":
        case.due_at = data.get("due_at")
    elif name == "CaseDeclined":
        case.status = "declined"
    elif name in ("MediatorAssigned", "MediatorReassigned"):
        case.mediator = _text(data.get("mediator") or {}, "name")
    elif name == "PartyAdded":
        party = data.get("party") or {}
        case.parties[str(party.get("party_id"))] = party_name(party)
    elif name == "PartyRemoved":
        case.parties.pop(_text(data, "party_id"), None)
    elif name.startswith("Meeting") or name in ("PartiesInvited", "RsvpRecorded", "AttendanceRecorded"):
        _apply_meeting(case, name, data)
    elif name == "MinutesRecorded":
        _meeting(case, data).minutes = _text(data, "minutes")
    elif name.startswith("Agreement"):
        _apply_agreement(case, name, data)
    elif name.startswith("Obligation"):
        _apply_obligation(case, name, data)
    elif name == "FollowUpVisitRecorded":
        case.followups.append(data)
    elif name == "CaseClosed":
        case.status = "closed"
    elif name == "CaseEndedWithoutAgreement":
        case.status = "ended_without_agreement"


def _meeting(case: MediationCase, data: dict[str, Any]) -> Meeting:
    meeting_id = _text(data, "meeting_id")
    return case.meetings.setdefault(meeting_id, Meeting(meeting_id))


def _apply_meeting(case: MediationCase, name: str, data: dict[str, Any]) -> None:
    meeting = _meeting(case, data)
    if name in ("MeetingScheduled", "MeetingRescheduled"):
        meeting.place, meeting.starts_at, meeting.ends_at = (
            _text(data, "place"),
            _text(data, "starts_at"),
            _text(data, "ends_at"),
        )
        if name == "MeetingScheduled":
            meeting.agenda = [str(item) for item in data.get("agenda") or []]
        else:
            meeting.rsvps.clear()
    elif name == "MeetingCancelled":
        meeting.cancelled = True
    elif name == "PartiesInvited":
        meeting.invited += [p for p in data.get("party_ids") or [] if p not in meeting.invited]
    elif name == "RsvpRecorded":
        meeting.rsvps[_text(data, "party_id")] = _text(data, "rsvp")
    elif name == "AttendanceRecorded":
        meeting.attended[_text(data, "party_id")] = bool(data.get("attended"))


def _apply_agreement(case: MediationCase, name: str, data: dict[str, Any]) -> None:
    if name in ("AgreementDrafted", "AgreementAmended"):
        case.agreement = Agreement(
            agreement_id=_text(data, "agreement_id"),
            revision=int(data.get("revision") or 1),
            facts=_text(data, "facts"),
            issues=[str(issue) for issue in data.get("issues") or []],
            party_ids=[str(p) for p in data.get("party_ids") or []],
        )
        case.obligations = {
            str(term.get("term_id")): Obligation(
                term_id=str(term.get("term_id")),
                obligor=str(term.get("obligor")),
                what=_text(term, "what"),
                due_at=_text(term, "due_at"),
                evidence_required=_text(term, "evidence_required"),
            )
            for term in data.get("terms") or []
        }
    elif name == "AgreementDiscarded":
        case.agreement, case.obligations = None, {}
    elif case.agreement is None:
        return
    elif name == "AgreementSigned":
        case.agreement.signed_by.append(_text(data, "party_id"))
    elif name == "AgreementTookEffect":
        case.agreement.in_effect, case.status = True, "agreement_in_effect"
    elif name == "AgreementPosted":
        case.agreement.posted_at = _text(data, "place")


def _apply_obligation(case: MediationCase, name: str, data: dict[str, Any]) -> None:
    obligation = case.obligations.get(_text(data, "term_id"))
    if obligation is None:
        return
    if name == "ObligationFulfilled":
        obligation.state = "fulfilled"
        by_event = data.get("by_event") or {}
        obligation.evidence = _text(data, "evidence") or _text(by_event, "event_type")
    elif name == "ObligationMarkedOverdue" and obligation.state == "open":
        obligation.state = "overdue"
    elif name == "ObligationDueDateExtended":
        obligation.due_at, obligation.state = _text(data, "due_at"), "open"
    elif name == "ObligationWaived":
        obligation.state = "waived"
