"""The desk's commands on complaints. Each is a POST that accepts ``Idempotency-Key`` and ``If-Match``."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from complaints.adapters.http.dependencies import (
    HANDLERS,
    INTAKE_DESK,
    SUPERVISORS,
    ComplaintId,
    PersonRefPath,
    context_of,
    view_of,
)
from complaints.adapters.http.schemas import (
    AddNote,
    ApproveExtension,
    Assign,
    ComplaintView,
    Escalate,
    FileComplaint,
    LinkToCase,
    MarkDuplicate,
    RecordCallBack,
    RecordInformation,
    RefuseExtension,
    RequestExtension,
    RequestInformation,
    Resolve,
    Withdraw,
)
from complaints.application.changes import ComplaintNotFound, change, not_before
from complaints.application.context import ComplaintsContext
from complaints.application.erasure import erase_person
from complaints.application.escalation import NamedParty, escalate_case
from complaints.application.intake import NewComplaint, file_new_complaint, new_complaint_id
from complaints.application.loading import complaint_stream, load_complaint
from complaints.application.queries import get_complaint_row
from complaints.domain import (
    ComplaintEvent,
    ComplaintState,
    acknowledge,
    add_note,
    approve_extension,
    assign,
    link_to_case,
    mark_duplicate,
    record_call_back,
    record_information,
    refuse_extension,
    request_extension,
    request_information,
    resolve,
    withdraw,
)
from jinlin.store import Transaction
from jinlin.web import CommandResult, Problem, Staff, command_docs, problem_responses, require_roles, run_command

router = APIRouter(tags=["complaint commands"])
# What every command may answer besides success: its own route's problems plus an unknown complaint.
DOCS = command_docs()
DOCS["responses"] = {**problem_responses(404), **DOCS.get("responses", {})}

Decide = Callable[[ComplaintState, datetime], list[ComplaintEvent]]


async def _answer(tx: Transaction, context: ComplaintsContext, state: ComplaintState, at: datetime) -> CommandResult:
    row = await get_complaint_row(tx.connection, state.complaint_id)
    assert row is not None, "the projection writes the row in the same transaction"
    return CommandResult(view_of(row, at), version=state.version)


async def _change(request: Request, staff: Staff, complaint_id: str, scope: str, decide: Decide) -> Response:
    context = context_of(request)

    async def handle(tx: Transaction) -> CommandResult:
        at = context.clock()
        state = await change(tx, complaint_id, lambda current: decide(current, not_before(current, at)))
        return await _answer(tx, context, state, at)

    return await run_command(
        request,
        context.store,
        handle,
        actor=staff,
        scope=f"complaints.{scope}",
        stream=complaint_stream(complaint_id),
        status_code=200,
    )


StaffAtDesk = Annotated[Staff, Depends(require_roles(*INTAKE_DESK))]
Handler = Annotated[Staff, Depends(require_roles(*HANDLERS))]
Supervisor = Annotated[Staff, Depends(require_roles(*SUPERVISORS))]


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintView,
    summary="File a complaint (intake)",
    **DOCS,
)
async def file(body: FileComplaint, request: Request, staff: StaffAtDesk) -> Response:
    context = context_of(request)
    at = context.clock()
    complaint_id = new_complaint_id(at)

    async def handle(tx: Transaction) -> CommandResult:
        intake = NewComplaint(
            category_code=body.category_code,
            description=body.description,
            channel=body.channel,
            compound_id=body.compound_id,
            answers=body.answers,
            building=body.building,
            unit=body.unit,
            priority=body.priority,
            hotline_reference=body.hotline_reference,
            reporter_name=body.reporter.name,
            reporter_phone=body.reporter.phone,
        )
        state = await file_new_complaint(tx, context, complaint_id, intake, at)
        answer = await _answer(tx, context, state, at)
        return CommandResult(answer.body, version=state.version, headers={"Location": f"/complaints/{complaint_id}"})

    return await run_command(request, context.store, handle, actor=staff, scope="complaints.file", status_code=201)


@router.post("/complaints/{complaint_id}/acknowledge", response_model=ComplaintView, **DOCS)
async def acknowledge_complaint(complaint_id: ComplaintId, request: Request, staff: StaffAtDesk) -> Response:
    """Accept the complaint at the desk (受理)."""
    return await _change(request, staff, complaint_id, "acknowledge", lambda state, at: acknowledge(state, at=at))


@router.post("/complaints/{complaint_id}/assign", response_model=ComplaintView, **DOCS)
async def assign_complaint(complaint_id: ComplaintId, body: Assign, request: Request, staff: Handler) -> Response:
    """Assign or reassign: to a handler, a team, the property company or a utility."""
    return await _change(
        request, staff, complaint_id, "assign",
        lambda state, at: assign(state, assignee=body.assignee, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/complaints/{complaint_id}/notes", response_model=ComplaintView, **DOCS)
async def add_complaint_note(
    complaint_id: ComplaintId, body: AddNote, request: Request, staff: StaffAtDesk
) -> Response:
    """A note: internal, or for the resident (shown as Open311 status notes)."""
    return await _change(
        request, staff, complaint_id, "note",
        lambda state, at: add_note(state, text=body.text, visibility=body.visibility, at=at),
    )  # fmt: skip


@router.post(
    "/complaints/{complaint_id}/information-requests",
    response_model=ComplaintView,
    **DOCS,
)
async def ask_resident(
    complaint_id: ComplaintId, body: RequestInformation, request: Request, staff: Handler
) -> Response:
    """Ask the resident for information; the deadline clock pauses until the answer is recorded."""
    return await _change(
        request, staff, complaint_id, "request_information",
        lambda state, at: request_information(state, question=body.question, at=at),
    )  # fmt: skip


@router.post("/complaints/{complaint_id}/information", response_model=ComplaintView, **DOCS)
async def record_answer(
    complaint_id: ComplaintId, body: RecordInformation, request: Request, staff: StaffAtDesk
) -> Response:
    """Record the resident's answer; the clock resumes and the deadline moves by the time it stood still."""
    return await _change(
        request, staff, complaint_id, "record_information",
        lambda state, at: record_information(state, answer=body.answer, at=at),
    )  # fmt: skip


