"""The complaint's events: the facts the desk records, in the past tense, versioned, registered for decoding.

Every event names its complaint and the instant it happened (``occurred_at``, passed in by the command: the domain
never reads a clock). Events that start a new deadline carry it in full (number and due instant), so a reader never
needs the catalogue or the deadline rules to know when a complaint is due. Residents' personal data appears only as
``*_enc`` ciphertext and person references (see ``personal_data``).

NATS subject of each: ``jinlin.complaints.complaint.<complaint_id>.<subject_token>``. (The ``noqa: S105`` on each
``subject_token`` is for bandit's guess that a name containing "token" holds a secret; a subject token is public.)
"""

from typing import Annotated, ClassVar, Final

from pydantic import Field, StringConstraints

from complaints.domain.assignment import Assignee
from complaints.domain.callback import SATISFACTION_MAX, SATISFACTION_MIN, CallBackOutcome
from complaints.domain.channels import Channel, HotlineReference
from complaints.domain.deadlines import DeadlineRule, Priority
from complaints.domain.identifiers import Identifier
from complaints.domain.mediation import MediationParty
from complaints.domain.notes import NoteVisibility
from complaints.domain.personal_data import Ciphertext, PersonRef
from complaints.domain.questions import AnswerValue
from complaints.domain.utc import UtcDatetime
from jinlin.events import DomainEvent, EventRegistry

SERVICE: Final = "complaints"
AGGREGATE: Final = "complaint"  # the aggregate token of the NATS subject and of the store's stream

registry = EventRegistry(SERVICE)

TEXT_MAX: Final = 4000
REASON_MAX: Final = 2000

# Free text written by the desk or the resident: trimmed, never empty.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX)]
OptionalReason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=REASON_MAX)]
# A building or unit as residents write it: "3栋", "2单元301".
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
DeadlineNumber = Annotated[int, Field(ge=1)]


class ComplaintEvent(DomainEvent):
    """What every complaint event carries. Not registered itself: only its concrete subclasses are."""

    complaint_id: Identifier
    occurred_at: UtcDatetime


@registry.register
class ComplaintFiled(ComplaintEvent):
    """A complaint was received. Its case is its own (``caseid`` = ``complaint_id``) until it is linked into another.

    ``deadline_rule`` is the rule in force after the priority was applied; ``due_at`` is deadline number 1.
    """

    subject_token: ClassVar[str] = "filed"

    category_code: Identifier
    answers: dict[Identifier, AnswerValue]
    description: Text
    channel: Channel
    hotline_reference: HotlineReference | None = None
    priority: Priority
    deadline_rule: DeadlineRule
    due_at: UtcDatetime
    compound_id: Identifier
    building: Place | None = None
    unit: Place | None = None
    reporter_ref: PersonRef
    reporter_name_enc: Ciphertext | None = None
    reporter_phone_enc: Ciphertext | None = None


@registry.register
class ComplaintAcknowledged(ComplaintEvent):
    """The desk accepted the complaint (受理)."""

    subject_token: ClassVar[str] = "acknowledged"


@registry.register
class ComplaintAssigned(ComplaintEvent):
    """The complaint was given to its first assignee."""

    subject_token: ClassVar[str] = "assigned"

    assignee: Assignee


@registry.register
class ComplaintReassigned(ComplaintEvent):
    subject_token: ClassVar[str] = "reassigned"

    assignee: Assignee
    previous_assignee: Assignee
    reason: OptionalReason = ""


@registry.register
class NoteAdded(ComplaintEvent):
    subject_token: ClassVar[str] = "note_added"

    text: Text
    visibility: NoteVisibility


@registry.register
class InformationRequested(ComplaintEvent):
    """The resident was asked for information; the deadline clock stopped at ``occurred_at``."""

    subject_token: ClassVar[str] = "information_requested"

    question: Text


@registry.register
class InformationReceived(ComplaintEvent):
    """The resident answered; the clock runs again and the deadline moved later by the time it stood still."""

    subject_token: ClassVar[str] = "information_received"

    answer: Text
    deadline_number: DeadlineNumber
    due_at: UtcDatetime


