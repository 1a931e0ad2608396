"""The complaint's commands: each checks the rules against the current state and returns the events to record.

A command never changes anything itself: it returns new events (to append to the complaint's stream, then fold
with ``state.apply``) or raises a ``DomainError``, in which case nothing is recorded. ``at`` is the instant the
command happens; it must be timezone-aware and not before the complaint's last event.

Which command is allowed when:

====================  ===========================================================================================
status                commands
====================  ===========================================================================================
filed                 acknowledge, add_note, withdraw, mark_overdue, mark_duplicate, link_to_case
acknowledged,         assign, add_note, request_information, request_extension (+ approve/refuse), resolve,
assigned              withdraw, mark_overdue, mark_duplicate, link_to_case, escalate_to_mediation
awaiting_information  assign, add_note, record_information, resolve, withdraw, mark_overdue, mark_duplicate,
                      link_to_case
escalated             assign, add_note, request_extension (+ approve/refuse), withdraw, mark_overdue,
                      record_mediation_agreement, return_from_mediation
resolved,             record_call_back, add_note, withdraw, link_to_case
resolved_by_agreement
closed, withdrawn,    nothing
duplicate
====================  ===========================================================================================

Further conditions: an extension can be requested only when none is pending, and information only when no extension
is pending (an extension's date would otherwise be shifted by a pause nobody foresaw); overdue is marked only when
late and once per deadline; a complaint changes case only while it is in its own case and was never escalated (the
mediation service knows it by that case id).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from complaints.domain.assignment import Assignee
from complaints.domain.callback import CallBackOutcome, closes
from complaints.domain.catalogue import Catalogue, Category
from complaints.domain.channels import Channel, needs_hotline_reference
from complaints.domain.deadlines import DeadlineRule, Priority, due_after, effective_rule, is_overdue
from complaints.domain.errors import InvalidTransition, Problem, ValidationFailed
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
from complaints.domain.mediation import MediationParty
from complaints.domain.notes import NoteVisibility
from complaints.domain.questions import AnswerValue
from complaints.domain.state import ComplaintState
from complaints.domain.status import DEADLINE_APPLIES, TERMINAL, Status
from complaints.domain.utc import require_utc

E = TypeVar("E", bound=ComplaintEvent)
EnumT = TypeVar("EnumT", bound=StrEnum)

NOT_ENDED: Final = frozenset(Status) - TERMINAL
HANDLING: Final = frozenset({Status.ACKNOWLEDGED, Status.ASSIGNED})
ACKNOWLEDGE_FROM: Final = frozenset({Status.FILED})
ASSIGN_FROM: Final = HANDLING | {Status.AWAITING_INFORMATION, Status.ESCALATED}
NOTE_FROM: Final = NOT_ENDED
REQUEST_INFORMATION_FROM: Final = HANDLING
RECORD_INFORMATION_FROM: Final = frozenset({Status.AWAITING_INFORMATION})
# Mediation takes time; the handler may ask for more while the case is in mediation.
EXTENSION_FROM: Final = HANDLING | {Status.ESCALATED}
# A handler may resolve without the answer the resident never gave.
RESOLVE_FROM: Final = HANDLING | {Status.AWAITING_INFORMATION}
CALL_BACK_FROM: Final = frozenset({Status.RESOLVED, Status.RESOLVED_BY_AGREEMENT})
WITHDRAW_FROM: Final = NOT_ENDED
OVERDUE_FROM: Final = DEADLINE_APPLIES
DUPLICATE_FROM: Final = frozenset({Status.FILED, Status.AWAITING_INFORMATION}) | HANDLING
LINK_FROM: Final = NOT_ENDED - {Status.ESCALATED}
ESCALATE_FROM: Final = HANDLING
FROM_MEDIATION: Final = frozenset({Status.ESCALATED})


# --- helpers -------------------------------------------------------------------------------------------------------


def _problems(error: ValidationError) -> list[Problem]:
    # Built from location and message only: pydantic's own text would quote the input, which may be personal data.
    return [
        Problem(".".join(str(part) for part in detail["loc"]) or "event", detail["msg"])
        for detail in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def _build(event_type: type[E], fields: Mapping[str, Any]) -> E:
    try:
        return event_type.model_validate(fields)
    except ValidationError as error:
        raise ValidationFailed(_problems(error)) from None


def _coerce(enum: type[EnumT], value: object, field: str, problems: list[Problem]) -> EnumT | None:
    if isinstance(value, str) and value in enum.__members__.values():
        return enum(value)
    problems.append(Problem(field, f"must be one of {', '.join(member.value for member in enum)}"))
    return None


def _begin(state: ComplaintState, command: str, allowed: frozenset[Status], at: datetime) -> datetime:
    """The common gate of every command on an existing complaint: allowed in this status, and ``at`` in order."""
    if state.status not in allowed:
        raise InvalidTransition(command, state.status)
    at = require_utc(at)
    if at < state.updated_at:
        raise ValidationFailed.single("at", "is before the complaint's last recorded event")
    return at


def _event(event_type: type[E], state: ComplaintState, at: datetime, **fields: Any) -> E:
    return _build(event_type, {"complaint_id": state.complaint_id, "occurred_at": at, **fields})


def _fresh_due_at(state: ComplaintState, at: datetime) -> datetime:
    """A whole new handling period by the complaint's rule, for when it comes back to the handler."""
    return due_after(state.deadline_rule, at)


