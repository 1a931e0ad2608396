"""The shapes of the complaints API: what clients send, what they get back."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from complaints.domain import Assignee, CallBackOutcome, Channel, Priority
from complaints.domain.identifiers import Identifier
from complaints.domain.mediation import PartyRole
from complaints.domain.notes import NoteVisibility

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PhoneNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 \-]{4,30}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reporter(Strict):
    """The resident who complains. Sealed with their own key before it is stored; erasable on request."""

    name: PersonName | None = None
    phone: PhoneNumber | None = None


class FileComplaint(Strict):
    category_code: Identifier
    description: LongText
    channel: Channel
    compound_id: Identifier
    building: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    priority: Priority = Priority.NORMAL
    hotline_reference: str | None = Field(default=None, max_length=40)
    answers: dict[str, Any] = Field(default_factory=dict)
    reporter: Reporter = Field(default_factory=Reporter)


class Assign(Strict):
    assignee: Assignee
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class AddNote(Strict):
    text: LongText
    visibility: NoteVisibility = NoteVisibility.INTERNAL


class RequestInformation(Strict):
    question: LongText


class RecordInformation(Strict):
    answer: LongText


class RequestExtension(Strict):
    reason: ShortText
    requested_due_at: AwareDatetime


class ApproveExtension(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class RefuseExtension(Strict):
    reason: ShortText


class Resolve(Strict):
    resolution_note: LongText


class RecordCallBack(Strict):
    outcome: CallBackOutcome
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None = None
    remark: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class Withdraw(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class MarkDuplicate(Strict):
    duplicate_of: Identifier


class LinkToCase(Strict):
    case_id: Identifier


class NamedParty(Strict):
    """A party the handler names for mediation: an organisation by its name, or a resident (sealed)."""

    role: PartyRole
    organisation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    person_name: PersonName | None = None


class Escalate(Strict):
    reason: ShortText
    parties: Annotated[list[NamedParty], Field(min_length=1, max_length=50)]


class EraseReporter(Strict):
    reason: ShortText


class ComplaintView(BaseModel):
    """A complaint as the desk sees it in lists. Personal data is not in it (see ``/reporter``)."""

    complaint_id: str
    case_id: str
    status: str
    open311_status: str
    category_code: str
    compound_id: str
    building: str | None
    unit: str | None
    channel: str
    hotline_reference: str | None
    priority: str
    description: str
    assignee_kind: str | None
    assignee_id: str | None
    assignee_name: str | None
    deadline_number: int
    due_at: datetime
    paused: bool
    overdue: bool
    filed_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_outcome: str | None
    satisfaction: int | None
    reopen_count: int
    escalated: bool
    agreement_id: str | None
    duplicate_of: str | None
    reporter_ref: str
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


class ComplaintDetail(ComplaintView):
    history: list[HistoryEntry]


class ComplaintPage(BaseModel):
    items: list[ComplaintView]
    total: int
    page: int
    page_size: int


class ReporterDetails(BaseModel):
    reporter_ref: str
    name: str | None
    phone: str | None
    erased: bool


class StatisticsRow(BaseModel):
    group: str
    received: int
    open: int
    overdue: int
    """Complaints marked overdue, plus those still open and already late."""
    resolved: int
    closed: int
    median_hours_to_resolve: float | None
    closure_rate: float | None
    called_back: int
    really_resolved: int
    real_resolution_rate: float | None
    """Share of called-back complaints the resident confirmed fixed: the rate that counts."""
    average_satisfaction: float | None


class Statistics(BaseModel):
    group_by: str
    rows: list[StatisticsRow]
    total: StatisticsRow
