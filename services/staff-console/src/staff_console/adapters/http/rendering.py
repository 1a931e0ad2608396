"""Jinja2 templates and the small formatting helpers every page uses (times in Beijing time, money in yuan)."""

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.security import Viewer
from staff_console.adapters.http.sessions import SESSION_COOKIE
from staff_console.domain.access import Action, Screen
from staff_console.domain.words import event_label, event_name, label, translate

BEIJING = ZoneInfo("Asia/Shanghai")
FLASH_COOKIE = "jinlin_console_flash"

environment = Environment(
    loader=PackageLoader("staff_console", "adapters/http/templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def parse_instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: str | None, style: str = "full") -> str:
    instant = parse_instant(value)
    if instant is None:
        return "—"
    local = instant.astimezone(BEIJING)
    return local.strftime(
        {
            "full": "%Y-%m-%d %H:%M",
            "short": "%m-%d %H:%M",
            "seconds": "%m-%d %H:%M:%S",
            "precise": "%Y-%m-%d %H:%M:%S",
            "time": "%H:%M",
        }[style]
    )


def money(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def summary(language: str, event_type: str, data: dict[str, Any]) -> str:
    """One line about what an event says, for lists (never personal data: those fields are sealed)."""
    name = event_name(event_type)
    if name == "DisbursementSigned":
        return f"{label(language, 'signer', str(data.get('role')))} · {data.get('signer_id', '')}"
    for key in ("description", "resolution_note", "text", "reason", "performance", "answer", "question"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])[:120]
    if isinstance(data.get("assignee"), dict):
        return str(data["assignee"].get("name", ""))
    if isinstance(data.get("mediator"), dict):
        return str(data["mediator"].get("name", ""))
    if name == "CallBackRecorded" or (name == "ComplaintClosed" and data.get("outcome")):
        return label(language, "outcome", str(data.get("outcome")))
    if isinstance(data.get("order"), dict):
        order = data["order"]
        return f"{money(order.get('amount_fen'))} → {(order.get('payee') or {}).get('name', '')}"
    if isinstance(data.get("amount_fen"), int):
        return money(data["amount_fen"])
    for key in ("place", "label", "meter_number", "household_id", "party_id", "term_id", "agreement_id"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    return ""


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def render(
    request: Request, viewer: Viewer | None, template: str, status_code: int = 200, **values: Any
) -> HTMLResponse:
    context = console_of(request)
    requested = values.pop("language", None)
    language = viewer.language if viewer else (requested or "zh")
    flash = context.sessions.signer.unpack(request.cookies.get(FLASH_COOKIE))

    def t(key: str, **fields: object) -> str:
        return translate(language, key, **fields)

    def lbl(kind: str, value: str | None) -> str:
        if kind == "category" and value in context.category_names:
            names = context.category_names[value]
            return names[1] if language == "en" else names[0]
        return label(language, kind, value)

    page = environment.get_template(template).render(
        request=request,
        viewer=viewer,
        lang=language,
        t=t,
        label=lbl,
        event_label=lambda event_type: event_label(language, event_type),
        summary=lambda event_type, data: summary(language, event_type, data),
        when=when,
        who=lambda actor: context.actor_names.get(actor, actor),
        money=money,
        svg=Markup,
        json=pretty_json,
        Screen=Screen,
        Action=Action,
        flash=flash,
        path=request.url.path,
        **values,
    )
    response = HTMLResponse(page, status_code=status_code)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def set_flash(response: Any, request: Request, kind: str, text: str) -> None:
    signer = console_of(request).sessions.signer
    response.set_cookie(
        FLASH_COOKIE, signer.pack({"kind": kind, "text": text}), httponly=True, samesite="lax", path="/"
    )


def session_cookie(response: Any, request: Request, value: str) -> None:
    settings = console_of(request).settings
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
        max_age=int(settings.session_hours * 3600),
    )
