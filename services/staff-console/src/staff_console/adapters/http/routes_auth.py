"""Signing in and out, and the language switch."""

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.rendering import render, session_cookie
from staff_console.adapters.http.security import (
    LANGUAGE_COOKIE,
    SignedIn,
    checked_form,
    language_of,
    read_form,
    same_origin,
)
from staff_console.adapters.http.sessions import SESSION_COOKIE
from staff_console.domain.words import LANGUAGES

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "jinlin_console_login"


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an absolute URL to elsewhere (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/dashboard"
    return target


def _login_page(
    request: Request, *, error: str | None = None, next_path: str = "/dashboard", status: int = 200, username: str = ""
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        None,
        "login.html",
        status_code=status,
        language=language_of(request),
        login_token=token,
        error=error,
        next_path=_safe_next(next_path),
        username=username,
    )
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="lax", path="/login")
    return response


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_path=next or "/dashboard")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    token = form.get("login_token", "")
    if not expected or not same_origin(request) or not hmac.compare_digest(expected.encode(), token.encode()):
        return _login_page(request, error="login.expired", next_path=form.get("next", ""), status=403)
    context = console_of(request)
    account = context.accounts.authenticate(form.get("username", "").strip(), form.get("password", ""))
    if account is None:
        return _login_page(
            request, error="login.failed", next_path=form.get("next", ""), status=401, username=form.get("username", "")
        )
    cookie, _session = await context.sessions.create(account.username)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    session_cookie(response, request, cookie)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, viewer: SignedIn) -> Response:
    await checked_form(request, viewer)
    await console_of(request).sessions.destroy(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{language}")
async def switch_language(
    request: Request, language: Annotated[str, Path(pattern="^(zh|en)$")], back: str | None = None
) -> Response:
    response = RedirectResponse(_safe_next(back), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="lax", path="/", max_age=365 * 24 * 3600)
    return response
