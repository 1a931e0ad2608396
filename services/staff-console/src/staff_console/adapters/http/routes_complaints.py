"""The complaints queue, a complaint's page, and the handler's actions (through the complaints API)."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from staff_console.adapters.http.actions import answer, drop_empty, form_int, no_token, wait_until
from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.ids import Id
from staff_console.adapters.http.rendering import render
from staff_console.adapters.http.routes_feed import event_view
from staff_console.adapters.http.security import Forbidden, PageNotFound, Viewer, checked_form, screen
from staff_console.application import queries
from staff_console.domain.access import Action, Screen

router = APIRouter(include_in_schema=False)
Reader = Annotated[Viewer, Depends(screen(Screen.COMPLAINTS))]
VIEWS = ("open", "mine", "team", "overdue", "all")
ACTIONABLE = {
    Action.ACKNOWLEDGE: {"filed"},
    Action.ASSIGN: {"filed", "acknowledged", "assigned", "awaiting_information"},
    Action.NOTE: {
        "filed",
        "acknowledged",
        "assigned",
        "awaiting_information",
        "escalated",
        "resolved",
        "resolved_by_agreement",
    },
    Action.RESOLVE: {"acknowledged", "assigned"},
    Action.CALL_BACK: {"resolved", "resolved_by_agreement"},
}
"""In which statuses each action makes sense (the service decides; the page only offers what can work)."""

ASSIGNEES = (
    ("utility", "state-grid-tianchang", "国网天长市供电公司"),
    ("utility", "tianchang-water", "天长市自来水公司"),
    ("property_company", "property-company", "物业公司"),
    ("team", "center-desk", "中心受理组"),
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


async def _queue(request: Request, viewer: Viewer, view: str) -> list[dict[str, Any]]:
    context = console_of(request)
    async with context.reader() as conn:
        return await queries.complaint_queue(
            conn,
            view,
            staff_id=viewer.account.staff_id,
            team=context.accounts.teammates(viewer.account),
            now=_now(),
        )


@router.get("/complaints")
async def queue_page(request: Request, viewer: Reader, view: Annotated[str, Query(max_length=20)] = "open") -> Response:
    view = view if view in VIEWS else "open"
    rows = await _queue(request, viewer, view)
    return render(request, viewer, "complaints.html", rows=rows, view=view, views=VIEWS)


@router.get("/complaints/rows")
async def queue_rows(request: Request, viewer: Reader, view: Annotated[str, Query(max_length=20)] = "open") -> Response:
    """The queue's table body alone, which the page fetches when an event arrives."""
    view = view if view in VIEWS else "open"
    rows = await _queue(request, viewer, view)
    return render(request, viewer, "complaint_rows.html", rows=rows, view=view)


def _assignee_options(request: Request) -> list[tuple[str, str, str]]:
    accounts = console_of(request).accounts.all()
    handlers = [
        ("handler", account.staff_id, account.display_name)
        for account in accounts
        if any(role.value == "handler" for role in account.roles)
    ]
    return [*handlers, *ASSIGNEES]


@router.get("/complaints/{complaint_id}")
async def complaint_page(request: Request, viewer: Reader, complaint_id: Id) -> Response:
    context = console_of(request)
    async with context.reader() as conn:
        row = await queries.complaint(conn, complaint_id, _now())
        history = await queries.subject_events(conn, "complaints", complaint_id)
    if row is None:
        raise PageNotFound()
    actions = [action for action, statuses in ACTIONABLE.items() if row["status"] in statuses and viewer.does(action)]
    return render(
        request,
        viewer,
        "complaint.html",
        complaint=row,
        history=[event_view(event, viewer.language, console_of(request).actor_names) for event in reversed(history)],
        actions=actions,
        any_action=any(viewer.does(action) for action in ACTIONABLE),
        assignees=_assignee_options(request),
        idempotency_key=str(uuid.uuid4()),
    )


def _body(action: Action, form: dict[str, str]) -> dict[str, Any] | None:
    if action is Action.ACKNOWLEDGE:
        return None
    if action is Action.ASSIGN:
        kind, _, rest = form.get("assignee", "").partition("|")
        assignee_id, _, name = rest.partition("|")
        return {"assignee": {"kind": kind, "id": assignee_id, "name": name}, "reason": form.get("reason", "")}
    if action is Action.NOTE:
        return {"text": form.get("text", ""), "visibility": form.get("visibility", "internal")}
    if action is Action.RESOLVE:
        return {"resolution_note": form.get("resolution_note", "")}
    call_back: dict[str, Any] = {
        "outcome": form.get("outcome"),
        "satisfaction": form_int(form, "satisfaction"),
        "remark": form.get("remark"),
    }
    return drop_empty(call_back)


@router.post("/complaints/{complaint_id}/act/{action}")
async def act(request: Request, viewer: Reader, complaint_id: Id, action: str) -> Response:
    if action not in {a.value for a in ACTIONABLE}:
        raise PageNotFound()
    chosen = Action(action)
    if not viewer.does(chosen):
        raise Forbidden()
    form = await checked_form(request, viewer)
    back = f"/complaints/{complaint_id}"
    token = viewer.account.service_token
    if token is None:
        return no_token(request, viewer, back)
    context = console_of(request)
    outcome = await context.services.command(
        chosen.value,
        token=token,
        body=_body(chosen, form),
        idempotency_key=form.get("idem") or str(uuid.uuid4()),
        if_match=form_int(form, "if_match"),
        complaint_id=complaint_id,
    )
    if outcome.ok and outcome.version is not None:
        version = outcome.version

        async def arrived() -> bool:
            async with context.reader() as conn:
                row = await queries.complaint(conn, complaint_id, _now())
            return row is not None and row["version"] >= version

        await wait_until(arrived)
    return answer(request, viewer, outcome, chosen.value, back, "complaints")
