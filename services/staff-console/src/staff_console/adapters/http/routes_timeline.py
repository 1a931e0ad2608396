"""The case timeline (every service's events, in causal order, each verified) and its signed evidence file."""

import base64
import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.ids import ID_PATTERN, Id
from staff_console.adapters.http.rendering import render, summary
from staff_console.adapters.http.security import Viewer, screen
from staff_console.application import queries
from staff_console.application.timeline_service import case_timeline, evidence_document
from staff_console.domain.access import Screen
from staff_console.domain.evidence import key_id, public_key_bytes, sign_evidence

router = APIRouter(include_in_schema=False)
Reader = Annotated[Viewer, Depends(screen(Screen.TIMELINE))]
Exporter = Annotated[Viewer, Depends(screen(Screen.EVIDENCE))]


@router.get("/timeline")
async def find(request: Request, viewer: Reader, case: Annotated[str, Query(max_length=200)] = "") -> Response:
    reference = case.strip()
    if reference and re.match(ID_PATTERN, reference):
        async with console_of(request).reader() as conn:
            found = await queries.find_case_of(conn, reference)
        return RedirectResponse(f"/cases/{found or reference}/timeline", status_code=303)
    return render(request, viewer, "timeline.html", case_id=None, entries=[], reference=reference)


@router.get("/cases/{case_id}/timeline")
async def timeline(request: Request, viewer: Reader, case_id: Id) -> Response:
    async with console_of(request).reader() as conn:
        entries = await case_timeline(conn, case_id, viewer.services)
    services = sorted({entry.event.service for entry in entries})
    failing = sum(1 for entry in entries if not entry.verification.verified)
    return render(
        request,
        viewer,
        "timeline.html",
        case_id=case_id,
        entries=entries,
        services=services,
        failing=failing,
        reference=case_id,
        describe=lambda entry: summary(viewer.language, entry.event.envelope.type, entry.event.envelope.data),
    )


@router.get("/cases/{case_id}/evidence.json")
async def evidence(request: Request, viewer: Exporter, case_id: Id) -> Response:
    context = console_of(request)
    async with context.reader() as conn:
        document = await evidence_document(conn, case_id, viewer.services, exported_by=viewer.account.actor)
    signed = sign_evidence(document, context.signing_key)
    body = json.dumps(signed, ensure_ascii=False, indent=2).encode()
    headers = {"Content-Disposition": f'attachment; filename="evidence-{case_id}.json"', "Cache-Control": "no-store"}
    return Response(body, media_type="application/json", headers=headers)


@router.get("/evidence/public-key")
async def public_key(request: Request) -> dict[str, str]:
    """The console's evidence signing key, for ``jinlin audit verify-export --public-key``."""
    raw = public_key_bytes(console_of(request).signing_key.public_key())
    return {"algorithm": "Ed25519", "public_key": base64.b64encode(raw).decode(), "key_id": key_id(raw)}
