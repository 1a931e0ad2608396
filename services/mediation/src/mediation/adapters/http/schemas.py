"""The shapes of the mediation API: what clients send, what they get back.

Instants sent by clients must carry a UTC offset and lie between the years 2000 and 2200: a date like year 9999 is
a typo, and near the ends of the calendar converting it to UTC would overflow.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from mediation.domain import AccessStatus, ExternalFulfilment, JudicialOutcome, PartyKind, Route, Rsvp
from mediation.domain.identifiers import Identifier

MIN_YEAR, MAX_YEAR = 2000, 2200


def _plausible(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must lie between the years {MIN_YEAR} and {MAX_YEAR}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_plausible)]


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Organisation = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DirectOrigin(StrEnum):
    """How a case comes in other than from the complaints desk (whose referrals arrive as events)."""

    PARTY_APPLICATION = "party_application"
    STREET_OFFICE_REFERRAL = "street_office_referral"
    COURT_REFERRAL = "court_referral"


class NamedParty(Strict):
    """A party: an organisation by its name, or a person whose name is sealed before it is stored."""

    kind: PartyKind
    organisation: Organisation | None = None
    person_name: PersonName | None = None


class ApplyForMediation(Strict):
    origin: DirectOrigin
    reason: Reason
    parties: Annotated[list[NamedParty], Field(min_length=1, max_length=50)]
    applicant: Annotated[int, Field(ge=0, lt=50)] | None = Field(
        default=None, description="For a party's application: the applicant's index in `parties` (0 = the first)."
    )
    referred_by: Organisation | None = Field(
        default=None, description="The street office or court that referred the case."
    )
    referral_reference: Reference | None = Field(
        default=None, description="The referrer's own reference, e.g. a court's docket number."
    )
    compound_id: Identifier | None = None


class Decline(Strict):
    reason: Reason
    routes_advised: Annotated[list[Route], Field(min_length=1, max_length=4)]


class ExtendDeadline(Strict):
    due_at: Instant
    reason: Reason


class RemoveParty(Strict):
    reason: Reason


class InformOfRights(Strict):
    note: OptionalText = ""


class GrantPartyAccess(Strict):
    valid_days: Annotated[int, Field(ge=1, le=365)] = Field(
        default=90,
        description="How long the access works at most; it also ends 90 days after the case ended, when the party "
        "leaves the case, or when it is revoked.",
    )


class RevokePartyAccess(Strict):
    reason: Reason


class MediatorIn(Strict):
    id: Identifier
    name: PersonName


class AssignMediator(Strict):
    mediator: MediatorIn
    reason: OptionalText = ""


class ScheduleMeeting(Strict):
    place: Place
    starts_at: Instant
    ends_at: Instant
    agenda: Annotated[list[Text], Field(min_length=1, max_length=50)]


class RescheduleMeeting(Strict):
    starts_at: Instant
    ends_at: Instant
    place: Place | None = None
    reason: Reason


class CancelMeeting(Strict):
    reason: Reason


class InviteParties(Strict):
    party_ids: Annotated[list[Identifier], Field(min_length=1, max_length=50)]


class RecordRsvp(Strict):
    party_id: Identifier
    rsvp: Rsvp


class RecordAttendance(Strict):
    party_id: Identifier
    attended: StrictBool


class RecordMinutes(Strict):
    minutes: LongText


class TermIn(Strict):
    """One term: who (``obligor``, a party id) does what by when, and what shows it done; optionally the event of
    another service that fulfils it (see docs/events/README.md)."""

    term_id: Identifier
    obligor: Identifier
    what: Text
    due_at: Instant
    evidence_required: Text
    fulfilled_by: ExternalFulfilment | None = None


class DraftAgreement(Strict):
    party_ids: Annotated[list[Identifier], Field(min_length=2, max_length=50)]
    facts: LongText
    issues: Annotated[list[Text], Field(min_length=1, max_length=50)]
    terms: Annotated[list[TermIn], Field(min_length=1, max_length=100)]


class AmendAgreement(DraftAgreement):
    reason: Reason


class DiscardAgreement(Strict):
    reason: Reason


class SignAgreement(Strict):
    party_id: Identifier


class PostAgreement(Strict):
    place: Place
    until: Instant | None = None


class ApplyForConfirmation(Strict):
    court: Organisation
    reference: Reference | None = None


class RecordDecision(Strict):
    outcome: JudicialOutcome
    remark: OptionalText = ""


class FulfilObligation(Strict):
    evidence: Reason


class WaiveObligation(Strict):
    reason: Reason


class ExtendObligation(Strict):
    due_at: Instant
    reason: Reason


class RecordFollowUp(Strict):
    performance: Text
    party_id: Identifier | None = None
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None = None


class CloseCase(Strict):
    summary: OptionalText = ""


class EndWithoutAgreement(Strict):
    reason: Reason
    routes_advised: Annotated[list[Route], Field(min_length=1, max_length=4)]


# --- answers -------------------------------------------------------------------------------------------------------


class MediatorOut(BaseModel):
    id: str
    name: str


class PartyOut(BaseModel):
    party_id: str
    kind: str
    organisation: str | None
    person_ref: str | None
    name_sealed: bool
    """A person's name is held sealed (see ``GET /cases/{case_id}/parties`` for those entitled to read it)."""
    joined_at: datetime
    rights_informed_at: datetime | None


