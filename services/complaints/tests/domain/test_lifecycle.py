"""The complaint's life, rule by rule: handling, pauses, extensions, call-backs, overdue, cases and mediation."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from complaints.domain import (
    Assignee,
    AssigneeKind,
    CallBackOutcome,
    CallBackRecorded,
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintEscalatedToMediation,
    ComplaintMarkedOverdue,
    ComplaintReassigned,
    ComplaintReopened,
    InvalidTransition,
    MediationParty,
    NoteVisibility,
    Open311Status,
    PartyRole,
    Status,
    ValidationFailed,
    acknowledge,
    add_note,
    approve_extension,
    assign,
    escalate_to_mediation,
    is_overdue,
    link_to_case,
    mark_duplicate,
    mark_overdue,
    record_call_back,
    record_information,
    record_mediation_agreement,
    refuse_extension,
    request_extension,
    request_information,
    resolve,
    return_from_mediation,
    should_mark_overdue,
    withdraw,
)

DAY = timedelta(days=1)
HANDLER_A = Assignee(kind=AssigneeKind.HANDLER, id="staff-li", name="李工")
HANDLER_B = Assignee(kind=AssigneeKind.HANDLER, id="staff-wang", name="王工")
POWER_COMPANY = Assignee(kind=AssigneeKind.UTILITY, id="state-grid-tianchang", name="国网天长市供电公司")
PARTIES = (
    MediationParty(role=PartyRole.PROPERTY_COMPANY, organisation="某物业服务有限公司"),
    MediationParty(role=PartyRole.UTILITY, organisation="国网天长市供电公司"),
    MediationParty(role=PartyRole.OWNERS_COMMITTEE, organisation="金园华庭业主委员会"),
)

Desk = Any


@pytest.fixture
def assigned(desk: Callable[..., Desk]) -> Desk:
    """A repairs complaint (7 days), acknowledged and with handler A."""
    d = desk()
    d.do(acknowledge)
    d.do(assign, assignee=HANDLER_A)
    return d


@pytest.fixture
def resolved(assigned: Desk) -> Desk:
    assigned.later(days=2).do(resolve, resolution_note="电梯已修复")
    return assigned


# --- handling ------------------------------------------------------------------------------------------------------


def test_acknowledging_records_when_the_desk_accepted_it(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.later(minutes=5).do(acknowledge)
    assert d.state.status is Status.ACKNOWLEDGED
    assert d.state.acknowledged_at == d.now


def test_the_first_assignment_dispatches_later_ones_change_hands(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.do(acknowledge)
    [first] = d.do(assign, assignee=HANDLER_A)
    assert isinstance(first, ComplaintAssigned)
    assert d.state.status is Status.ASSIGNED
    [second] = d.do(assign, assignee=POWER_COMPANY, reason="供电公司负责")
    assert isinstance(second, ComplaintReassigned)
    assert (second.previous_assignee, second.assignee) == (HANDLER_A, POWER_COMPANY)
    assert d.state.assignee == POWER_COMPANY


def test_reassigning_to_the_same_party_is_refused_even_under_a_corrected_name(assigned: Desk) -> None:
    with pytest.raises(InvalidTransition, match="already assigned there"):
        assigned.do(assign, assignee=HANDLER_A.model_copy(update={"name": "李师傅"}))


def test_notes_are_internal_or_for_the_resident_and_change_nothing_else(assigned: Desk) -> None:
    before = assigned.state
    [note] = assigned.do(add_note, text="已联系物业", visibility=NoteVisibility.RESIDENT)
    assert note.visibility is NoteVisibility.RESIDENT
    assert assigned.state.status is before.status
    assert assigned.state.version == before.version + 1


def test_commands_may_not_go_back_in_time(assigned: Desk) -> None:
    with pytest.raises(ValidationFailed, match="before the complaint's last recorded event"):
        assigned.do(add_note, text="补记", visibility=NoteVisibility.INTERNAL, at=assigned.now - timedelta(seconds=1))


# --- information: the clock pauses ----------------------------------------------------------------------------------


def test_asking_the_resident_pauses_and_the_answer_resumes_with_the_deadline_moved(assigned: Desk) -> None:
    due = assigned.state.clock.due_at
    assigned.later(days=1).do(request_information, question="电梯哪一部？")
    assert assigned.state.status is Status.AWAITING_INFORMATION
    assert assigned.state.open311_status is Open311Status.OPEN
    [received] = assigned.later(days=3, hours=2).do(record_information, answer="2号梯")
    assert received.due_at == due + timedelta(days=3, hours=2)
    assert received.deadline_number == 2
    assert assigned.state.status is Status.ASSIGNED
    assert not assigned.state.clock.paused


def test_a_complaint_reassigned_while_waiting_goes_to_the_new_handler_when_the_answer_comes(
    desk: Callable[..., Desk],
) -> None:
    d = desk()
    d.do(acknowledge)
    d.do(request_information, question="具体位置？")
    d.do(assign, assignee=HANDLER_B)
    assert d.state.status is Status.AWAITING_INFORMATION
    d.do(record_information, answer="5栋")
    assert (d.state.status, d.state.assignee) == (Status.ASSIGNED, HANDLER_B)


def test_an_unassigned_complaint_returns_to_acknowledged_after_the_answer(desk: Callable[..., Desk]) -> None:
    d = desk()
    d.do(acknowledge)
    d.do(request_information, question="具体位置？")
    d.do(record_information, answer="5栋")
    assert d.state.status is Status.ACKNOWLEDGED


def test_a_handler_may_resolve_without_the_answer_that_never_came(assigned: Desk) -> None:
    assigned.do(request_information, question="电梯哪一部？")
    assigned.later(days=20).do(resolve, resolution_note="两部电梯均已检修")
    assert assigned.state.status is Status.RESOLVED


# --- extensions -----------------------------------------------------------------------------------------------------


def test_an_approved_extension_becomes_the_new_deadline(assigned: Desk) -> None:
    old = assigned.state.clock
    assigned.do(request_extension, reason="需采购配件", requested_due_at=old.due_at + 5 * DAY)
    assert assigned.state.pending_extension is not None
    assert assigned.state.clock == old  # nothing changes until a supervisor decides
    [approved] = assigned.later(hours=1).do(approve_extension, note="同意")
    assert (approved.deadline_number, approved.due_at) == (2, old.due_at + 5 * DAY)
    assert assigned.state.clock.due_at == old.due_at + 5 * DAY
    assert assigned.state.pending_extension is None


def test_a_refused_extension_leaves_the_deadline_as_it_was(assigned: Desk) -> None:
    old = assigned.state.clock
    assigned.do(request_extension, reason="需采购配件", requested_due_at=old.due_at + 5 * DAY)
    assigned.do(refuse_extension, reason="配件本地可购")
    assert assigned.state.clock == old
    assert assigned.state.pending_extension is None


def test_an_extension_must_be_later_than_the_deadline_and_in_the_future(assigned: Desk) -> None:
    due = assigned.state.clock.due_at
    with pytest.raises(ValidationFailed, match="later than the deadline"):
        assigned.do(request_extension, reason="需要时间", requested_due_at=due)
    assigned.later(days=30)
    with pytest.raises(ValidationFailed, match="in the future"):
        assigned.do(request_extension, reason="需要时间", requested_due_at=due + DAY)
    with pytest.raises(ValidationFailed) as no_reason:
        assigned.do(request_extension, reason=" ", requested_due_at=assigned.now + DAY)
    assert [problem.field for problem in no_reason.value.problems] == ["reason"]


def test_one_extension_at_a_time_and_no_pause_while_one_awaits_a_decision(assigned: Desk) -> None:
    due = assigned.state.clock.due_at
    assigned.do(request_extension, reason="需采购配件", requested_due_at=due + DAY)
    with pytest.raises(InvalidTransition, match="already pending"):
        assigned.do(request_extension, reason="再延", requested_due_at=due + 2 * DAY)
    with pytest.raises(InvalidTransition, match="awaiting a decision"):
        assigned.do(request_information, question="？")


def test_no_extension_while_the_clock_is_paused_and_no_decision_without_a_request(assigned: Desk) -> None:
    with pytest.raises(InvalidTransition, match="no extension is pending"):
        assigned.do(approve_extension)
    with pytest.raises(InvalidTransition, match="no extension is pending"):
        assigned.do(refuse_extension, reason="不同意")
    assigned.do(request_information, question="？")
    with pytest.raises(InvalidTransition):
        assigned.do(request_extension, reason="需要时间", requested_due_at=assigned.now + 30 * DAY)


def test_resolving_drops_a_pending_extension(assigned: Desk) -> None:
    assigned.do(request_extension, reason="需采购配件", requested_due_at=assigned.state.clock.due_at + DAY)
    assigned.do(resolve, resolution_note="已修复")
    assert assigned.state.pending_extension is None


# --- resolution and call-back ---------------------------------------------------------------------------------------


def test_a_resolved_complaint_reads_as_closed_to_open311_while_the_call_back_is_pending(resolved: Desk) -> None:
    assert resolved.state.status is Status.RESOLVED
    assert resolved.state.resolution_note == "电梯已修复"
    assert resolved.state.resolved_at == resolved.now
    assert resolved.state.open311_status is Open311Status.CLOSED
    assert not is_overdue(resolved.state, resolved.now + 30 * DAY)


@pytest.mark.parametrize(
    "outcome",
    [CallBackOutcome.FIXED, CallBackOutcome.NO_LONGER_NEEDED, CallBackOutcome.NOT_OUR_RESPONSIBILITY],
)
def test_these_call_back_outcomes_close_the_complaint(resolved: Desk, outcome: CallBackOutcome) -> None:
    called, closed = resolved.later(days=1).do(record_call_back, outcome=outcome, satisfaction=4, remark="满意")
    assert isinstance(called, CallBackRecorded)
    assert (called.outcome, called.satisfaction) == (outcome, 4)
    assert isinstance(closed, ComplaintClosed)
    assert closed.outcome is outcome
    assert resolved.state.status is Status.CLOSED
    assert resolved.state.closed_at == resolved.now
    assert resolved.state.last_call_back is not None
    assert resolved.state.last_call_back.satisfaction == 4


@pytest.mark.parametrize("outcome", [CallBackOutcome.NOT_FIXED, CallBackOutcome.PARTLY_FIXED])
def test_these_call_back_outcomes_reopen_it_to_the_handler_with_a_fresh_deadline(
    resolved: Desk, outcome: CallBackOutcome
) -> None:
    number = resolved.state.clock.number
    called, reopened = resolved.later(days=1).do(record_call_back, outcome=outcome, satisfaction=1)
    assert isinstance(called, CallBackRecorded)
    assert called.outcome is outcome
    assert isinstance(reopened, ComplaintReopened)
    assert (reopened.deadline_number, reopened.due_at) == (number + 1, resolved.now + 7 * DAY)
    assert (resolved.state.status, resolved.state.assignee) == (Status.ASSIGNED, HANDLER_A)
    assert resolved.state.open311_status is Open311Status.OPEN
    assert resolved.state.reopen_count == 1
    assert (resolved.state.resolution_note, resolved.state.resolved_at) == (None, None)


def test_satisfaction_is_one_to_five_or_not_given(resolved: Desk) -> None:
    for wrong in (0, 6):
        with pytest.raises(ValidationFailed) as refused:
            resolved.do(record_call_back, outcome=CallBackOutcome.FIXED, satisfaction=wrong)
        assert [problem.field for problem in refused.value.problems] == ["satisfaction"]
    resolved.do(record_call_back, outcome=CallBackOutcome.FIXED)
    assert resolved.state.last_call_back is not None
    assert resolved.state.last_call_back.satisfaction is None


def test_a_call_back_outcome_must_be_one_of_the_five(resolved: Desk) -> None:
    with pytest.raises(ValidationFailed, match="outcome"):
        resolved.do(record_call_back, outcome="meh")


# --- withdrawal -----------------------------------------------------------------------------------------------------


def test_the_resident_may_withdraw_until_closure_but_not_after(resolved: Desk) -> None:
    resolved.do(withdraw, reason="已自行解决")
    assert resolved.state.status is Status.WITHDRAWN
    assert resolved.state.closed_at == resolved.now
    with pytest.raises(InvalidTransition):
        resolved.do(withdraw)


def test_a_closed_complaint_cannot_be_withdrawn(resolved: Desk) -> None:
    resolved.do(record_call_back, outcome=CallBackOutcome.FIXED, satisfaction=5)
    with pytest.raises(InvalidTransition, match="closed"):
        resolved.do(withdraw)


# --- overdue --------------------------------------------------------------------------------------------------------


def test_overdue_is_marked_only_after_the_deadline_and_only_once(assigned: Desk) -> None:
    due = assigned.state.clock.due_at
    assigned.now = due
    with pytest.raises(InvalidTransition, match="has not passed"):
        assigned.do(mark_overdue)
    assigned.later(seconds=1)
    assert should_mark_overdue(assigned.state, assigned.now)
    [overdue] = assigned.do(mark_overdue)
    assert (overdue.deadline_number, overdue.due_at) == (1, due)
    assert not should_mark_overdue(assigned.state, assigned.now + 30 * DAY)
    with pytest.raises(InvalidTransition, match="already marked"):
        assigned.later(days=30).do(mark_overdue)


def test_a_new_deadline_after_an_extension_can_become_overdue_once_more(assigned: Desk) -> None:
    assigned.now = assigned.state.clock.due_at + DAY
    assigned.do(mark_overdue)
    assigned.do(request_extension, reason="需采购配件", requested_due_at=assigned.now + 3 * DAY)
    assigned.do(approve_extension)
    assert not is_overdue(assigned.state, assigned.now)
    assigned.later(days=3, seconds=1).do(mark_overdue)
    with pytest.raises(InvalidTransition, match="already marked"):
        assigned.do(mark_overdue)
    marked = [e.deadline_number for e in assigned.events if isinstance(e, ComplaintMarkedOverdue)]
    assert marked == [1, 2]


def test_a_late_complaint_can_be_marked_overdue_while_paused(assigned: Desk) -> None:
    assigned.now = assigned.state.clock.due_at + DAY
    assigned.do(request_information, question="？")
    assigned.later(days=10).do(mark_overdue)
    assert assigned.state.clock.overdue_marked


def test_time_spent_waiting_for_the_resident_never_makes_a_complaint_overdue(assigned: Desk) -> None:
    due = assigned.state.clock.due_at
    assigned.now = due - timedelta(hours=1)
    assigned.do(request_information, question="？")
    assigned.later(days=60)
    with pytest.raises(InvalidTransition, match="has not passed"):
        assigned.do(mark_overdue)
    assigned.do(record_information, answer="好的")
    assert not is_overdue(assigned.state, assigned.now + timedelta(minutes=59))
    assert is_overdue(assigned.state, assigned.now + timedelta(minutes=61))


# --- duplicates and cases -------------------------------------------------------------------------------------------


def test_a_duplicate_joins_the_originals_case_and_ends(desk: Callable[..., Desk]) -> None:
    d = desk(complaint_id="c-2")
    [event] = d.do(mark_duplicate, duplicate_of="c-1", duplicate_of_case_id="case-jinyuan-power")
    assert (event.case_id, event.previous_case_id) == ("case-jinyuan-power", "c-2")
    assert d.state.status is Status.DUPLICATE
    assert (d.state.duplicate_of, d.state.case_id) == ("c-1", "case-jinyuan-power")
    assert d.state.open311_status is Open311Status.CLOSED
    with pytest.raises(InvalidTransition):
        d.do(add_note, text="补记", visibility=NoteVisibility.INTERNAL)


def test_a_complaint_cannot_duplicate_itself(desk: Callable[..., Desk]) -> None:
    with pytest.raises(ValidationFailed, match="itself"):
        desk().do(mark_duplicate, duplicate_of="c-1", duplicate_of_case_id="c-1")


def test_linking_into_a_case_changes_the_caseid_of_what_follows(assigned: Desk) -> None:
    [linked] = assigned.do(link_to_case, case_id="case-jinyuan-power")
    assert (linked.case_id, linked.previous_case_id) == ("case-jinyuan-power", "c-1")
    assert assigned.state.case_id == "case-jinyuan-power"
    with pytest.raises(InvalidTransition, match="already in that case"):
        assigned.do(link_to_case, case_id="case-jinyuan-power")
    with pytest.raises(InvalidTransition, match="already linked into another case"):
        assigned.do(link_to_case, case_id="case-other")
    with pytest.raises(InvalidTransition, match="already linked into another case"):
        assigned.do(mark_duplicate, duplicate_of="c-9", duplicate_of_case_id="case-other")
    assigned.do(mark_duplicate, duplicate_of="c-9", duplicate_of_case_id="case-jinyuan-power")
    assert assigned.state.case_id == "case-jinyuan-power"


def test_a_case_id_is_a_subject_token(assigned: Desk) -> None:
    with pytest.raises(ValidationFailed) as refused:
        assigned.do(link_to_case, case_id="Case 1")
    assert [problem.field for problem in refused.value.problems] == ["case_id"]


# --- mediation ------------------------------------------------------------------------------------------------------


def test_escalation_tells_mediation_enough_to_open_a_case(assigned: Desk) -> None:
    [event] = assigned.do(escalate_to_mediation, reason="物业拖欠电费，需多方协商", parties=PARTIES)
    assert isinstance(event, ComplaintEscalatedToMediation)
    assert event.case_id == "c-1"
    assert event.complaint_ids == ("c-1",)
    assert (event.compound_id, event.category_code) == ("jinyuan-huating", "repairs")
    assert event.parties == PARTIES
    assert assigned.state.status is Status.ESCALATED
    assert assigned.state.escalation_count == 1


def test_a_group_is_escalated_under_the_case_it_was_linked_into(assigned: Desk) -> None:
    group = ["c-1", "c-2", "c-3"]
    with pytest.raises(InvalidTransition, match="link the complaints into one case"):
        assigned.do(escalate_to_mediation, reason="同一原因", parties=PARTIES, complaint_ids=group)
    assigned.do(link_to_case, case_id="case-jinyuan-power")
    [event] = assigned.do(escalate_to_mediation, reason="同一原因", parties=PARTIES, complaint_ids=group)
    assert (event.case_id, event.complaint_ids) == ("case-jinyuan-power", ("c-1", "c-2", "c-3"))


def test_an_escalation_names_its_own_complaint_once_and_at_least_one_party(assigned: Desk) -> None:
    assigned.do(link_to_case, case_id="case-x")
    with pytest.raises(ValidationFailed, match="must include"):
        assigned.do(escalate_to_mediation, reason="r", parties=PARTIES, complaint_ids=["c-2", "c-3"])
    with pytest.raises(ValidationFailed, match="repeat"):
        assigned.do(escalate_to_mediation, reason="r", parties=PARTIES, complaint_ids=["c-1", "c-1"])
    with pytest.raises(ValidationFailed) as no_parties:
        assigned.do(escalate_to_mediation, reason="r", parties=())
    assert [problem.field for problem in no_parties.value.problems] == ["parties"]


def test_an_agreement_resolves_it_with_the_call_back_pending(assigned: Desk) -> None:
    assigned.do(escalate_to_mediation, reason="需协商", parties=PARTIES)
    assigned.later(days=20).do(record_mediation_agreement, agreement_id="agr-2025-007")
    assert assigned.state.status is Status.RESOLVED_BY_AGREEMENT
    assert assigned.state.agreement_id == "agr-2025-007"
    _, reopened = assigned.do(record_call_back, outcome=CallBackOutcome.NOT_FIXED, satisfaction=2)
    assert isinstance(reopened, ComplaintReopened)
    assert assigned.state.status is Status.ASSIGNED


def test_a_case_ended_without_agreement_returns_to_the_handler_with_a_fresh_deadline(assigned: Desk) -> None:
    assigned.do(escalate_to_mediation, reason="需协商", parties=PARTIES)
    assigned.do(request_extension, reason="调解中", requested_due_at=assigned.now + 30 * DAY)
    [returned] = assigned.later(days=31).do(return_from_mediation, reason="未达成协议")
    assert (returned.deadline_number, returned.due_at) == (2, assigned.now + 7 * DAY)
    assert (assigned.state.status, assigned.state.assignee) == (Status.ASSIGNED, HANDLER_A)
    assert assigned.state.pending_extension is None


def test_once_escalated_a_complaint_keeps_its_case(assigned: Desk) -> None:
    assigned.do(escalate_to_mediation, reason="需协商", parties=PARTIES)
    with pytest.raises(InvalidTransition):
        assigned.do(link_to_case, case_id="case-x")
    assigned.do(return_from_mediation)
    with pytest.raises(InvalidTransition, match="went to mediation"):
        assigned.do(link_to_case, case_id="case-x")


# --- the story ------------------------------------------------------------------------------------------------------


def test_the_direct_supply_story_from_the_complaints_desk(desk: Callable[..., Desk], t0: datetime) -> None:
    """Three residents complain about the unpaid electricity; one case, mediation, agreement, call-backs."""
    desks = [desk(complaint_id=f"c-{n}", category_code="electricity", at=t0 + n * DAY) for n in (1, 2, 3)]
    group = [d.state.complaint_id for d in desks]
    for d in desks:
        d.now = t0 + 4 * DAY
        d.do(acknowledge)
        d.do(assign, assignee=POWER_COMPANY)
        d.do(link_to_case, case_id="case-jinyuan-power")
        d.do(escalate_to_mediation, reason="物业拖欠电费，影响一户一表改造", parties=PARTIES, complaint_ids=group)
        d.later(days=25).do(record_mediation_agreement, agreement_id="agr-jinyuan-001")
    outcomes = [CallBackOutcome.FIXED, CallBackOutcome.FIXED, CallBackOutcome.PARTLY_FIXED]
    for d, outcome in zip(desks, outcomes, strict=True):
        d.later(days=60).do(record_call_back, outcome=outcome, satisfaction=5)
    assert [d.state.status for d in desks] == [Status.CLOSED, Status.CLOSED, Status.ASSIGNED]
    assert {d.state.case_id for d in desks} == {"case-jinyuan-power"}
