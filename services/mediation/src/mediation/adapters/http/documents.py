"""The printable documents: ``GET /cases/{case_id}/agreement.html`` (人民调解协议书) and
``GET /cases/{case_id}/record.html`` (人民调解案件记录), as HTML with a print stylesheet.

Residents' names are printed only for mediators and supervisors, and only when this service holds the key (names it
sealed itself, for parties a mediator added); every other sealed name prints as "（已脱敏）".
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jinlin.web import Problem, etag_of, problem_responses
from mediation.adapters.http.dependencies import CaseId, Reader, context_of, may_read_names
from mediation.adapters.http.errors import case_not_found_problem
from mediation.adapters.http.printing import agreement_html, record_html
from mediation.application.loading import read_case
from mediation.application.parties import display_names
from mediation.domain.parties import Party

router = APIRouter(tags=["printable documents"])
HTML = {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "A printable HTML document."}


@router.get(
    "/cases/{case_id}/agreement.html",
    response_class=HTMLResponse,
    responses={200: HTML, **problem_responses(404)},
)
async def agreement_document(case_id: CaseId, request: Request, staff: Reader) -> HTMLResponse:
    """The agreement (人民调解协议书) in force, or the draft being signed (marked as a draft)."""
    context = context_of(request)
    state, _stored = await read_case(context.store, case_id)
    if state is None:
        raise case_not_found_problem(case_id)
    if state.agreement is None:
        raise Problem(
            404, "No agreement", f"Case {case_id} has no agreement drafted or in effect.", slug="no-agreement"
        )
    parties: dict[str, Party] = {party_id: record.party for party_id, record in state.parties.items()}
    async with context.store.engines.reader.connect() as conn:
        names = await display_names(conn, context, parties, entitled=may_read_names(staff))
    html = agreement_html(state, state.agreement, names)
    return HTMLResponse(html, headers={"ETag": etag_of(state.version)})


@router.get(
    "/cases/{case_id}/record.html",
    response_class=HTMLResponse,
    responses={200: HTML, **problem_responses(404)},
)
async def record_document(case_id: CaseId, request: Request, staff: Reader) -> HTMLResponse:
    """The case record (人民调解案件记录): application or referral, acceptance, parties and their rights, meetings,
    the agreement, each obligation's outcome, follow-up visits, the end and the timeline."""
    context = context_of(request)
    state, stored = await read_case(context.store, case_id)
    if state is None:
        raise case_not_found_problem(case_id)
    parties: dict[str, Party] = {party_id: record.party for party_id, record in state.parties.items()}
    async with context.store.engines.reader.connect() as conn:
        names = await display_names(conn, context, parties, entitled=may_read_names(staff))
    return HTMLResponse(record_html(state, stored, names), headers={"ETag": etag_of(state.version)})