class MeetingOut(BaseModel):
    meeting_id: str
    place: str
    starts_at: datetime
    ends_at: datetime
    agenda: list[str]
    status: str
    invited: list[str]
    rsvps: dict[str, str]
    attendance: dict[str, bool]
    minutes: str | None
    cancellation_reason: str | None
    times_rescheduled: int


class FulfilmentOut(BaseModel):
    service: str
    event_type: str
    match: dict[str, Any]


class TermOut(BaseModel):
    term_id: str
    obligor: str
    what: str
    due_at: datetime
    evidence_required: str
    fulfilled_by: FulfilmentOut | None


class PostingOut(BaseModel):
    place: str
    posted_at: datetime
    until: datetime | None


class ConfirmationOut(BaseModel):
    court: str
    applied_at: datetime
    party_ids: list[str]
    reference: str | None
    outcome: str | None
    decided_at: datetime | None
    remark: str


class AgreementOut(BaseModel):
    agreement_id: str
    revision: int
    party_ids: list[str]
    facts: str
    issues: list[str]
    terms: list[TermOut]
    drafted_at: datetime
    signatures: dict[str, datetime]
    unsigned_party_ids: list[str]
    took_effect_at: datetime | None
    confirmation_deadline: datetime | None
    """The last instant to apply jointly for judicial confirmation (30 days after it took effect)."""
    postings: list[PostingOut]
    judicial_confirmation: ConfirmationOut | None


class ExternalEventOut(BaseModel):
    service: str
    event_type: str
    event_id: str


class ObligationOut(BaseModel):
    term_id: str
    obligor: str
    what: str
    evidence_required: str
    term_due_at: datetime
    due_at: datetime
    """In force: later than the term's when the parties agreed an extension."""
    status: str
    overdue: bool
    """Open and past its due instant now (whether or not the watcher has recorded it yet)."""
    times_marked_overdue: int
    settled_at: datetime | None
    evidence: str
    fulfilling_event: ExternalEventOut | None
    waiver_reason: str | None


class PartyAccessOut(BaseModel):
    """A party's access to the case, as the desk sees it (never its secret, which only its party holds)."""

    access_id: str
    party_id: str
    granted_at: datetime
    expires_at: datetime
    ends_at: datetime
    """When it stops working unless revoked first: its expiry, or 90 days after the case ended if sooner."""
    status: AccessStatus
    revoked_at: datetime | None
    revocation_reason: str | None


class PartyAccessIssued(BaseModel):
    """The answer to granting access: the token is in the first answer only, to hand to the party."""

    access_id: str
    case_id: str
    party_id: str
    expires_at: datetime
    ends_at: datetime
    token: str | None = Field(
        description="The party's secret (`jlp_…`), shown once: nothing keeps it, so a retry of the request (same "
        "Idempotency-Key) answers null. Lost? Revoke this access and grant a new one."
    )
    scheme: str = Field(default="Bearer", description="How the party sends it: 'Authorization: Bearer <token>'.")
    read_at: str = Field(description="Where the party reads their case with it.")


class FollowUpOut(BaseModel):
    at: datetime
    performance: str
    party_id: str | None
    satisfaction: int | None