# --- intake --------------------------------------------------------------------------------------------------------


def file_complaint(
    catalogue: Catalogue,
    *,
    complaint_id: str,
    category_code: str,
    answers: Mapping[str, object],
    description: str,
    channel: Channel,
    compound_id: str,
    reporter_ref: str,
    at: datetime,
    priority: Priority = Priority.NORMAL,
    hotline_reference: str | None = None,
    building: str | None = None,
    unit: str | None = None,
    reporter_name_enc: str | None = None,
    reporter_phone_enc: str | None = None,
) -> list[ComplaintEvent]:
    """Intake. The deadline (number 1) runs from ``at`` by the category's rule, made stricter by the priority.

    ``reporter_name_enc`` and ``reporter_phone_enc`` must already be ciphertext; every problem with the input is
    reported at once.
    """
    at = require_utc(at)
    problems: list[Problem] = []
    category: Category | None = None
    clean_answers: dict[str, AnswerValue] = {}
    try:
        category = catalogue.for_filing(category_code)
        clean_answers = category.validate_answers(answers)
    except ValidationFailed as failure:
        problems.extend(failure.problems)
    channel_ = _coerce(Channel, channel, "channel", problems)
    priority_ = _coerce(Priority, priority, "priority", problems)
    if channel_ is not None:
        if needs_hotline_reference(channel_) and not hotline_reference:
            problems.append(Problem("hotline_reference", "is required for a 12345 hotline referral"))
        if not needs_hotline_reference(channel_) and hotline_reference is not None:
            problems.append(Problem("hotline_reference", "is only for a 12345 hotline referral"))
    if unit is not None and building is None:
        problems.append(Problem("unit", "needs a building"))
    # With an unknown category or priority there is no rule; a stand-in lets the other fields still be checked.
    category_rule = category.deadline_rule if category is not None else DeadlineRule.GENERAL
    rule = effective_rule(category_rule, priority_ or Priority.NORMAL)
    fields = {
        "complaint_id": complaint_id,
        "occurred_at": at,
        "category_code": category_code,
        "answers": clean_answers,
        "description": description,
        "channel": channel,
        "hotline_reference": hotline_reference,
        "priority": priority,
        "deadline_rule": rule,
        "due_at": due_after(rule, at),
        "compound_id": compound_id,
        "building": building,
        "unit": unit,
        "reporter_ref": reporter_ref,
        "reporter_name_enc": reporter_name_enc,
        "reporter_phone_enc": reporter_phone_enc,
    }
    try:
        event = _build(ComplaintFiled, fields)
    except ValidationFailed as failure:
        # A field the checks above already reported (an unknown channel, say) is reported once.
        reported = {problem.field for problem in problems}
        problems.extend(problem for problem in failure.problems if problem.field not in reported)
    if problems:
        raise ValidationFailed(problems)
    return [event]


def acknowledge(state: ComplaintState, *, at: datetime) -> list[ComplaintEvent]:
    at = _begin(state, "acknowledge", ACKNOWLEDGE_FROM, at)
    return [_event(ComplaintAcknowledged, state, at)]


# --- handling ------------------------------------------------------------------------------------------------------


def assign(state: ComplaintState, *, assignee: Assignee, at: datetime, reason: str = "") -> list[ComplaintEvent]:
    """Assign (the first time) or reassign. An acknowledged complaint becomes assigned; elsewhere it changes hands."""
    at = _begin(state, "assign", ASSIGN_FROM, at)
    if state.assignee is None:
        return [_event(ComplaintAssigned, state, at, assignee=assignee)]
    if assignee.same_as(state.assignee):
        raise InvalidTransition("assign", state.status, "it is already assigned there")
    return [_event(ComplaintReassigned, state, at, assignee=assignee, previous_assignee=state.assignee, reason=reason)]


