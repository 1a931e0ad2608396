"""The notary's statements: issued periodically (a closed month) or on demand, read as data, and served in their
three forms: signed canonical JSON, camt.053.001.08 XML and a PDF (``/statements/{id}.json|.xml|.pdf``, or
``?format=``, or an ``Accept`` header of ``application/xml`` or ``application/pdf``)."""

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from billing_escrow.adapters.http.commanding import DOCS, command, creating
from billing_escrow.adapters.http.dependencies import (
    AccountId,
    Reader,
    StatementId,
    StatementIssuer,
    context_of,
    statement_view,
)
from billing_escrow.adapters.http.schemas import IssueStatement, StatementDetail, StatementView
from billing_escrow.adapters.statement_documents import Documents, render
from billing_escrow.application import queries
from billing_escrow.application.context import EscrowContext
from billing_escrow.application.statements import StatementRequest, issue
from billing_escrow.domain import STATEMENT, NotFound, StatementIssued, StatementKind
from jinlin.store import Stream, Transaction
from jinlin.web import CommandResult, Problem, Role, problem_responses, versioned_response

router = APIRouter(tags=["statements"])

Format = Literal["json", "xml", "pdf"]
MEDIA_TYPES: dict[str, str] = {"json": "application/json", "xml": "application/xml", "pdf": "application/pdf"}
_DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The statement in the form asked for.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/xml": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    **problem_responses(404),
}


@router.post(
    "/accounts/{account_id}/statements", status_code=201, response_model=StatementView, **creating(DOCS, StatementView)
)
async def issue_statement(
    account_id: AccountId, body: IssueStatement, request: Request, staff: StatementIssuer
) -> Response:
    """Issue the next statement: ``periodic`` for a month (its books are closed through its last day, here if not
    yet) or ``on_demand`` for any days. ``200`` when that statement was already issued. The notary may ask for
    on-demand statements only. Published to the notary on ``jinlin.escrow.statement.<account_id>.issued``."""
    if body.kind is StatementKind.PERIODIC and not staff.has_any((Role.FINANCE, Role.SUPERVISOR)):
        raise Problem(
            403, "Role required", "Periodic statements close the books: finance or supervisor.", slug="role-required",
            required_roles=[Role.FINANCE, Role.SUPERVISOR],
        )  # fmt: skip
    asked = StatementRequest(
        kind=body.kind,
        period=body.period,
        period_start=body.period_start,
        period_end=body.period_end,
        statement_id=body.statement_id,
    )

    async def handle(tx: Transaction, context: EscrowContext, at: datetime) -> CommandResult:
        before = len(tx.appended)
        statement_id = await issue(tx, context, account_id, asked, at)
        row = await queries.statement_row(tx.connection, statement_id)
        assert row is not None
        issued = any(event.type.endswith(".StatementIssued.v1") for event in tx.appended[before:])
        return CommandResult(
            statement_view(row),
            version=row["sequence"],
            headers={"Location": f"/statements/{statement_id}"},
            status_code=201 if issued else 200,
        )

    return await command(request, staff, "statement", handle, stream=Stream(STATEMENT, account_id), status_code=201)


@router.get("/accounts/{account_id}/statements", response_model=list[StatementView], responses=problem_responses(404))
async def statements_of_account(account_id: AccountId, request: Request, _staff: Reader) -> list[StatementView]:
    """Every statement of the account, in sequence (each chained to the one before by its hash)."""
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        if await queries.account_row(conn, account_id) is None:
            raise NotFound("escrow account", account_id)
        rows = await queries.statements_of(conn, account_id)
    return [statement_view(row) for row in rows]


async def _statement(context: EscrowContext, statement_id: str) -> tuple[dict[str, Any], StatementIssued]:
    async with context.store.engines.reader.connect() as conn:
        row = await queries.statement_row(conn, statement_id)
    if row is None:
        raise NotFound("statement", statement_id)
    stored = await context.store.read_stream(Stream(STATEMENT, row["account_id"]), from_version=row["sequence"])
    event = context.store.registry.decode(stored[0].type, stored[0].data)
    assert isinstance(event, StatementIssued)
    assert event.statement_id == statement_id
    return row, event


async def _documents(request: Request, event: StatementIssued) -> Documents:
    return await asyncio.to_thread(render, context_of(request), event)


def _document_response(documents: Documents, form: str, statement_id: str) -> Response:
    content: bytes = getattr(documents, form)
    filename = f"{statement_id}.{form}"
    return Response(
        content,
        media_type=MEDIA_TYPES[form],
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


class SigningKeyView(BaseModel):
    alg: str = "Ed25519"
    key_id: str = Field(description="The first 16 hex digits of the SHA-256 of the raw public key.")
    public_key: str = Field(description="The raw 32-byte public key in hex, as signed statements carry it.")
    public_key_pem: str = Field(description="The same key as a PEM PUBLIC KEY block: the file a notary pins.")


@router.get("/statement-signing-key", response_model=SigningKeyView)
async def statement_signing_key(request: Request, _staff: Reader) -> SigningKeyView:
    """The center's public key for statements (``jinlin notary verify --key``): check its id over a trusted line."""
    from billing_escrow.statements.keys import key_id, public_key_hex, public_key_pem

    key = await asyncio.to_thread(context_of(request).signing_key)
    return SigningKeyView(key_id=key_id(key), public_key=public_key_hex(key), public_key_pem=public_key_pem(key))


@router.get(
    "/statements/{statement_id}.{form}",
    responses=_DOCUMENT_RESPONSES,
    response_class=Response,
    summary="A statement as signed JSON, camt.053 XML or PDF",
)
async def statement_document(statement_id: StatementId, form: Format, request: Request, _staff: Reader) -> Response:
    _row, event = await _statement(context_of(request), statement_id)
    return _document_response(await _documents(request, event), form, statement_id)


def _asked_form(request: Request, form: Format | None) -> str | None:
    if form is not None:
        return form
    accept = request.headers.get("accept", "")
    if "application/pdf" in accept:
        return "pdf"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return None


@router.get(
    "/statements/{statement_id}",
    response_model=StatementDetail,
    responses={
        200: {
            "description": "The statement with its data; another form with format= or Accept.",
            "content": {"application/xml": {}, "application/pdf": {}},
        },
        **problem_responses(404),
    },
)
async def statement(
    statement_id: StatementId,
    request: Request,
    _staff: Reader,
    form: Annotated[Format | None, Query(alias="format", description="json, xml or pdf: the document itself")] = None,
) -> Response:
    """The statement and its data (``ETag``: its sequence number), or one of its documents."""
    row, event = await _statement(context_of(request), statement_id)
    asked = _asked_form(request, form)
    if asked is not None:
        return _document_response(await _documents(request, event), asked, statement_id)
    detail = StatementDetail(**statement_view(row).model_dump(), statement=event.statement, signature=event.signature)
    return versioned_response(request, detail.model_dump(mode="json"), row["sequence"])