class CaseSummary(BaseModel):
    """A case as the board shows it."""

    case_id: str
    status: str
    origin: str
    compound_id: str | None
    category_code: str | None
    complaint_ids: list[str]
    mediator_id: str | None
    mediator_name: str | None
    opened_at: datetime
    accepted_at: datetime | None
    due_at: datetime | None
    """The end of the month to mediate (or of the extension the parties agreed)."""
    next_deadline: datetime | None
    past_its_month: bool
    overdue_obligations: int
    open_obligations: int
    ended_at: datetime | None
    agreement_id: str | None
    version: int
    updated_at: datetime


class CaseView(BaseModel):
    """A case in full, as its events make it (the answer of every command)."""

    case_id: str
    status: str
    origin: str
    reason: str
    compound_id: str | None
    category_code: str | None
    complaint_ids: list[str]
    applicant_party_id: str | None
    referred_by: str | None
    referral_reference: str | None
    rounds: int
    mediator: MediatorOut | None
    opened_at: datetime
    accepted_at: datetime | None
    due_at: datetime | None
    next_deadline: datetime | None
    past_its_month: bool
    overdue_obligations: int
    parties: list[PartyOut]
    meetings: list[MeetingOut]
    agreement: AgreementOut | None
    obligations: list[ObligationOut]
    follow_up_visits: list[FollowUpOut]
    party_access: list[PartyAccessOut]
    decline_reason: str | None
    end_reason: str | None
    routes_advised: list[str]
    ended_at: datetime | None
    summary: str
    version: int
    updated_at: datetime


class HistoryEntry(BaseModel):
    sequence: int
    version: int
    type: str
    time: datetime
    actor: str
    causationid: str
    caseid: str
    data: dict[str, Any]
    """The event's data; sealed names are left out (they mean nothing to a reader)."""


class CaseDetail(CaseView):
    history: list[HistoryEntry]


class BoardPage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class UpcomingMeeting(BaseModel):
    case_id: str
    meeting_id: str
    place: str
    starts_at: datetime
    ends_at: datetime
    agenda: list[str]
    invited: list[str]
    rsvps: dict[str, str]
    attendance: dict[str, bool]
    times_rescheduled: int
    compound_id: str | None
    mediator_id: str | None
    mediator_name: str | None


class ObligationRow(BaseModel):
    case_id: str
    term_id: str
    agreement_id: str
    obligor: str
    obligor_kind: str
    obligor_organisation: str | None
    obligor_person_ref: str | None
    what: str
    evidence_required: str
    term_due_at: datetime
    due_at: datetime
    status: str
    overdue: bool
    times_marked_overdue: int
    settled_at: datetime | None
    evidence: str
    fulfilled_by_service: str | None
    fulfilled_by_type: str | None
    fulfilled_by_match: dict[str, Any] | None
    fulfilling_event_id: str | None
    compound_id: str | None
    mediator_id: str | None
    case_status: str


class ObligationPage(BaseModel):
    items: list[ObligationRow]
    total: int
    page: int
    page_size: int


class PartyDetailsOut(BaseModel):
    party_id: str
    kind: str
    organisation: str | None
    person_ref: str | None
    name: str | None
    """A person's name, opened for a mediator or supervisor when this service sealed it and its key still exists."""
    name_withheld: bool
    """A sealed name that is not shown: the reader is not entitled, the key is another service's, or erased."""
    joined_at: datetime
    rights_informed_at: datetime | None


class StatisticsRow(BaseModel):
    group: str
    cases_opened: int
    being_mediated: int
    settled_by_agreement: int
    """Cases whose agreement took effect (in effect or closed)."""
    closed: int
    ended_without_agreement: int
    declined: int
    median_days_to_agreement: float | None
    """From acceptance to the agreement taking effect."""
    obligations: int
    obligations_fulfilled: int
    obligations_fulfilled_on_time: int
    """Fulfilled no later than the due instant in force."""
    obligations_waived: int
    obligations_overdue: int
    """Open and already late now."""
    on_time_rate: float | None
    """Fulfilled on time ÷ (fulfilled + open and late)."""


class Statistics(BaseModel):
    group_by: str
    rows: list[StatisticsRow]
    total: StatisticsRow