@router.post(
    "/complaints/{complaint_id}/extension-requests",
    response_model=ComplaintView,
    **DOCS,
)
async def ask_for_extension(
    complaint_id: ComplaintId, body: RequestExtension, request: Request, staff: Handler
) -> Response:
    """Ask for a later deadline, with a reason; a supervisor approves or refuses."""
    return await _change(
        request, staff, complaint_id, "request_extension",
        lambda state, at: request_extension(state, reason=body.reason, requested_due_at=body.requested_due_at, at=at),
    )  # fmt: skip


@router.post(
    "/complaints/{complaint_id}/extension-requests/approve",
    response_model=ComplaintView,
    **DOCS,
)
async def approve(complaint_id: ComplaintId, body: ApproveExtension, request: Request, staff: Supervisor) -> Response:
    return await _change(
        request, staff, complaint_id, "approve_extension",
        lambda state, at: approve_extension(state, note=body.note, at=at),
    )  # fmt: skip


@router.post(
    "/complaints/{complaint_id}/extension-requests/refuse",
    response_model=ComplaintView,
    **DOCS,
)
async def refuse(complaint_id: ComplaintId, body: RefuseExtension, request: Request, staff: Supervisor) -> Response:
    return await _change(
        request, staff, complaint_id, "refuse_extension",
        lambda state, at: refuse_extension(state, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintView, **DOCS)
async def resolve_complaint(complaint_id: ComplaintId, body: Resolve, request: Request, staff: Handler) -> Response:
    """The handler says it is done; the call-back (回访) is now due."""
    return await _change(
        request, staff, complaint_id, "resolve",
        lambda state, at: resolve(state, resolution_note=body.resolution_note, at=at),
    )  # fmt: skip


@router.post("/complaints/{complaint_id}/call-back", response_model=ComplaintView, **DOCS)
async def call_back(complaint_id: ComplaintId, body: RecordCallBack, request: Request, staff: StaffAtDesk) -> Response:
    """The resident's verdict. Fixed, no longer needed or not our responsibility close it; otherwise it reopens."""
    return await _change(
        request, staff, complaint_id, "call_back",
        lambda state, at: record_call_back(
            state, outcome=body.outcome, satisfaction=body.satisfaction, remark=body.remark, at=at
        ),
    )  # fmt: skip


@router.post("/complaints/{complaint_id}/withdraw", response_model=ComplaintView, **DOCS)
async def withdraw_complaint(
    complaint_id: ComplaintId, body: Withdraw, request: Request, staff: StaffAtDesk
) -> Response:
    """The resident withdraws the complaint (any time before it is closed)."""
    return await _change(
        request, staff, complaint_id, "withdraw", lambda state, at: withdraw(state, reason=body.reason, at=at)
    )


@router.post("/complaints/{complaint_id}/duplicate", response_model=ComplaintView, **DOCS)
async def mark_as_duplicate(
    complaint_id: ComplaintId, body: MarkDuplicate, request: Request, staff: Handler
) -> Response:
    """The same matter as another complaint: it joins that complaint's case and ends here."""
    context = context_of(request)

    async def handle(tx: Transaction) -> CommandResult:
        at = context.clock()
        original = await load_complaint(tx, body.duplicate_of)
        if original is None:
            raise ComplaintNotFound(body.duplicate_of)
        state = await change(
            tx,
            complaint_id,
            lambda current: mark_duplicate(
                current,
                duplicate_of=original.complaint_id,
                duplicate_of_case_id=original.case_id,
                at=not_before(current, at),
            ),
        )
        return await _answer(tx, context, state, at)

    return await run_command(
        request, context.store, handle, actor=staff, scope="complaints.duplicate",
        stream=complaint_stream(complaint_id), status_code=200,
    )  # fmt: skip


@router.post("/complaints/{complaint_id}/case", response_model=ComplaintView, **DOCS)
async def link_into_case(complaint_id: ComplaintId, body: LinkToCase, request: Request, staff: Handler) -> Response:
    """Link the complaint into a case (many complaints, one cause); later events carry the case id."""
    return await _change(
        request, staff, complaint_id, "link", lambda state, at: link_to_case(state, case_id=body.case_id, at=at)
    )


@router.post(
    "/complaints/{complaint_id}/escalate",
    response_model=list[ComplaintView],
    **DOCS,
)
async def escalate(complaint_id: ComplaintId, body: Escalate, request: Request, staff: Handler) -> Response:
    """Take the complaint's case (every open complaint in it) to mediation, naming the parties."""
    context = context_of(request)

    async def handle(tx: Transaction) -> CommandResult:
        at = context.clock()
        named = [NamedParty(p.role, p.organisation, p.person_name) for p in body.parties]
        states = await escalate_case(tx, context, complaint_id, reason=body.reason, named_parties=named, at=at)
        views: list[dict[str, Any]] = []
        for state in states:
            row = await get_complaint_row(tx.connection, state.complaint_id)
            assert row is not None
            views.append(view_of(row, at).model_dump(mode="json"))
        own = next(state for state in states if state.complaint_id == complaint_id)
        return CommandResult({"escalated": views}, version=own.version)

    return await run_command(
        request, context.store, handle, actor=staff, scope="complaints.escalate",
        stream=complaint_stream(complaint_id), status_code=200,
    )  # fmt: skip


@router.delete(
    "/people/{person_ref}",
    status_code=200,
    summary="Erase a person's personal data (crypto-shredding)",
    **DOCS,
)
async def erase(
    person_ref: PersonRefPath,
    request: Request,
    staff: Supervisor,
    reason: Annotated[str, Query(min_length=1, max_length=500)] = "erasure requested by the person",
) -> Response:
    """Destroys the person's key: their name and phone number become unreadable everywhere, events stay intact."""
    context = context_of(request)
    at = context.clock()

    async def handle(tx: Transaction) -> CommandResult:
        if not await erase_person(tx, context, person_ref, reason, at):
            raise Problem(404, "Nothing to erase", f"No personal data is held for {person_ref}.", slug="no-such-person")
        return CommandResult({"person_ref": person_ref, "erased": True})

    response = await run_command(request, context.store, handle, actor=staff, scope="complaints.erase", status_code=200)
    if response.status_code == 200:
        await context.store.purge_deleted("person_keys")
    return response
