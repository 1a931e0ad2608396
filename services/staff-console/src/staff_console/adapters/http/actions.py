"""Sending a staff member's action to a service, and telling them how it went."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse

from staff_console.adapters.http.rendering import set_flash
from staff_console.adapters.http.security import Viewer
from staff_console.adapters.services import Outcome
from staff_console.domain.words import label, translate

WAIT_FOR_EVENT_SECONDS = 3.0


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = WAIT_FOR_EVENT_SECONDS) -> bool:
    """Give the service's event a moment to reach the console, so the page shows the action's effect."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


def action_name(language: str, action: str) -> str:
    return translate(language, f"action.{action}")


def answer(
    request: Request, viewer: Viewer, outcome: Outcome, action: str, back: str, service: str
) -> RedirectResponse:
    language = viewer.language
    response = RedirectResponse(back, status_code=303)
    if outcome.ok:
        set_flash(response, request, "ok", translate(language, "action.sent", action=action_name(language, action)))
    elif outcome.status == 412:
        set_flash(response, request, "error", translate(language, "action.stale"))
    elif outcome.unreachable:
        name = label(language, "service", service)
        set_flash(response, request, "error", translate(language, "action.unavailable", service=name))
    else:
        set_flash(response, request, "error", translate(language, "action.failed", detail=outcome.detail()))
    return response


def no_token(request: Request, viewer: Viewer, back: str) -> RedirectResponse:
    response = RedirectResponse(back, status_code=303)
    set_flash(response, request, "error", translate(viewer.language, "action.no_token"))
    return response


def form_int(form: dict[str, str], name: str) -> int | None:
    value = form.get(name, "").strip()
    return int(value) if value.isdigit() else None


def drop_empty(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value not in (None, "")}