def add_note(state: ComplaintState, *, text: str, visibility: NoteVisibility, at: datetime) -> list[ComplaintEvent]:
    at = _begin(state, "add a note to", NOTE_FROM, at)
    return [_event(NoteAdded, state, at, text=text, visibility=visibility)]


def request_information(state: ComplaintState, *, question: str, at: datetime) -> list[ComplaintEvent]:
    """Ask the resident something; the deadline clock stops until the answer is recorded."""
    at = _begin(state, "request information on", REQUEST_INFORMATION_FROM, at)
    if state.pending_extension is not None:
        raise InvalidTransition("request information on", state.status, "an extension is awaiting a decision")
    return [_event(InformationRequested, state, at, question=question)]


def record_information(state: ComplaintState, *, answer: str, at: datetime) -> list[ComplaintEvent]:
    """The resident's answer: the clock runs again, the deadline later by the time it stood still (a new deadline)."""
    at = _begin(state, "record information on", RECORD_INFORMATION_FROM, at)
    clock = state.clock
    return [
        _event(
            InformationReceived,
            state,
            at,
            answer=answer,
            deadline_number=clock.number + 1,
            due_at=clock.resumed_due_at(at),
        )
    ]


def request_extension(
    state: ComplaintState, *, reason: str, requested_due_at: datetime, at: datetime
) -> list[ComplaintEvent]:
    at = _begin(state, "request an extension for", EXTENSION_FROM, at)
    requested_due_at = require_utc(requested_due_at, "requested_due_at")
    if requested_due_at <= state.clock.due_at:
        raise ValidationFailed.single("requested_due_at", "must be later than the deadline in force")
    if requested_due_at <= at:
        raise ValidationFailed.single("requested_due_at", "must be in the future")
    if state.pending_extension is not None:
        raise InvalidTransition("request an extension for", state.status, "an extension is already pending")
    return [_event(ExtensionRequested, state, at, reason=reason, requested_due_at=requested_due_at)]


def _pending(state: ComplaintState, command: str, at: datetime) -> tuple[datetime, datetime]:
    at = _begin(state, command, EXTENSION_FROM, at)
    if state.pending_extension is None:
        raise InvalidTransition(command, state.status, "no extension is pending")
    return at, state.pending_extension.requested_due_at


def approve_extension(state: ComplaintState, *, at: datetime, note: str = "") -> list[ComplaintEvent]:
    """A supervisor's approval: the requested date becomes the new deadline. (The role is checked by the caller.)"""
    at, requested_due_at = _pending(state, "approve an extension for", at)
    number = state.clock.number + 1
    return [_event(ExtensionApproved, state, at, deadline_number=number, due_at=requested_due_at, note=note)]


def refuse_extension(state: ComplaintState, *, reason: str, at: datetime) -> list[ComplaintEvent]:
    at, _ = _pending(state, "refuse an extension for", at)
    return [_event(ExtensionRefused, state, at, reason=reason)]


def resolve(state: ComplaintState, *, resolution_note: str, at: datetime) -> list[ComplaintEvent]:
    at = _begin(state, "resolve", RESOLVE_FROM, at)
    return [_event(ComplaintResolved, state, at, resolution_note=resolution_note)]


# --- after resolution ----------------------------------------------------------------------------------------------


def record_call_back(
    state: ComplaintState,
    *,
    outcome: CallBackOutcome,
    at: datetime,
    satisfaction: int | None = None,
    remark: str = "",
) -> list[ComplaintEvent]:
    """The call-back (回访) and what follows from it: closed, or reopened to the handler with a fresh deadline."""
    at = _begin(state, "record a call-back on", CALL_BACK_FROM, at)
    problems: list[Problem] = []
    outcome_ = _coerce(CallBackOutcome, outcome, "outcome", problems)
    if outcome_ is None:
        raise ValidationFailed(problems)
    called_back = _event(CallBackRecorded, state, at, outcome=outcome_, satisfaction=satisfaction, remark=remark)
    if closes(outcome_):
        return [called_back, _event(ComplaintClosed, state, at, outcome=outcome_)]
    reopened = _event(
        ComplaintReopened,
        state,
        at,
        outcome=outcome_,
        deadline_number=state.clock.number + 1,
        due_at=_fresh_due_at(state, at),
    )
    return [called_back, reopened]


def withdraw(state: ComplaintState, *, at: datetime, reason: str = "") -> list[ComplaintEvent]:
    """The resident withdraws; possible at any time until the complaint has ended."""
    at = _begin(state, "withdraw", WITHDRAW_FROM, at)
    return [_event(ComplaintWithdrawn, state, at, reason=reason)]


