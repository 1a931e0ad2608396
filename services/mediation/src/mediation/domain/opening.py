"""How a case starts: referred from the complaints desk or applied for directly; then accepted or declined.

A referral is consumed from the complaints service's ``ComplaintEscalatedToMediation`` events, which can arrive more
than once and once per complaint of an escalated group (each carrying the same case id and complaint ids). So
``open_by_referral`` takes the case as it stands (``None`` if its stream is empty) and is idempotent:

=======================================  ===========================================================================
the case                                 a referral does
=======================================  ===========================================================================
does not exist                           open it (``CaseOpened``), with the complaints case id as its id
already took in this escalation event    nothing (a redelivery)
opened or accepted                       add the complaints it did not have (``ComplaintsJoinedCase``), or nothing
declined or ended without agreement      reopen it for a new round of mediation (``CaseReopened``); but nothing
                                         for a late delivery of another complaint of an earlier escalation (made
                                         before the round ended, naming no complaint the case lacks)
agreement in effect, or closed           nothing when it names no complaint the case lacks (another complaint of
                                         a group already taken in); else refuse: the agreement cannot answer
                                         complaints it never covered, the desk escalates them under a new case id
=======================================  ===========================================================================

Only ``escalated_at`` (when the complaints desk escalated, the event's own time) tells a late sibling of the group
that opened a case from a new escalation of a declined case: both name the same complaints. A new escalation follows
the end of the round causally (the desk escalates again after it took its complaints back), a sibling precedes it.
"""

from collections.abc import Sequence
from datetime import datetime

from mediation.domain.closing import ended_without_agreement_event
from mediation.domain.commanding import begin, build, new_event
from mediation.domain.deadlines import mediation_due_at
from mediation.domain.errors import InvalidTransition, Problem, ValidationFailed
from mediation.domain.events import (
    CaseAccepted,
    CaseDeadlineExtended,
    CaseDeclined,
    CaseEvent,
    CaseOpened,
    CaseReopened,
    ComplaintsJoinedCase,
)
from mediation.domain.origins import Origin, Route
from mediation.domain.parties import Party, PartyDetails
from mediation.domain.state import CaseState
from mediation.domain.status import AGREED, REOPENABLE, CaseStatus
from mediation.domain.utc import require_utc


def _numbered(parties: Sequence[PartyDetails]) -> tuple[list[Party], list[Problem]]:
    """``party-1``, ``party-2``, ... in the order given; the same party twice is a mistake in the input."""
    numbered: list[Party] = []
    problems: list[Problem] = []
    for index, details in enumerate(parties):
        if any(details.same_as(earlier) for earlier in numbered):
            problems.append(Problem(f"parties.{index}", "names a party already listed"))
            continue
        numbered.append(Party.numbered(len(numbered) + 1, details))
    return numbered, problems


def open_by_referral(
    state: CaseState | None,
    *,
    case_id: str,
    complaint_ids: Sequence[str],
    compound_id: str,
    reason: str,
    parties: Sequence[PartyDetails],
    escalation_event_id: str,
    at: datetime,
    category_code: str | None = None,
    escalated_at: datetime | None = None,
) -> list[CaseEvent]:
    """Take in an escalation from the complaints desk (see the table above). ``case_id`` is the complaints case id;
    ``escalated_at`` is when the desk escalated (without it, every escalation of an ended case is a new one)."""
    at = require_utc(at)
    if escalated_at is not None:
        escalated_at = require_utc(escalated_at, "escalated_at")
    if state is None:
        numbered, problems = _numbered(parties)
        if not complaint_ids:
            problems.append(Problem("complaint_ids", "must name at least one complaint"))
        fields = {
            "case_id": case_id,
            "occurred_at": at,
            "origin": Origin.COMPLAINT_REFERRAL,
            "reason": reason,
            "parties": numbered,
            "compound_id": compound_id,
            "category_code": category_code,
            "complaint_ids": tuple(complaint_ids),
            "escalation_event_id": escalation_event_id,
        }
        return [build(CaseOpened, fields, problems)]
    if case_id != state.case_id:
        raise ValidationFailed.single("case_id", "is not the id of the case given")
    if escalation_event_id in state.escalation_event_ids:
        return []
    new_ids = tuple(c for c in dict.fromkeys(complaint_ids) if c not in state.complaint_ids)
    if state.status in AGREED:
        if not new_ids:
            return []  # another complaint of the group the agreement already answers: nothing to take in
        raise InvalidTransition("refer again", state.status, "its agreement already took effect; open a new case")
    if state.status in REOPENABLE:
        if not new_ids and _made_before_the_round_ended(state, escalated_at):
            return []  # a late delivery of another complaint of an escalation this case already answered
        at = begin(state, "reopen", REOPENABLE, at)
        return [
            new_event(
                CaseReopened, state, at, reason=reason, complaint_ids=new_ids, escalation_event_id=escalation_event_id
            )
        ]
    if not new_ids:
        return []  # another complaint of a group escalated together: the case already has them all
    at = begin(state, "refer more complaints to", {CaseStatus.OPENED, CaseStatus.ACCEPTED}, at)
    return [new_event(ComplaintsJoinedCase, state, at, complaint_ids=new_ids, escalation_event_id=escalation_event_id)]


