"""Who is looking, what they may see and do, and the checks every form passes (session, CSRF, same origin)."""

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, Request

from jinlin.web.staff import Role
from staff_console.adapters.http.context import console_of
from staff_console.adapters.http.sessions import SESSION_COOKIE, Session
from staff_console.application.accounts import Account
from staff_console.domain.access import (
    Action,
    Screen,
    may_do,
    may_see,
    readable_services,
    signer_roles,
)
from staff_console.domain.words import supported

LANGUAGE_COOKIE = "jinlin_console_lang"
MAX_FORM_BYTES = 64 * 1024


class SignInRequired(Exception):
    def __init__(self, next_path: str = "/") -> None:
        self.next_path = next_path


class Forbidden(Exception):
    def __init__(self, reason: str = "forbidden.text") -> None:
        self.reason = reason


class PageNotFound(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    account: Account
    session: Session
    language: str

    @property
    def roles(self) -> frozenset[Role]:
        return self.account.roles

    def sees(self, screen: Screen | str) -> bool:
        return may_see(self.roles, Screen(screen))

    def does(self, action: Action | str) -> bool:
        return may_do(self.roles, Action(action))

    @property
    def services(self) -> frozenset[str]:
        return readable_services(self.roles)

    @property
    def signer_roles(self) -> frozenset[str]:
        return signer_roles(self.roles)


def language_of(request: Request) -> str:
    return supported(request.cookies.get(LANGUAGE_COOKIE))


async def current_viewer(request: Request) -> Viewer:
    context = console_of(request)
    session = await context.sessions.load(request.cookies.get(SESSION_COOKIE))
    account = context.accounts.get(session.username) if session else None
    if session is None or account is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return Viewer(account, session, language_of(request))


SignedIn = Annotated[Viewer, Depends(current_viewer)]


def screen(required: Screen) -> Callable[..., Coroutine[Any, Any, Viewer]]:
    async def allowed(viewer: SignedIn) -> Viewer:
        if not viewer.sees(required):
            raise Forbidden()
        return viewer

    return allowed


def same_origin(request: Request) -> bool:
    """A browser's POST names its page's origin; one from another site is refused (besides the CSRF token)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host")


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded body of a form, one value per field."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Forbidden("form.csrf")
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


async def checked_form(request: Request, viewer: Viewer) -> dict[str, str]:
    """The form, once it proved it came from this session's own page (CSRF token and origin)."""
    form = await read_form(request)
    token = form.get("csrf", "")
    if not same_origin(request) or not hmac.compare_digest(token.encode(), viewer.session.csrf.encode()):
        raise Forbidden("form.csrf")
    return form