# --- deadlines -----------------------------------------------------------------------------------------------------


def mark_overdue(state: ComplaintState, *, at: datetime) -> list[ComplaintEvent]:
    """What the overdue watcher records; refused unless late now and this deadline not yet marked."""
    at = _begin(state, "mark overdue", OVERDUE_FROM, at)
    clock = state.clock
    if clock.overdue_marked:
        raise InvalidTransition("mark overdue", state.status, f"deadline {clock.number} is already marked overdue")
    if not is_overdue(state, at):
        raise InvalidTransition("mark overdue", state.status, f"deadline {clock.number} has not passed")
    return [_event(ComplaintMarkedOverdue, state, at, deadline_number=clock.number, due_at=clock.due_at)]


# --- duplicates and cases ------------------------------------------------------------------------------------------


def _require_case_change(state: ComplaintState, command: str) -> None:
    if not state.in_own_case:
        raise InvalidTransition(command, state.status, "it is already linked into another case")
    if state.escalation_count:
        raise InvalidTransition(command, state.status, "it went to mediation under its current case")


def mark_duplicate(
    state: ComplaintState, *, duplicate_of: str, duplicate_of_case_id: str, at: datetime
) -> list[ComplaintEvent]:
    """The same matter as ``duplicate_of`` (whose case is ``duplicate_of_case_id``): it joins that case and ends."""
    at = _begin(state, "mark as duplicate", DUPLICATE_FROM, at)
    if duplicate_of == state.complaint_id:
        raise ValidationFailed.single("duplicate_of", "a complaint cannot duplicate itself")
    if duplicate_of_case_id != state.case_id:
        _require_case_change(state, "mark as duplicate")
    return [
        _event(
            ComplaintMarkedDuplicate,
            state,
            at,
            duplicate_of=duplicate_of,
            case_id=duplicate_of_case_id,
            previous_case_id=state.case_id,
        )
    ]


def link_to_case(state: ComplaintState, *, case_id: str, at: datetime) -> list[ComplaintEvent]:
    """Join a case (use a fresh case id for a group, not one complaint's own id, which could move on later)."""
    at = _begin(state, "link to a case", LINK_FROM, at)
    if case_id == state.case_id:
        raise InvalidTransition("link to a case", state.status, "it is already in that case")
    _require_case_change(state, "link to a case")
    return [_event(ComplaintLinkedToCase, state, at, case_id=case_id, previous_case_id=state.case_id)]


# --- mediation -----------------------------------------------------------------------------------------------------


def escalate_to_mediation(
    state: ComplaintState,
    *,
    reason: str,
    parties: Sequence[MediationParty],
    at: datetime,
    complaint_ids: Sequence[str] | None = None,
) -> list[ComplaintEvent]:
    """Take the complaint (or, with ``complaint_ids``, its case's complaints) to mediation.

    The caller records this on every complaint of the group, each with the same ``complaint_ids``; a group must
    first be linked into one case, whose id the event carries.
    """
    at = _begin(state, "escalate", ESCALATE_FROM, at)
    group = tuple(complaint_ids) if complaint_ids is not None else (state.complaint_id,)
    if state.complaint_id not in group:
        raise ValidationFailed.single("complaint_ids", "must include the complaint being escalated")
    if len(set(group)) != len(group):
        raise ValidationFailed.single("complaint_ids", "must not repeat a complaint")
    if len(group) > 1 and state.in_own_case:
        raise InvalidTransition("escalate", state.status, "link the complaints into one case before escalating them")
    return [
        _event(
            ComplaintEscalatedToMediation,
            state,
            at,
            case_id=state.case_id,
            complaint_ids=group,
            compound_id=state.compound_id,
            category_code=state.category_code,
            reason=reason,
            parties=tuple(parties),
        )
    ]


def record_mediation_agreement(state: ComplaintState, *, agreement_id: str, at: datetime) -> list[ComplaintEvent]:
    """The mediation service reports an agreement signed for the case: resolved by agreement, call-back pending."""
    at = _begin(state, "record a mediation agreement on", FROM_MEDIATION, at)
    return [_event(ComplaintResolvedByAgreement, state, at, agreement_id=agreement_id)]


def return_from_mediation(state: ComplaintState, *, at: datetime, reason: str = "") -> list[ComplaintEvent]:
    """The mediation case ended without agreement: back to the handler with a fresh deadline."""
    at = _begin(state, "return from mediation", FROM_MEDIATION, at)
    return [
        _event(
            ComplaintReturnedFromMediation,
            state,
            at,
            reason=reason,
            deadline_number=state.clock.number + 1,
            due_at=_fresh_due_at(state, at),
        )
    ]
