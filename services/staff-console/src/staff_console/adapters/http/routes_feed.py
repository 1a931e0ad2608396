"""The live feed page and the live stream (Server-Sent Events) every live page listens to."""

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.rendering import render, summary, when
from staff_console.adapters.http.security import SignedIn, Viewer, screen
from staff_console.application import queries
from staff_console.domain.access import Screen
from staff_console.domain.words import event_label, label

router = APIRouter(include_in_schema=False)
FeedViewer = Annotated[Viewer, Depends(screen(Screen.FEED))]
Filter = Annotated[str | None, Query(max_length=200)]
KEEPALIVE_SECONDS = 10.0


def event_view(row: dict[str, Any], language: str, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a page shows of one logged event (the row of ``console_events``)."""
    data = json.loads(row["envelope"]).get("data", {}) if "envelope" in row else {}
    return {
        "received": row["received"],
        "id": row["id"],
        "service": row["service"],
        "service_label": label(language, "service", row["service"]),
        "type": row["type"],
        "label": event_label(language, row["type"]),
        "subject": row["subject"],
        "caseid": row["caseid"],
        "compound": row["compound"],
        "actor": (names or {}).get(row["actor"], row["actor"]),
        "time": when(row["time"], "seconds"),
        "sequence": row["sequence"],
        "summary": summary(language, row["type"], data),
    }


@router.get("/feed")
async def feed_page(
    request: Request, viewer: FeedViewer, service: Filter = None, compound: Filter = None, case: Filter = None
) -> Response:
    context = console_of(request)
    async with context.reader() as conn:
        rows = await queries.feed(
            conn, viewer.services, service=service or None, compound=compound or None, case=case or None
        )
        known_compounds = await queries.compounds(conn)
    return render(
        request,
        viewer,
        "feed.html",
        events=[event_view(row, viewer.language, context.actor_names) for row in rows],
        services=sorted(viewer.services),
        compounds=known_compounds,
        filters={"service": service or "", "compound": compound or "", "case": case or ""},
        live_query=urlencode({k: v for k, v in {"service": service, "compound": compound, "case": case}.items() if v}),
    )


def _visible(row: dict[str, Any], viewer: Viewer, filters: dict[str, str | None]) -> bool:
    if row["service"] not in viewer.services:
        return False
    wanted = {
        "service": filters["service"],
        "compound": filters["compound"],
        "caseid": filters["case"],
        "subject": filters["subject"],
    }
    return all(not value or row[column] == value for column, value in wanted.items())


@router.get("/live/stream")
async def live_stream(
    request: Request,
    viewer: SignedIn,
    service: Filter = None,
    compound: Filter = None,
    case: Filter = None,
    subject: Filter = None,
) -> StreamingResponse:
    """``text/event-stream`` of every event the viewer may see (optionally filtered), as it commits."""
    hub = console_of(request).hub
    names = console_of(request).actor_names
    filters = {"service": service, "compound": compound, "case": case, "subject": subject}

    async def events() -> AsyncIterator[str]:
        async with hub.subscribe() as queue:
            yield "retry: 2000\n: connected\n\n"
            while not await request.is_disconnected():
                try:
                    row = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if _visible(row, viewer, filters):
                    payload = json.dumps(event_view(row, viewer.language, names), ensure_ascii=False)
                    yield f"id: {row['received']}\nevent: console-event\ndata: {payload}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