@registry.register
class ExtensionRequested(ComplaintEvent):
    subject_token: ClassVar[str] = "extension_requested"

    reason: Reason
    requested_due_at: UtcDatetime


@registry.register
class ExtensionApproved(ComplaintEvent):
    """A supervisor approved the pending extension: it is the new deadline."""

    subject_token: ClassVar[str] = "extension_approved"

    deadline_number: DeadlineNumber
    due_at: UtcDatetime
    note: OptionalReason = ""


@registry.register
class ExtensionRefused(ComplaintEvent):
    subject_token: ClassVar[str] = "extension_refused"

    reason: Reason


@registry.register
class ComplaintResolved(ComplaintEvent):
    """The handler resolved it; the call-back is now due."""

    subject_token: ClassVar[str] = "resolved"

    resolution_note: Text


@registry.register
class CallBackRecorded(ComplaintEvent):
    """The resident was called back (回访). Followed in the same command by ComplaintClosed or ComplaintReopened."""

    subject_token: ClassVar[str] = "called_back"

    outcome: CallBackOutcome
    satisfaction: Annotated[int, Field(ge=SATISFACTION_MIN, le=SATISFACTION_MAX)] | None = None
    remark: OptionalReason = ""


@registry.register
class ComplaintClosed(ComplaintEvent):
    """Closed by the call-back whose outcome it names."""

    subject_token: ClassVar[str] = "closed"

    outcome: CallBackOutcome


@registry.register
class ComplaintReopened(ComplaintEvent):
    """The call-back found it not (fully) fixed: back to the handler with a fresh deadline."""

    subject_token: ClassVar[str] = "reopened"

    outcome: CallBackOutcome
    deadline_number: DeadlineNumber
    due_at: UtcDatetime


@registry.register
class ComplaintWithdrawn(ComplaintEvent):
    subject_token: ClassVar[str] = "withdrawn"

    reason: OptionalReason = ""


@registry.register
class ComplaintMarkedOverdue(ComplaintEvent):
    """The deadline with this number passed while the complaint was being handled. Recorded once per deadline."""

    subject_token: ClassVar[str] = "marked_overdue"

    deadline_number: DeadlineNumber
    due_at: UtcDatetime


@registry.register
class ComplaintMarkedDuplicate(ComplaintEvent):
    """The same matter as ``duplicate_of``, which carries it on; it joins that complaint's case and ends here."""

    subject_token: ClassVar[str] = "marked_duplicate"

    duplicate_of: Identifier
    case_id: Identifier
    previous_case_id: Identifier


@registry.register
class ComplaintLinkedToCase(ComplaintEvent):
    """From this event on, the complaint's events carry ``case_id`` as their ``caseid``."""

    subject_token: ClassVar[str] = "linked_to_case"

    case_id: Identifier
    previous_case_id: Identifier


@registry.register
class ComplaintEscalatedToMediation(ComplaintEvent):
    """Enough for the mediation service to open a case from this event alone.

    When a case's complaints are escalated together, each of them records this event with the same ``case_id`` and
    ``complaint_ids``; the mediation service opens one case per ``case_id``.
    """

    subject_token: ClassVar[str] = "escalated_to_mediation"

    case_id: Identifier
    complaint_ids: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    compound_id: Identifier
    category_code: Identifier
    reason: Reason
    parties: Annotated[tuple[MediationParty, ...], Field(min_length=1)]


@registry.register
class ComplaintResolvedByAgreement(ComplaintEvent):
    """A mediation agreement was signed for the complaint's case; the call-back is pending."""

    subject_token: ClassVar[str] = "resolved_by_agreement"

    agreement_id: Identifier


@registry.register
class ComplaintReturnedFromMediation(ComplaintEvent):
    """The mediation case ended without agreement: back to the handler with a fresh deadline."""

    subject_token: ClassVar[str] = "returned_from_mediation"

    reason: OptionalReason = ""
    deadline_number: DeadlineNumber
    due_at: UtcDatetime
