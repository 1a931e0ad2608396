"""The mediation board and a case's page (meetings, agreement, obligations), from the mediation events."""

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.ids import Id
from staff_console.adapters.http.rendering import render
from staff_console.adapters.http.routes_feed import event_view
from staff_console.adapters.http.security import PageNotFound, Viewer, screen
from staff_console.application import queries
from staff_console.domain.access import Screen
from staff_console.domain.mediation_case import fold_case

router = APIRouter(include_in_schema=False)
Reader = Annotated[Viewer, Depends(screen(Screen.MEDIATION))]


@router.get("/mediation")
async def board(request: Request, viewer: Reader) -> Response:
    async with console_of(request).reader() as conn:
        cases = await queries.mediation_board(conn)
        events = (await queries.counts_by_service(conn)).get("mediation", 0)
    return render(request, viewer, "mediation.html", cases=cases, received=events)


@router.get("/mediation/{case_id}")
async def case_page(request: Request, viewer: Reader, case_id: Id) -> Response:
    async with console_of(request).reader() as conn:
        row = await queries.mediation_case(conn, case_id)
        history = await queries.subject_events(conn, "mediation", case_id)
    if row is None and not history:
        raise PageNotFound()
    case = fold_case(case_id, [(event["type"], json.loads(event["envelope"])["data"]) for event in history])
    return render(
        request,
        viewer,
        "mediation_case.html",
        row=row,
        case=case,
        history=[event_view(event, viewer.language, console_of(request).actor_names) for event in reversed(history)],
    )
