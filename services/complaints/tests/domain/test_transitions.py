"""Every command tried in every status, against a table of what the desk allows (written here, not imported).

Each status is reached by a plain path of commands; every command is then attempted with inputs that are valid in
themselves and favourable to it (late enough to be overdue, a new assignee, a later date), so the only thing that
can refuse it is the complaint's state.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from complaints.domain import (
    Assignee,
    AssigneeKind,
    CallBackOutcome,
    InvalidTransition,
    MediationParty,
    NoteVisibility,
    PartyRole,
    Status,
    acknowledge,
    add_note,
    apply_all,
    approve_extension,
    assign,
    escalate_to_mediation,
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
    withdraw,
)

HANDLER_A = Assignee(kind=AssigneeKind.HANDLER, id="staff-li", name="李工")
HANDLER_B = Assignee(kind=AssigneeKind.HANDLER, id="staff-wang", name="王工")
PARTIES = (MediationParty(role=PartyRole.PROPERTY_COMPANY, organisation="某物业服务有限公司"),)
DAY = timedelta(days=1)

Step = tuple[Callable[..., Any], dict[str, Any]]

ACK: Step = (acknowledge, {})
ASSIGN_A: Step = (assign, {"assignee": HANDLER_A})
ESCALATE: Step = (escalate_to_mediation, {"reason": "需协商", "parties": PARTIES})

PATHS: dict[Status, list[Step]] = {
    Status.FILED: [],
    Status.ACKNOWLEDGED: [ACK],
    Status.ASSIGNED: [ACK, ASSIGN_A],
    Status.AWAITING_INFORMATION: [ACK, ASSIGN_A, (request_information, {"question": "哪一部电梯？"})],
    Status.ESCALATED: [ACK, ASSIGN_A, ESCALATE],
    Status.RESOLVED: [ACK, ASSIGN_A, (resolve, {"resolution_note": "已修复"})],
    Status.RESOLVED_BY_AGREEMENT: [ACK, ASSIGN_A, ESCALATE, (record_mediation_agreement, {"agreement_id": "agr-1"})],
    Status.CLOSED: [
        ACK,
        ASSIGN_A,
        (resolve, {"resolution_note": "已修复"}),
        (record_call_back, {"outcome": CallBackOutcome.FIXED}),
    ],
    Status.WITHDRAWN: [(withdraw, {})],
    Status.DUPLICATE: [(mark_duplicate, {"duplicate_of": "c-0", "duplicate_of_case_id": "c-0"})],
}


def _commands(now: datetime) -> dict[str, Step]:
    return {
        "acknowledge": (acknowledge, {}),
        "assign": (assign, {"assignee": HANDLER_B}),
        "add_note": (add_note, {"text": "备注", "visibility": NoteVisibility.INTERNAL}),
        "request_information": (request_information, {"question": "？"}),
        "record_information": (record_information, {"answer": "好"}),
        "request_extension": (request_extension, {"reason": "需时间", "requested_due_at": now + 90 * DAY}),
        "approve_extension": (approve_extension, {}),
        "refuse_extension": (refuse_extension, {"reason": "不同意"}),
        "resolve": (resolve, {"resolution_note": "已修复"}),
        "record_call_back": (record_call_back, {"outcome": CallBackOutcome.NOT_FIXED, "satisfaction": 2}),
        "withdraw": (withdraw, {}),
        "mark_overdue": (mark_overdue, {}),
        "mark_duplicate": (mark_duplicate, {"duplicate_of": "c-0", "duplicate_of_case_id": "case-other"}),
        "link_to_case": (link_to_case, {"case_id": "case-other"}),
        "escalate_to_mediation": ESCALATE,
        "record_mediation_agreement": (record_mediation_agreement, {"agreement_id": "agr-1"}),
        "return_from_mediation": (return_from_mediation, {}),
    }


COMMAND_NAMES = sorted(_commands(datetime(2025, 1, 1, tzinfo=UTC)))

HANDLING = {
    "assign",
    "add_note",
    "request_information",
    "request_extension",
    "resolve",
    "withdraw",
    "mark_overdue",
    "mark_duplicate",
    "link_to_case",
    "escalate_to_mediation",
}
LEGAL: dict[Status, set[str]] = {
    Status.FILED: {"acknowledge", "add_note", "withdraw", "mark_overdue", "mark_duplicate", "link_to_case"},
    Status.ACKNOWLEDGED: HANDLING,
    Status.ASSIGNED: HANDLING,
    Status.AWAITING_INFORMATION: {
        "assign",
        "add_note",
        "record_information",
        "resolve",
        "withdraw",
        "mark_overdue",
        "mark_duplicate",
        "link_to_case",
    },
    Status.ESCALATED: {
        "assign",
        "add_note",
        "request_extension",
        "withdraw",
        "mark_overdue",
        "record_mediation_agreement",
        "return_from_mediation",
    },
    Status.RESOLVED: {"record_call_back", "add_note", "withdraw", "link_to_case"},
    Status.RESOLVED_BY_AGREEMENT: {"record_call_back", "add_note", "withdraw"},  # its case went to mediation
    Status.CLOSED: set(),
    Status.WITHDRAWN: set(),
    Status.DUPLICATE: set(),
}

# With an extension awaiting a supervisor, the decision becomes possible, and asking for another or pausing is not.
PENDING_STATUSES = (Status.ACKNOWLEDGED, Status.ASSIGNED, Status.ESCALATED)


def _legal_with_pending(status: Status) -> set[str]:
    return (LEGAL[status] - {"request_extension", "request_information"}) | {"approve_extension", "refuse_extension"}


def _reach(desk: Callable[..., Any], status: Status, pending_extension: bool) -> Any:
    # A week and a day in: past the 7-day repairs deadline, so the complaint is late when paused, too.
    d = desk().later(days=8)
    for command, arguments in PATHS[status]:
        d.do(command, **arguments)
    if pending_extension:
        d.do(request_extension, reason="需采购配件", requested_due_at=d.now + 60 * DAY)
    assert d.state.status is status
    return d.later(days=30)


def _check(d: Any, command_name: str, legal: bool) -> None:
    command, arguments = _commands(d.now)[command_name]
    if legal:
        events = command(d.state, at=d.now, **arguments)
        assert events, f"{command_name} returned no events"
        assert apply_all(d.state, events) is not None
    else:
        with pytest.raises(InvalidTransition):
            command(d.state, at=d.now, **arguments)


def test_the_table_covers_every_status_and_command() -> None:
    assert set(PATHS) == set(LEGAL) == set(Status)
    assert set().union(*LEGAL.values()) | {"approve_extension", "refuse_extension"} == set(COMMAND_NAMES)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("command_name", COMMAND_NAMES)
def test_a_command_is_accepted_exactly_where_the_table_allows_it(
    desk: Callable[..., Any], status: Status, command_name: str
) -> None:
    _check(_reach(desk, status, pending_extension=False), command_name, command_name in LEGAL[status])


@pytest.mark.parametrize("status", PENDING_STATUSES)
@pytest.mark.parametrize("command_name", COMMAND_NAMES)
def test_with_an_extension_pending(desk: Callable[..., Any], status: Status, command_name: str) -> None:
    _check(_reach(desk, status, pending_extension=True), command_name, command_name in _legal_with_pending(status))
