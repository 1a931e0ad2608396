"""The case's events: the facts the mediation desk records, in the past tense, versioned, registered for decoding.

Every event names its case and the instant it happened (``occurred_at``, passed in by the command: the domain never
reads a clock). Events carry what a reader needs without the domain's rules: acceptance carries the one-month due
instant, taking effect carries the complaint ids and the end of the judicial-confirmation window, amendments carry
the whole new text. A party who is a person appears only as a person reference and a sealed name.

NATS subject of each: ``jinlin.mediation.case.<case_id>.<subject_token>``; ``caseid`` is the case id. (The
``noqa: S105`` on each ``subject_token`` is for bandit's guess that a name containing "token" holds a secret; a
subject token is public.)

Contract with the complaints service (keep the names and these fields stable): ``AgreementTookEffect`` and
``CaseEndedWithoutAgreement`` both carry ``case_id`` and ``complaint_ids`` (every complaint referred into the case),
so a consumer needs nothing else to act on its complaints.
"""

from typing import Annotated, ClassVar, Final, Self

from pydantic import Field, StringConstraints, model_validator

from jinlin.events import DomainEvent, EventRegistry
from mediation.domain.agreements import JudicialOutcome
from mediation.domain.identifiers import EventId, Identifier
from mediation.domain.meetings import Rsvp
from mediation.domain.origins import Origin, Route
from mediation.domain.parties import Mediator, OrganisationName, Party
from mediation.domain.terms import ExternalEventRef, Term
from mediation.domain.utc import UtcDatetime

SERVICE: Final = "mediation"
AGGREGATE: Final = "case"  # the aggregate token of the NATS subject and of the store's stream

registry = EventRegistry(SERVICE)

TEXT_MAX: Final = 4000
LONG_TEXT_MAX: Final = 50_000  # minutes and the facts of an agreement run long
REASON_MAX: Final = 2000
SATISFACTION_MIN: Final = 1
SATISFACTION_MAX: Final = 5

# Free text written by the desk: trimmed, never empty.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LONG_TEXT_MAX)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=REASON_MAX)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Revision = Annotated[int, Field(ge=1)]
PartyIds = Annotated[tuple[Identifier, ...], Field(min_length=1)]
ComplaintIds = tuple[Identifier, ...]
Routes = Annotated[tuple[Route, ...], Field(min_length=1)]


