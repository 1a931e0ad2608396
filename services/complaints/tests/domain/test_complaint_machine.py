"""A hypothesis state machine over the complaint's commands.

Every command is tried in whatever state the complaint happens to be in; a model written here (not derived from the
implementation) says whether it is legal. The model keeps its own deadline arithmetic in a different form: not a
due instant that moves, but a *budget* of handling time and the handling time *used*, which grows only while the
clock runs. Checked after every step:

- an illegal command is refused with ``InvalidTransition`` and a legal one is accepted;
- replaying all events from scratch (also after a JSON round trip through the registry) gives the same state;
- the time left is exactly budget minus used, so time spent paused never counts, and ``is_overdue`` agrees;
- no deadline is ever marked overdue twice.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from complaints.domain import (
    Assignee,
    AssigneeKind,
    CallBackOutcome,
    Channel,
    ComplaintEvent,
    ComplaintMarkedOverdue,
    ComplaintState,
    InvalidTransition,
    MediationParty,
    NoteVisibility,
    PartyRole,
    Priority,
    Status,
    acknowledge,
    add_note,
    apply_all,
    approve_extension,
    assign,
    default_catalogue,
    escalate_to_mediation,
    file_complaint,
    is_overdue,
    link_to_case,
    mark_duplicate,
    mark_overdue,
    record_call_back,
    record_information,
    record_mediation_agreement,
    refuse_extension,
    registry,
    replay,
    request_extension,
    request_information,
    resolve,
    return_from_mediation,
    should_mark_overdue,
    time_left,
    withdraw,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
OWN_ID = "c-1"

# The model's own statement of the rules: handling time per category, and the cap each priority puts on it.
CATEGORY_TIME = {"electricity": 24 * HOUR, "repairs": 7 * DAY, "property_fees": 15 * DAY}
ANSWERS = {"electricity": {"issue": "power_cut"}, "repairs": {"what": "lift"}, "property_fees": {"issue": "overcharge"}}
PRIORITY_CAP = {Priority.NORMAL: None, Priority.URGENT: 24 * HOUR, Priority.EMERGENCY: 2 * HOUR}

ASSIGNEES = [
    Assignee(kind=AssigneeKind.HANDLER, id="staff-li", name="李工"),
    Assignee(kind=AssigneeKind.TEAM, id="station-jinyuan", name="服务站"),
    Assignee(kind=AssigneeKind.UTILITY, id="state-grid", name="供电公司"),
]
PARTIES = (MediationParty(role=PartyRole.PROPERTY_COMPANY, organisation="某物业服务有限公司"),)

ENDED = {Status.CLOSED, Status.WITHDRAWN, Status.DUPLICATE}
HANDLING = {Status.ACKNOWLEDGED, Status.ASSIGNED}
RUNNING = {Status.FILED, Status.ACKNOWLEDGED, Status.ASSIGNED, Status.ESCALATED}  # the clock runs
BINDING = RUNNING | {Status.AWAITING_INFORMATION}  # a deadline applies (paused while awaiting information)


@dataclass
class Model:
    status: Status
    handling_time: timedelta
    budget: timedelta
    used: timedelta = timedelta(0)
    deadline: int = 1
    marked: set[int] = field(default_factory=set)
    assignee: str | None = None
    pending: datetime | None = None
    case: str = OWN_ID
    escalations: int = 0

    @property
    def handler_status(self) -> Status:
        return Status.ASSIGNED if self.assignee else Status.ACKNOWLEDGED

    @property
    def late(self) -> bool:
        return self.status in BINDING and self.used > self.budget

    def fresh_deadline(self) -> None:
        self.deadline += 1
        self.budget, self.used = self.handling_time, timedelta(0)

    def may_change_case(self) -> bool:
        return self.case == OWN_ID and self.escalations == 0


class ComplaintMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.events: list[ComplaintEvent] = []
        self.state: ComplaintState
        self.model: Model

    @initialize(
        category=st.sampled_from(sorted(CATEGORY_TIME)),
        priority=st.sampled_from(list(Priority)),
        head_start=st.sampled_from(["filed", "acknowledged", "assigned"]),
    )
    def file(self, category: str, priority: Priority, head_start: str) -> None:
        self.events = file_complaint(
            default_catalogue(),
            complaint_id=OWN_ID,
            category_code=category,
            answers=ANSWERS[category],
            description="描述",
            channel=Channel.WEB,
            compound_id="jinyuan-huating",
            reporter_ref="p-1",
            priority=priority,
            at=self.now,
        )
        state = apply_all(None, self.events)
        assert state is not None
        self.state = state
        cap = PRIORITY_CAP[priority]
        handling_time = min(CATEGORY_TIME[category], cap) if cap else CATEGORY_TIME[category]
        self.model = Model(status=Status.FILED, handling_time=handling_time, budget=handling_time)
        # Hypothesis switches rules off at random per run (swarm testing); a run without "acknowledge" would never
        # leave intake. Starting some runs further along keeps the richer states well explored.
        if head_start != "filed":
            self.attempt(True, acknowledge)
            self.model.status = Status.ACKNOWLEDGED
        if head_start == "assigned":
            self.attempt(True, assign, assignee=ASSIGNEES[0])
            self.model.status, self.model.assignee = Status.ASSIGNED, ASSIGNEES[0].id

    # --- driving ---------------------------------------------------------------------------------------------------

    def attempt(self, legal: bool, command: Any, **arguments: Any) -> bool:
        """Run the command; it must succeed exactly when the model says it is legal."""
        if not legal:
            with pytest.raises(InvalidTransition):
                command(self.state, at=self.now, **arguments)
            return False
        new_events = command(self.state, at=self.now, **arguments)
        state = apply_all(self.state, new_events)
        assert state is not None
        self.state = state
        self.events.extend(new_events)
        return True

    def advance(self, elapsed: timedelta) -> None:
        self.now += elapsed
        if self.model.status in RUNNING:
            self.model.used += elapsed

    @rule(minutes=st.integers(0, 180))
    def minutes_pass(self, minutes: int) -> None:
        self.advance(timedelta(minutes=minutes))

    @rule(days=st.integers(1, 20), minutes=st.integers(0, 60 * 24))
    def days_pass(self, days: int, minutes: int) -> None:
        self.advance(timedelta(days=days, minutes=minutes))

    # --- commands --------------------------------------------------------------------------------------------------

    @rule()
    def acknowledge(self) -> None:
        if self.attempt(self.model.status is Status.FILED, acknowledge):
            self.model.status = Status.ACKNOWLEDGED

    @rule(assignee=st.sampled_from(ASSIGNEES))
    def assign(self, assignee: Assignee) -> None:
        m = self.model
        legal = m.status in HANDLING | {Status.AWAITING_INFORMATION, Status.ESCALATED} and m.assignee != assignee.id
        if self.attempt(legal, assign, assignee=assignee):
            m.assignee = assignee.id
            if m.status is Status.ACKNOWLEDGED:
                m.status = Status.ASSIGNED

    @rule(visibility=st.sampled_from(list(NoteVisibility)))
    def add_note(self, visibility: NoteVisibility) -> None:
        self.attempt(self.model.status not in ENDED, add_note, text="备注", visibility=visibility)

    @rule()
    def request_information(self) -> None:
        m = self.model
        if self.attempt(m.status in HANDLING and m.pending is None, request_information, question="？"):
            m.status = Status.AWAITING_INFORMATION

    @rule()
    def record_information(self) -> None:
        m = self.model
        if self.attempt(m.status is Status.AWAITING_INFORMATION, record_information, answer="好"):
            # Same budget, same time used: the pause added nothing. But it is a new deadline.
            m.status = m.handler_status
            m.deadline += 1

    @rule(days=st.integers(1, 30))
    def request_extension(self, days: int) -> None:
        m = self.model
        requested = max(self.state.clock.due_at, self.now) + days * DAY
        legal = m.status in HANDLING | {Status.ESCALATED} and m.pending is None
        if self.attempt(legal, request_extension, reason="需时间", requested_due_at=requested):
            m.pending = requested

    @rule()
    def approve_extension(self) -> None:
        m = self.model
        requested = m.pending
        if self.attempt(requested is not None, approve_extension):
            assert requested is not None
            m.budget = m.used + (requested - self.now)
            m.deadline += 1
            m.pending = None

    @rule()
    def refuse_extension(self) -> None:
        if self.attempt(self.model.pending is not None, refuse_extension, reason="不同意"):
            self.model.pending = None

    @rule()
    def resolve(self) -> None:
        m = self.model
        if self.attempt(m.status in HANDLING | {Status.AWAITING_INFORMATION}, resolve, resolution_note="已处理"):
            m.status, m.pending = Status.RESOLVED, None

    @rule(outcome=st.sampled_from(list(CallBackOutcome)), satisfaction=st.none() | st.integers(1, 5))
    def record_call_back(self, outcome: CallBackOutcome, satisfaction: int | None) -> None:
        m = self.model
        legal = m.status in {Status.RESOLVED, Status.RESOLVED_BY_AGREEMENT}
        if self.attempt(legal, record_call_back, outcome=outcome, satisfaction=satisfaction):
            if outcome in {CallBackOutcome.NOT_FIXED, CallBackOutcome.PARTLY_FIXED}:
                m.status = m.handler_status
                m.fresh_deadline()
            else:
                m.status = Status.CLOSED

    # Withdrawal and duplicates end the complaint from almost any state; tried as often as the other commands, they
    # would end most runs before the interesting states are reached. So most draws pass them by.
    @rule(chance=st.integers(0, 7))
    def withdraw(self, chance: int) -> None:
        if chance:
            return
        if self.attempt(self.model.status not in ENDED, withdraw):
            self.model.status, self.model.pending = Status.WITHDRAWN, None

    @rule()
    def mark_overdue(self) -> None:
        m = self.model
        if self.attempt(m.late and m.deadline not in m.marked, mark_overdue):
            m.marked.add(m.deadline)

    @rule(case=st.sampled_from([OWN_ID, "case-a", "case-b"]), chance=st.integers(0, 7))
    def mark_duplicate(self, case: str, chance: int) -> None:
        if chance:
            return
        m = self.model
        legal = m.status in HANDLING | {Status.FILED, Status.AWAITING_INFORMATION} and (
            case == m.case or m.may_change_case()
        )
        if self.attempt(legal, mark_duplicate, duplicate_of="c-0", duplicate_of_case_id=case):
            m.status, m.case, m.pending = Status.DUPLICATE, case, None

    @rule(case=st.sampled_from([OWN_ID, "case-a", "case-b"]))
    def link_to_case(self, case: str) -> None:
        m = self.model
        legal = m.status not in ENDED | {Status.ESCALATED} and case != m.case and m.may_change_case()
        if self.attempt(legal, link_to_case, case_id=case):
            m.case = case

    @rule(group=st.booleans())
    def escalate(self, group: bool) -> None:
        m = self.model
        complaint_ids = [OWN_ID, "c-2"] if group else None
        legal = m.status in HANDLING and (not group or m.case != OWN_ID)
        if self.attempt(legal, escalate_to_mediation, reason="协商", parties=PARTIES, complaint_ids=complaint_ids):
            m.status = Status.ESCALATED
            m.escalations += 1

    @rule()
    def agreement_signed(self) -> None:
        m = self.model
        if self.attempt(m.status is Status.ESCALATED, record_mediation_agreement, agreement_id="agr-1"):
            m.status, m.pending = Status.RESOLVED_BY_AGREEMENT, None

    @rule()
    def mediation_ended_without_agreement(self) -> None:
        m = self.model
        if self.attempt(m.status is Status.ESCALATED, return_from_mediation):
            m.status, m.pending = m.handler_status, None
            m.fresh_deadline()

    # --- what must always hold -------------------------------------------------------------------------------------

    @invariant()
    def the_state_is_the_models(self) -> None:
        m, s = self.model, self.state
        assert s.status is m.status
        assert s.clock.number == m.deadline
        assert s.case_id == m.case
        assert (s.assignee.id if s.assignee else None) == m.assignee
        assert (s.pending_extension.requested_due_at if s.pending_extension else None) == m.pending
        assert s.version == len(self.events)

    @invariant()
    def replaying_the_events_gives_the_same_state(self) -> None:
        assert replay(self.events) == self.state
        decoded = [registry.decode(registry.type_of(e), json.loads(e.model_dump_json())) for e in self.events]
        assert replay(decoded) == self.state

    @invariant()
    def only_running_time_counts_toward_the_deadline(self) -> None:
        m = self.model
        if m.status in BINDING:
            assert time_left(self.state, self.now) == m.budget - m.used
        else:
            assert time_left(self.state, self.now) is None
        assert is_overdue(self.state, self.now) == m.late
        assert should_mark_overdue(self.state, self.now) == (m.late and m.deadline not in m.marked)

    @invariant()
    def overdue_is_marked_at_most_once_per_deadline(self) -> None:
        marked = [e.deadline_number for e in self.events if isinstance(e, ComplaintMarkedOverdue)]
        assert len(marked) == len(set(marked))
        assert set(marked) == self.model.marked


ComplaintMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=80, deadline=None)
test_complaint_machine = ComplaintMachine.TestCase
