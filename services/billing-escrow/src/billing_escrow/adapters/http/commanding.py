"""How every command route runs: one store transaction through ``run_command`` (idempotency keys, ``If-Match``,
the actor recorded), the clock read once, and the answer read back from the read model inside the transaction."""

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from billing_escrow.adapters.http.dependencies import account_view, context_of, disbursement_view
from billing_escrow.adapters.http.schemas import AccountView, DisbursementView
from billing_escrow.application import queries
from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import business_date
from jinlin.store import Stream, Transaction
from jinlin.web import CommandResult, Staff, command_docs, problem_responses, run_command


def _docs(**flags: bool) -> dict[str, Any]:
    docs = command_docs(**flags)
    docs["responses"] = {**problem_responses(404), **docs["responses"]}
    return docs


DOCS = _docs()
# Money endpoints: a retry without the first request's key could move money twice, so the key is required.
MONEY_DOCS = _docs(require_idempotency_key=True)
# Commands that change who must co-sign, or end the supervision: the caller must have read the current state.
CONDITIONAL_DOCS = _docs(require_if_match=True)


def creating(docs: dict[str, Any], model: type[Any]) -> dict[str, Any]:
    """Docs of a create that answers ``201`` when it created and ``200`` when the same thing existed already."""
    repeated = {200: {"model": model, "description": "Recorded before: nothing changed, the existing one is returned"}}
    return {**docs, "responses": {**docs["responses"], **repeated}}


Handle = Callable[[Transaction, EscrowContext, datetime], Awaitable[CommandResult]]


async def command(
    request: Request,
    staff: Staff,
    scope: str,
    handle: Handle,
    *,
    stream: Stream | None,
    money: bool = False,
    require_if_match: bool = False,
    status_code: int = 200,
) -> Response:
    context = context_of(request)

    async def handler(tx: Transaction) -> CommandResult:
        # Read the clock inside the transaction, after the write lock: a command that waited behind another must
        # not be dated before the events that committed while it waited.
        return await handle(tx, context, context.clock())

    return await run_command(
        request,
        context.store,
        handler,
        actor=staff,
        scope=f"escrow.{scope}",
        stream=stream,
        require_idempotency_key=money,
        require_if_match=require_if_match,
        status_code=status_code,
    )


def booking_date(given: date | None, at: datetime) -> date:
    return given if given is not None else business_date(at)


async def account_answer(conn: AsyncConnection, account_id: str) -> AccountView:
    row = await queries.account_row(conn, account_id)
    assert row is not None, "the projection writes the row in the same transaction"
    return account_view(row)


async def disbursement_answer(conn: AsyncConnection, account_id: str, disbursement_id: str) -> DisbursementView:
    row = await queries.disbursement_row(conn, account_id, disbursement_id)
    assert row is not None, "the projection writes the row in the same transaction"
    return disbursement_view(row)
