"""The printable documents, each as a web page and as a PDF: ``GET /cases/{case_id}/agreement.html|.pdf``
(人民调解协议书) and ``GET /cases/{case_id}/record.html|.pdf`` (人民调解案件记录). Both forms are rendered from the same
content (``mediation.adapters.documents``), so they always say the same; each answer's ``ETag`` is the case's
version.

Residents' names are printed only for mediators and supervisors, and only when this service holds the key (names it
sealed itself, for parties a mediator added); every other sealed name prints as "（已脱敏）".
"""

from typing import Any, Final, Literal

from fastapi import APIRouter, Request, Response

from jinlin.web import Problem, etag_of, problem_responses
from mediation.adapters.documents.agreement import agreement_document
from mediation.adapters.documents.html import render_html
from mediation.adapters.documents.model import Document
from mediation.adapters.documents.pdf import render_pdf
from mediation.adapters.documents.record import record_document
from mediation.adapters.http.dependencies import CaseId, Reader, context_of, may_read_names
from mediation.adapters.http.errors import case_not_found_problem
from mediation.application.loading import read_case
from mediation.application.parties import display_names
from mediation.domain import Agreement, CaseState

router = APIRouter(tags=["printable documents"])

Form = Literal["html", "pdf"]
MEDIA_TYPES: Final[dict[str, str]] = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
HTML: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "A printable HTML document."},
    **problem_responses(404),
}
PDF: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The document as an A4 PDF.",
    },
    **problem_responses(404),
}


def agreement_of(state: CaseState) -> Agreement:
    if state.agreement is None:
        raise Problem(
            404, "No agreement", f"Case {state.case_id} has no agreement drafted or in effect.", slug="no-agreement"
        )
    return state.agreement


def document_response(document: Document, form: Form, state: CaseState, filename: str) -> Response:
    headers = {"ETag": etag_of(state.version)}
    if form == "html":
        return Response(render_html(document).encode(), media_type=MEDIA_TYPES[form], headers=headers)
    content = render_pdf(document, subject=f"case_id={state.case_id}; version={state.version}")
    headers["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return Response(content, media_type=MEDIA_TYPES[form], headers=headers)


async def _agreement(case_id: str, request: Request, entitled: bool, form: Form) -> Response:
    context = context_of(request)
    state, _stored = await read_case(context.store, case_id)
    if state is None:
        raise case_not_found_problem(case_id)
    agreement = agreement_of(state)
    parties = {party_id: record.party for party_id, record in state.parties.items()}
    async with context.store.engines.reader.connect() as conn:
        names = await display_names(conn, context, parties, entitled=entitled)
    return document_response(agreement_document(state, agreement, names), form, state, f"agreement-{case_id}")


async def _record(case_id: str, request: Request, entitled: bool, form: Form) -> Response:
    context = context_of(request)
    state, stored = await read_case(context.store, case_id)
    if state is None:
        raise case_not_found_problem(case_id)
    parties = {party_id: record.party for party_id, record in state.parties.items()}
    async with context.store.engines.reader.connect() as conn:
        names = await display_names(conn, context, parties, entitled=entitled)
    return document_response(record_document(state, stored, names), form, state, f"record-{case_id}")


@router.get("/cases/{case_id}/agreement.html", response_class=Response, responses=HTML)
async def agreement_page(case_id: CaseId, request: Request, staff: Reader) -> Response:
    """The agreement (人民调解协议书) in force, or the draft being signed (marked as a draft)."""
    return await _agreement(case_id, request, may_read_names(staff), "html")


@router.get("/cases/{case_id}/agreement.pdf", response_class=Response, responses=PDF)
async def agreement_pdf(case_id: CaseId, request: Request, staff: Reader) -> Response:
    """The agreement (人民调解协议书) as an A4 PDF, with the same content as the HTML."""
    return await _agreement(case_id, request, may_read_names(staff), "pdf")


@router.get("/cases/{case_id}/record.html", response_class=Response, responses=HTML)
async def record_page(case_id: CaseId, request: Request, staff: Reader) -> Response:
    """The case record (人民调解案件记录): application or referral, acceptance, parties and their rights, meetings,
    the agreement, each obligation's outcome, follow-up visits, the end and the timeline."""
    return await _record(case_id, request, may_read_names(staff), "html")


@router.get("/cases/{case_id}/record.pdf", response_class=Response, responses=PDF)
async def record_pdf(case_id: CaseId, request: Request, staff: Reader) -> Response:
    """The case record (人民调解案件记录) as an A4 PDF, with the same content as the HTML."""
    return await _record(case_id, request, may_read_names(staff), "pdf")
