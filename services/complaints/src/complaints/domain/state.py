"""A complaint's state: nothing but the fold of its events.

``apply`` trusts the events (they are facts already checked by the commands that made them) and only refuses what
cannot be a complaint's history at all: events before the filing, a second filing, another complaint's events.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from complaints.domain.assignment import Assignee
from complaints.domain.callback import CallBackOutcome
from complaints.domain.channels import Channel
from complaints.domain.deadlines import DeadlineClock, DeadlineRule, Priority
from complaints.domain.errors import HistoryError
from complaints.domain.events import (
    CallBackRecorded,
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintEscalatedToMediation,
    ComplaintEvent,
    ComplaintFiled,
    ComplaintLinkedToCase,
    ComplaintMarkedDuplicate,
    ComplaintMarkedOverdue,
    ComplaintReassigned,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResolvedByAgreement,
    ComplaintReturnedFromMediation,
    ComplaintWithdrawn,
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    InformationReceived,
    InformationRequested,
    NoteAdded,
)
from complaints.domain.questions import AnswerValue
from complaints.domain.status import TERMINAL, Open311Status, Status, open311_status
from jinlin.events import DomainEvent


@dataclass(frozen=True)
class PendingExtension:
    reason: str
    requested_due_at: datetime
    requested_at: datetime


@dataclass(frozen=True)
class CallBack:
    outcome: CallBackOutcome
    satisfaction: int | None
    at: datetime


@dataclass(frozen=True)
class ComplaintState:
    complaint_id: str
    # The caseid of the complaint's next event: its own id until it is linked into a case (or joins one as a
    # duplicate).
    case_id: str
    status: Status
    # How many events were folded: the stream version to expect when appending the next ones.
    version: int

    category_code: str
    answers: Mapping[str, AnswerValue]
    description: str
    channel: Channel
    hotline_reference: str | None
    priority: Priority
    deadline_rule: DeadlineRule  # after the priority; fresh deadlines (reopen, return) use it again
    compound_id: str
    building: str | None
    unit: str | None
    reporter_ref: str
    reporter_name_enc: str | None
    reporter_phone_enc: str | None

    filed_at: datetime
    updated_at: datetime  # of the last event; commands may not go back before it
    clock: DeadlineClock

    acknowledged_at: datetime | None = None
    assignee: Assignee | None = None
    pending_extension: PendingExtension | None = None
    resolution_note: str | None = None
    resolved_at: datetime | None = None  # of the current resolution; cleared when the call-back reopens it
    last_call_back: CallBack | None = None
    reopen_count: int = 0
    escalation_count: int = 0
    escalated_at: datetime | None = None  # of the latest escalation
    agreement_id: str | None = None
    duplicate_of: str | None = None
    closed_at: datetime | None = None  # when it ended for good: closed, withdrawn or marked duplicate

    @property
    def open311_status(self) -> Open311Status:
        return open311_status(self.status)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def in_own_case(self) -> bool:
        return self.case_id == self.complaint_id

    @property
    def handling_status(self) -> Status:
        """Where the complaint stands when it is (back) on the handling desk."""
        return Status.ASSIGNED if self.assignee is not None else Status.ACKNOWLEDGED


def _filed(event: ComplaintFiled) -> ComplaintState:
    return ComplaintState(
        complaint_id=event.complaint_id,
        case_id=event.complaint_id,
        status=Status.FILED,
        version=1,
        category_code=event.category_code,
        answers=dict(event.answers),
        description=event.description,
        channel=event.channel,
        hotline_reference=event.hotline_reference,
        priority=event.priority,
        deadline_rule=event.deadline_rule,
        compound_id=event.compound_id,
        building=event.building,
        unit=event.unit,
        reporter_ref=event.reporter_ref,
        reporter_name_enc=event.reporter_name_enc,
        reporter_phone_enc=event.reporter_phone_enc,
        filed_at=event.occurred_at,
        updated_at=event.occurred_at,
        clock=DeadlineClock(number=1, due_at=event.due_at),
    )


def _new_deadline(state: ComplaintState, number: int, due_at: datetime) -> DeadlineClock:
    if number != state.clock.number + 1:
        raise HistoryError(f"deadline {number} follows deadline {state.clock.number}")
    return state.clock.next(due_at)


def _evolve(state: ComplaintState, event: DomainEvent) -> ComplaintState:
    match event:
        case ComplaintAcknowledged():
            return replace(state, status=Status.ACKNOWLEDGED, acknowledged_at=event.occurred_at)
        case ComplaintAssigned() | ComplaintReassigned():
            # Assigning dispatches an accepted complaint; elsewhere it only changes hands.
            status = Status.ASSIGNED if state.status is Status.ACKNOWLEDGED else state.status
            return replace(state, assignee=event.assignee, status=status)
        case NoteAdded():
            return state
        case InformationRequested():
            return replace(state, status=Status.AWAITING_INFORMATION, clock=state.clock.pause(event.occurred_at))
        case InformationReceived():
            clock = _new_deadline(state, event.deadline_number, event.due_at)
            return replace(state, status=state.handling_status, clock=clock)
        case ExtensionRequested():
            pending = PendingExtension(event.reason, event.requested_due_at, event.occurred_at)
            return replace(state, pending_extension=pending)
        case ExtensionApproved():
            clock = _new_deadline(state, event.deadline_number, event.due_at)
            return replace(state, clock=clock, pending_extension=None)
        case ExtensionRefused():
            return replace(state, pending_extension=None)
        case ComplaintResolved():
            return replace(
                state,
                status=Status.RESOLVED,
                resolution_note=event.resolution_note,
                resolved_at=event.occurred_at,
                pending_extension=None,
            )
        case CallBackRecorded():
            return replace(state, last_call_back=CallBack(event.outcome, event.satisfaction, event.occurred_at))
        case ComplaintClosed():
            return replace(state, status=Status.CLOSED, closed_at=event.occurred_at)
        case ComplaintReopened():
            return replace(
                state,
                status=state.handling_status,
                clock=_new_deadline(state, event.deadline_number, event.due_at),
                reopen_count=state.reopen_count + 1,
                resolution_note=None,
                resolved_at=None,
            )
        case ComplaintWithdrawn():
            return replace(state, status=Status.WITHDRAWN, closed_at=event.occurred_at, pending_extension=None)
        case ComplaintMarkedOverdue():
            if event.deadline_number != state.clock.number:
                raise HistoryError(f"overdue for deadline {event.deadline_number}, in force is {state.clock.number}")
            return replace(state, clock=replace(state.clock, overdue_marked=True))
        case ComplaintMarkedDuplicate():
            return replace(
                state,
                status=Status.DUPLICATE,
                duplicate_of=event.duplicate_of,
                case_id=event.case_id,
                closed_at=event.occurred_at,
                pending_extension=None,
            )
        case ComplaintLinkedToCase():
            return replace(state, case_id=event.case_id)
        case ComplaintEscalatedToMediation():
            return replace(
                state,
                status=Status.ESCALATED,
                escalation_count=state.escalation_count + 1,
                escalated_at=event.occurred_at,
            )
        case ComplaintResolvedByAgreement():
            return replace(
                state,
                status=Status.RESOLVED_BY_AGREEMENT,
                agreement_id=event.agreement_id,
                resolved_at=event.occurred_at,
                pending_extension=None,
            )
        case ComplaintReturnedFromMediation():
            return replace(
                state,
                status=state.handling_status,
                clock=_new_deadline(state, event.deadline_number, event.due_at),
                pending_extension=None,
            )
        case _:
            raise HistoryError(f"{type(event).__name__} is not a complaint event")


def apply(state: ComplaintState | None, event: DomainEvent) -> ComplaintState:
    """The state after ``event``; ``state`` is ``None`` before the first (filing) event."""
    if state is None:
        if not isinstance(event, ComplaintFiled):
            raise HistoryError(f"a complaint's history starts with ComplaintFiled, not {type(event).__name__}")
        return _filed(event)
    if isinstance(event, ComplaintFiled):
        raise HistoryError(f"complaint {state.complaint_id} was already filed")
    if not isinstance(event, ComplaintEvent) or event.complaint_id != state.complaint_id:
        raise HistoryError(f"event {type(event).__name__} does not belong to complaint {state.complaint_id}")
    evolved = _evolve(state, event)
    return replace(evolved, version=state.version + 1, updated_at=event.occurred_at)


def apply_all(state: ComplaintState | None, events: Iterable[DomainEvent]) -> ComplaintState | None:
    for event in events:
        state = apply(state, event)
    return state


def replay(events: Iterable[DomainEvent]) -> ComplaintState:
    """A complaint rebuilt from its whole history."""
    state = apply_all(None, events)
    if state is None:
        raise HistoryError("a complaint's history cannot be empty")
    return state
