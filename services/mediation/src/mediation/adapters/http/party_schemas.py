"""What a party reads of their own case (``GET /party/case``) and sends to answer an invitation.

A party sees what concerns them and what they are bound by: the case's state and deadlines, who the parties are
(organisations by name; people other than themselves withheld, and never a person reference, which would link them
across cases), the meetings they are invited to with their own answer, the agreement with its terms and signatures,
and each obligation's status. Not the minutes, the follow-up visits, the complaint ids or who at the desk did what:
those are the committee's record (``record.html``), which staff read.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mediation.adapters.http.schemas import ConfirmationOut, PostingOut
from mediation.domain import Rsvp


class PartyRsvp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rsvp: Rsvp


class YourAccess(BaseModel):
    access_id: str
    ends_at: datetime
    """When this access stops working unless it is revoked first."""


class PartyInCase(BaseModel):
    party_id: str
    kind: str
    name: str
    """The organisation's name; for a person, their own name (when it can be opened) or "（已脱敏）"."""
    you: bool


class YourMeeting(BaseModel):
    meeting_id: str
    place: str
    starts_at: datetime
    ends_at: datetime
    agenda: list[str]
    status: str
    cancellation_reason: str | None
    times_rescheduled: int
    your_rsvp: str | None
    you_attended: bool | None
    """Whether you were recorded as present (null until attendance is taken)."""
    may_answer: bool
    """Your answer can still be given or changed (POST .../rsvp): the meeting is planned and has not started."""


class TermForParty(BaseModel):
    term_id: str
    obligor: str
    obligor_name: str
    what: str
    due_at: datetime
    evidence_required: str
    yours: bool


class AgreementForParty(BaseModel):
    agreement_id: str
    revision: int
    in_effect: bool
    drafted_at: datetime
    party_ids: list[str]
    facts: str
    issues: list[str]
    terms: list[TermForParty]
    signatures: dict[str, datetime]
    unsigned_party_ids: list[str]
    took_effect_at: datetime | None
    confirmation_deadline: datetime | None
    """The last instant the parties may apply together for judicial confirmation (30 days after it took effect)."""
    postings: list[PostingOut]
    judicial_confirmation: ConfirmationOut | None
    document_html: str = Field(description="The printable agreement, read with the same token.")
    document_pdf: str


class ObligationForParty(BaseModel):
    term_id: str
    obligor: str
    obligor_name: str
    what: str
    due_at: datetime
    """In force (later than the term's when the parties agreed an extension)."""
    status: str
    overdue: bool
    settled_at: datetime | None
    evidence: str
    confirmed_by_service: str | None
    """The service whose event showed it done (e.g. escrow's payment of the arrears), when one did."""
    waiver_reason: str | None
    yours: bool


class PartyCaseView(BaseModel):
    """A party's own case."""

    case_id: str
    status: str
    reason: str
    compound_id: str | None
    opened_at: datetime
    accepted_at: datetime | None
    due_at: datetime | None
    """When mediation should be finished (one month from acceptance, or as the parties agreed)."""
    mediator: str | None
    """The people's mediator (人民调解员) conducting the case."""
    you: PartyInCase
    access: YourAccess
    parties: list[PartyInCase]
    meetings: list[YourMeeting]
    agreement: AgreementForParty | None
    obligations: list[ObligationForParty]
    decline_reason: str | None
    end_reason: str | None
    routes_advised: list[str]
    ended_at: datetime | None
    version: int
    updated_at: datetime