def _unique(values: tuple[str, ...], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat")


class CaseEvent(DomainEvent):
    """What every case event carries. Not registered itself: only its concrete subclasses are."""

    case_id: Identifier
    occurred_at: UtcDatetime


# --- opening -------------------------------------------------------------------------------------------------------


@registry.register
class CaseOpened(CaseEvent):
    """A case came in: referred from the complaints desk, applied for by a party, or referred by the street office or
    a court. The parties are numbered ``party-1``, ``party-2``, ... in the order given.

    Which fields are set depends on ``origin``: a complaint referral has ``complaint_ids`` and the
    ``escalation_event_id`` it was opened from (so a redelivered escalation opens nothing); a party's application
    names its ``applicant_party_id``; a referral by the street office or a court names ``referred_by`` (with the
    referrer's own reference, such as a court's docket number, when there is one).
    """

    subject_token: ClassVar[str] = "opened"

    origin: Origin
    reason: Reason
    parties: Annotated[tuple[Party, ...], Field(min_length=1)]
    compound_id: Identifier | None = None
    category_code: Identifier | None = None
    complaint_ids: ComplaintIds = ()
    escalation_event_id: EventId | None = None
    applicant_party_id: Identifier | None = None
    referred_by: OrganisationName | None = None
    referral_reference: Reference | None = None

    @model_validator(mode="after")
    def _fields_of_its_origin(self) -> Self:
        _unique(tuple(party.party_id for party in self.parties), "party ids")
        _unique(self.complaint_ids, "complaint_ids")
        from_complaints = self.origin is Origin.COMPLAINT_REFERRAL
        if from_complaints != bool(self.complaint_ids) or from_complaints != (self.escalation_event_id is not None):
            raise ValueError("complaint_ids and escalation_event_id are given exactly for a complaint referral")
        if (self.origin is Origin.PARTY_APPLICATION) != (self.applicant_party_id is not None):
            raise ValueError("applicant_party_id is given exactly for a party's application")
        if self.applicant_party_id is not None and self.applicant_party_id not in {p.party_id for p in self.parties}:
            raise ValueError("the applicant must be one of the parties")
        referred = self.origin in {Origin.STREET_OFFICE_REFERRAL, Origin.COURT_REFERRAL}
        if referred != (self.referred_by is not None) or (self.referral_reference is not None and not referred):
            raise ValueError("referred_by (and referral_reference) are given exactly for a street office or court")
        return self


@registry.register
class ComplaintsJoinedCase(CaseEvent):
    """A later escalation from the complaints desk brought complaints the case did not have yet."""

    subject_token: ClassVar[str] = "complaints_joined"

    complaint_ids: Annotated[ComplaintIds, Field(min_length=1)]
    escalation_event_id: EventId


@registry.register
class CaseReopened(CaseEvent):
    """A new escalation of a case that had been declined or had ended without agreement: a new round of mediation,
    awaiting acceptance again. ``complaint_ids`` are the ones the escalation named that the case did not have."""

    subject_token: ClassVar[str] = "reopened"

    reason: Reason
    complaint_ids: ComplaintIds = ()
    escalation_event_id: EventId


@registry.register
class CaseAccepted(CaseEvent):
    """Accepted (受理): the one-month clock starts; ``due_at`` is when mediation should be finished."""

    subject_token: ClassVar[str] = "accepted"

    due_at: UtcDatetime


@registry.register
class CaseDeclined(CaseEvent):
    """Not accepted (不予受理). Always followed, in the same command, by ``CaseEndedWithoutAgreement``."""

    subject_token: ClassVar[str] = "declined"

    reason: Reason


@registry.register
class CaseDeadlineExtended(CaseEvent):
    """The parties agreed to take longer than the month."""

    subject_token: ClassVar[str] = "deadline_extended"

    due_at: UtcDatetime
    previous_due_at: UtcDatetime
    reason: Reason


# --- people --------------------------------------------------------------------------------------------------------


@registry.register
class MediatorAssigned(CaseEvent):
    subject_token: ClassVar[str] = "mediator_assigned"

    mediator: Mediator


@registry.register
class MediatorReassigned(CaseEvent):
    subject_token: ClassVar[str] = "mediator_reassigned"

    mediator: Mediator
    previous_mediator: Mediator
    reason: OptionalText = ""


@registry.register
class PartyAdded(CaseEvent):
    subject_token: ClassVar[str] = "party_added"

    party: Party


@registry.register
class PartyRemoved(CaseEvent):
    subject_token: ClassVar[str] = "party_removed"

    party_id: Identifier
    reason: Reason


@registry.register
class PartyInformedOfRights(CaseEvent):
    """The party was told their rights and duties in mediation (告知权利义务), as the law requires."""

    subject_token: ClassVar[str] = "rights_informed"

    party_id: Identifier
    note: OptionalText = ""  # how: "书面告知书已签收", "口头告知"


# A SHA-256 digest in lower-case hex: what the case keeps of a party's access secret.
TokenDigest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


@registry.register
class PartyAccessGranted(CaseEvent):
    """The desk gave a party their own access to the case (a secret token or link, handed to them once). Only the
    secret's SHA-256 is recorded; the access ends at ``expires_at`` at the latest (see ``domain.access``)."""

    subject_token: ClassVar[str] = "party_access_granted"

    access_id: Identifier
    party_id: Identifier
    token_sha256: TokenDigest
    expires_at: UtcDatetime


@registry.register
class PartyAccessRevoked(CaseEvent):
    """The access no longer works (the secret was lost, shared, or is no longer needed)."""

    subject_token: ClassVar[str] = "party_access_revoked"

    access_id: Identifier
    party_id: Identifier
    reason: Reason


# --- consultation meetings -----------------------------------------------------------------------------------------


@registry.register
class MeetingScheduled(CaseEvent):
    subject_token: ClassVar[str] = "meeting_scheduled"

    meeting_id: Identifier
    place: Place
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    agenda: Annotated[tuple[Text, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("a meeting ends after it starts")
        return self


@registry.register
class MeetingRescheduled(CaseEvent):
    """New time (and place); the invitations stand, the RSVPs given for the old time are cleared."""

    subject_token: ClassVar[str] = "meeting_rescheduled"

    meeting_id: Identifier
    place: Place
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    reason: Reason

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("a meeting ends after it starts")
        return self


@registry.register
class MeetingCancelled(CaseEvent):
    subject_token: ClassVar[str] = "meeting_cancelled"

    meeting_id: Identifier
    reason: Reason


@registry.register
class PartiesInvited(CaseEvent):
    subject_token: ClassVar[str] = "parties_invited"

    meeting_id: Identifier
    party_ids: PartyIds

    @model_validator(mode="after")
    def _once_each(self) -> Self:
        _unique(self.party_ids, "party_ids")
        return self


@registry.register
class RsvpRecorded(CaseEvent):
    """An invited party's answer; a later answer replaces an earlier one."""

    subject_token: ClassVar[str] = "rsvp_recorded"

    meeting_id: Identifier
    party_id: Identifier
    rsvp: Rsvp


@registry.register
class AttendanceRecorded(CaseEvent):
    """Whether a party actually came; a later record for the same party corrects an earlier one."""

    subject_token: ClassVar[str] = "attendance_recorded"

    meeting_id: Identifier
    party_id: Identifier
    attended: bool


@registry.register
class MinutesRecorded(CaseEvent):
    """The meeting's minutes (会议记录); the meeting counts as held."""

    subject_token: ClassVar[str] = "minutes_recorded"

    meeting_id: Identifier
    minutes: LongText


# --- the agreement -------------------------------------------------------------------------------------------------


class _AgreementText(CaseEvent):
    """The whole text of an agreement: who, the facts, the issues, the terms. Not registered itself."""

    agreement_id: Identifier
    revision: Revision
    party_ids: Annotated[tuple[Identifier, ...], Field(min_length=2)]
    facts: LongText
    issues: Annotated[tuple[Text, ...], Field(min_length=1)]
    terms: Annotated[tuple[Term, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _unique(self.party_ids, "party_ids")
        _unique(tuple(term.term_id for term in self.terms), "term ids")
        if any(term.obligor not in self.party_ids for term in self.terms):
            raise ValueError("every term's obligor must be a party of the agreement")
        return self


@registry.register
class AgreementDrafted(_AgreementText):
    subject_token: ClassVar[str] = "agreement_drafted"


@registry.register
class AgreementAmended(_AgreementText):
    """The complete new text (revision + 1), replacing the old; only before anyone signed."""

    subject_token: ClassVar[str] = "agreement_amended"

    reason: Reason


@registry.register
class AgreementDiscarded(CaseEvent):
    """The draft (and any signatures under it) is void; a new agreement may be drafted."""

    subject_token: ClassVar[str] = "agreement_discarded"

    agreement_id: Identifier
    reason: Reason


@registry.register
class AgreementSigned(CaseEvent):
    """One party signed revision ``revision`` of the agreement."""

    subject_token: ClassVar[str] = "agreement_signed"

    agreement_id: Identifier
    revision: Revision
    party_id: Identifier


@registry.register
class AgreementTookEffect(CaseEvent):
    """Every party named in the agreement signed: it is in effect and each term is now an obligation.

    Recorded by the same command as the last signature. Contract with the complaints service: ``complaint_ids`` are
    all the complaints of the case. ``confirmation_window_ends_at`` is the last instant to apply for judicial
    confirmation.
    """

    subject_token: ClassVar[str] = "agreement_took_effect"

    agreement_id: Identifier
    complaint_ids: ComplaintIds
    confirmation_window_ends_at: UtcDatetime


@registry.register
class AgreementPosted(CaseEvent):
    """Posted publicly (公示), e.g. on the compound's notice board, until ``until`` when that is known."""

    subject_token: ClassVar[str] = "agreement_posted"

    agreement_id: Identifier
    place: Place
    until: UtcDatetime | None = None


@registry.register
class JudicialConfirmationApplied(CaseEvent):
    """The parties of the agreement applied together to a court for judicial confirmation (司法确认)."""

    subject_token: ClassVar[str] = "judicial_confirmation_applied"

    agreement_id: Identifier
    court: OrganisationName
    party_ids: PartyIds
    reference: Reference | None = None


@registry.register
class JudicialConfirmationDecided(CaseEvent):
    subject_token: ClassVar[str] = "judicial_confirmation_decided"

    agreement_id: Identifier
    outcome: JudicialOutcome
    remark: OptionalText = ""


# --- obligations ---------------------------------------------------------------------------------------------------


@registry.register
class ObligationFulfilled(CaseEvent):
    """The obligation of term ``term_id`` was carried out: shown by ``evidence``, or by another service's event."""

    subject_token: ClassVar[str] = "obligation_fulfilled"

    term_id: Identifier
    evidence: OptionalText = ""
    by_event: ExternalEventRef | None = None

    @model_validator(mode="after")
    def _shown_somehow(self) -> Self:
        if not self.evidence and self.by_event is None:
            raise ValueError("a fulfilment needs evidence or the event that fulfilled it")
        return self


@registry.register
class ObligationMarkedOverdue(CaseEvent):
    """The obligation was still open after ``due_at``. Recorded at most once per due instant; the obligor is chased
    and the mediator told (by the application)."""

    subject_token: ClassVar[str] = "obligation_overdue"

    term_id: Identifier
    obligor: Identifier
    due_at: UtcDatetime


@registry.register
class ObligationDueDateExtended(CaseEvent):
    """The parties agreed a later due instant for an open obligation."""

    subject_token: ClassVar[str] = "obligation_extended"

    term_id: Identifier
    due_at: UtcDatetime
    previous_due_at: UtcDatetime
    reason: Reason


@registry.register
class ObligationWaived(CaseEvent):
    """The parties agreed that the obligation need not be carried out."""

    subject_token: ClassVar[str] = "obligation_waived"

    term_id: Identifier
    reason: Reason


@registry.register
class FollowUpVisitRecorded(CaseEvent):
    """A follow-up visit (回访) on how the agreement is being carried out, and how satisfied the party is."""

    subject_token: ClassVar[str] = "follow_up_recorded"

    performance: Text
    party_id: Identifier | None = None  # who was visited, when it was one party
    satisfaction: Annotated[int, Field(ge=SATISFACTION_MIN, le=SATISFACTION_MAX)] | None = None


# --- the end -------------------------------------------------------------------------------------------------------


@registry.register
class CaseClosed(CaseEvent):
    """Every obligation of the agreement was fulfilled or waived."""

    subject_token: ClassVar[str] = "closed"

    summary: OptionalText = ""


@registry.register
class CaseEndedWithoutAgreement(CaseEvent):
    """Mediation ended with no agreement in effect (also when the case was declined), and the parties were told their
    routes. Contract with the complaints service: ``complaint_ids`` are all the complaints of the case."""

    subject_token: ClassVar[str] = "ended_without_agreement"

    complaint_ids: ComplaintIds
    reason: Reason
    routes_advised: Routes

    @model_validator(mode="after")
    def _once_each(self) -> Self:
        _unique(self.routes_advised, "routes_advised")
        return self
