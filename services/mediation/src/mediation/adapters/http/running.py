"""Running a desk's command on one case through the command kit: its documented answers, the transaction, and the
case as it now stands (with its version as ``ETag``) as the answer."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import Request, Response

from jinlin.store import Transaction
from jinlin.web import CommandResult, Staff, command_docs, problem_responses, run_command
from mediation.adapters.http.dependencies import context_of
from mediation.adapters.http.views import case_view
from mediation.application.changes import Decision, change
from mediation.application.loading import case_stream
from mediation.domain import CaseState


def _docs(*, require_if_match: bool = False) -> dict[str, Any]:
    # What every command may answer besides success: its headers' problems, an unknown case or item (404).
    docs = command_docs(require_if_match=require_if_match)
    docs["responses"] = {**problem_responses(404), **docs["responses"]}
    return docs


DOCS = _docs()
CONDITIONAL_DOCS = _docs(require_if_match=True)


async def answer(state: CaseState, now: datetime) -> CommandResult:
    return CommandResult(case_view(state, now), version=state.version)


async def run_on_case(
    request: Request,
    staff: Staff,
    case_id: str,
    scope: str,
    handle: Callable[[Transaction, datetime], Awaitable[CaseState]],
    *,
    require_if_match: bool = False,
) -> Response:
    context = context_of(request)
    now = context.clock()

    async def in_transaction(tx: Transaction) -> CommandResult:
        return await answer(await handle(tx, now), now)

    return await run_command(
        request,
        context.store,
        in_transaction,
        actor=staff,
        scope=f"mediation.{scope}",
        stream=case_stream(case_id),
        caseid=case_id,
        require_if_match=require_if_match,
        status_code=200,
    )


async def change_case(
    request: Request, staff: Staff, case_id: str, scope: str, decide: Decision, *, require_if_match: bool = False
) -> Response:
    async def handle(tx: Transaction, now: datetime) -> CaseState:
        return await change(tx, case_id, decide, now)

    return await run_on_case(request, staff, case_id, scope, handle, require_if_match=require_if_match)