def _made_before_the_round_ended(state: CaseState, escalated_at: datetime | None) -> bool:
    return escalated_at is not None and state.ended_at is not None and escalated_at <= state.ended_at


def apply_for_mediation(
    *,
    case_id: str,
    origin: Origin,
    reason: str,
    parties: Sequence[PartyDetails],
    at: datetime,
    applicant: PartyDetails | None = None,
    referred_by: str | None = None,
    referral_reference: str | None = None,
    compound_id: str | None = None,
) -> list[CaseEvent]:
    """A case applied for by a party (``applicant``, who must be among ``parties``) or referred by the street office
    or a court (``referred_by``, with ``referral_reference`` such as a docket number). The caller picks a fresh
    ``case_id``; the store refuses one that exists."""
    at = require_utc(at)
    numbered, problems = _numbered(parties)
    if origin == Origin.COMPLAINT_REFERRAL:
        problems.append(Problem("origin", "a complaint referral comes from the complaints service's events"))
    applicant_party_id: str | None = None
    if applicant is not None:
        applicant_party_id = next((p.party_id for p in numbered if p.same_as(applicant)), None)
        if applicant_party_id is None:
            problems.append(Problem("applicant", "must be one of the parties"))
    elif origin == Origin.PARTY_APPLICATION:
        problems.append(Problem("applicant", "is required when a party applies"))
    fields = {
        "case_id": case_id,
        "occurred_at": at,
        "origin": origin,
        "reason": reason,
        "parties": numbered,
        "compound_id": compound_id,
        "applicant_party_id": applicant_party_id,
        "referred_by": referred_by,
        "referral_reference": referral_reference,
    }
    return [build(CaseOpened, fields, problems)]


def accept(state: CaseState, *, at: datetime) -> list[CaseEvent]:
    """Accept the case (受理): the one month to mediate starts now."""
    at = begin(state, "accept", {CaseStatus.OPENED}, at)
    return [new_event(CaseAccepted, state, at, due_at=mediation_due_at(at))]


def decline(state: CaseState, *, reason: str, routes_advised: Sequence[Route], at: datetime) -> list[CaseEvent]:
    """Decline the case (不予受理) and tell the parties where else to go.

    Also records ``CaseEndedWithoutAgreement``, so that the complaints desk (which only listens for that) takes its
    complaints back.
    """
    at = begin(state, "decline", {CaseStatus.OPENED}, at)
    return [
        new_event(CaseDeclined, state, at, reason=reason),
        ended_without_agreement_event(state, at, reason, routes_advised),
    ]


def extend_deadline(state: CaseState, *, due_at: datetime, reason: str, at: datetime) -> list[CaseEvent]:
    """The parties agreed to take longer than the month: ``due_at`` is the new end."""
    at = begin(state, "extend the deadline of", {CaseStatus.ACCEPTED}, at)
    due_at = require_utc(due_at, "due_at")
    previous = state.due_at
    if previous is None:  # accepted cases always have one; a history without it is damaged
        raise InvalidTransition("extend the deadline of", state.status, "it has no deadline")
    if due_at <= previous:
        raise ValidationFailed.single("due_at", "must be later than the deadline in force")
    return [new_event(CaseDeadlineExtended, state, at, due_at=due_at, previous_due_at=previous, reason=reason)]
