"""RFC 9457 problem details: every error a client of a jinlin service sees is ``application/problem+json``.

Raise :class:`Problem` anywhere in an endpoint or a dependency::

    raise Problem(409, "Complaint already closed", "Complaint c-17 was closed on 3 May.", slug="complaint-closed")

``slug`` names the problem type (``https://jinlin.example/problems/complaint-closed``), which clients may switch
on; without one the type is ``about:blank`` and the title should be the HTTP status phrase. Keyword arguments
become extension members (``current_version=3``). :func:`install_problem_handlers` turns validation errors,
Starlette's HTTP exceptions, store conflicts and unexpected exceptions into problems too.
"""

import http
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from jinlin.logging import get_logger
from jinlin.store.errors import ConcurrencyError, InvalidStreamName

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://jinlin.example/problems/"

_log = get_logger(__name__)


def problem_type(slug: str | None) -> str:
    return PROBLEM_TYPE_BASE + slug if slug else "about:blank"


def status_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Problem(Exception):
    """An error answer. ``extensions`` are extra members of the JSON object; ``headers`` go on the response."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.status = status
        self.title = title or status_phrase(status)
        self.detail = detail
        self.type = problem_type(slug)
        self.headers = dict(headers or {})
        self.extensions = extensions
        super().__init__(f"{status} {self.title}: {detail}" if detail else f"{status} {self.title}")

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        # Extensions never override the standard members, which clients rely on.
        body.update({key: value for key, value in self.extensions.items() if key not in body})
        return body

    def to_response(self) -> JSONResponse:
        return JSONResponse(
            self.to_dict(), status_code=self.status, headers=self.headers, media_type=PROBLEM_CONTENT_TYPE
        )


class InvalidField(BaseModel):
    """One reason a request was refused as invalid."""

    location: str = Field(description="Where the field is: body, query, path, header or cookie.")
    field: str = Field(description="Dotted path of the field inside its location, e.g. reporter.phone.")
    message: str
    type: str = Field(description="A stable code for the kind of error, e.g. missing, string_too_long.")


class ProblemDetails(BaseModel):
    """The body of every error answer (RFC 9457). Problem types may add members."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[InvalidField] | None = Field(default=None, description="Present on 422 validation problems.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem answers, for a route's decorator."""
    return {
        status: {
            "description": status_phrase(status),
            "model": ProblemDetails,
            "content": {PROBLEM_CONTENT_TYPE: {}},
        }
        for status in statuses
    }


def _field_of(location: Sequence[int | str]) -> tuple[str, str]:
    if not location:
        return "body", ""
    where, *path = location
    return str(where), ".".join(str(part) for part in path)


def _invalid_fields(exc: RequestValidationError) -> list[InvalidField]:
    # The offending input is deliberately not echoed: it may be personal data, and the client has it anyway.
    fields = []
    for error in exc.errors():
        where, field = _field_of(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            field = ""
        fields.append(
            InvalidField(location=where, field=field, message=str(error.get("msg", "")), type=error.get("type", ""))
        )
    return fields


def validation_problem(exc: RequestValidationError) -> Problem:
    fields = _invalid_fields(exc)
    reasons = "; ".join(f"{f.location}{'.' if f.field else ''}{f.field}: {f.message}" for f in fields)
    return Problem(
        422,
        "Invalid request",
        f"Nothing was done. Invalid input: {reasons}.",
        slug="invalid-request",
        errors=[f.model_dump() for f in fields],
    )


async def _on_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return exc.to_response()


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc).to_response()


async def _on_http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = status_phrase(exc.status_code)
    # Starlette's default detail is the phrase itself; repeating it as detail says nothing.
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    return Problem(exc.status_code, phrase, detail, headers=exc.headers).to_response()


async def _on_concurrency_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConcurrencyError)
    return conflict_problem(exc).to_response()


def conflict_problem(exc: ConcurrencyError) -> Problem:
    return Problem(
        409,
        "Changed by someone else",
        f"{exc.stream} changed while this command ran; it is now at version {exc.actual}. "
        "Read it again and retry if the command still makes sense.",
        slug="version-conflict",
        headers={"ETag": f'"{exc.actual}"'},
        current_version=exc.actual,
    )


async def _on_invalid_stream_name(_request: Request, exc: Exception) -> JSONResponse:
    # Identifiers from clients become stream names; a malformed one is bad input, not a server error.
    return Problem(400, "Invalid identifier", str(exc), slug="invalid-identifier").to_response()


def internal_error_problem() -> Problem:
    # Nothing of the exception reaches the client: it may name internals or hold personal data.
    return Problem(500, "Internal Server Error", "The server failed to answer; the error has been logged.")


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error", exc_info=exc)
    return internal_error_problem().to_response()


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json answer."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(ConcurrencyError, _on_concurrency_error)
    app.add_exception_handler(InvalidStreamName, _on_invalid_stream_name)
    # Starlette runs this one in its outermost middleware, which re-raises afterwards (for servers' logs);
    # the request middleware of jinlin.web.observe answers unexpected errors earlier, so this is the backstop.
    app.add_exception_handler(Exception, _on_unexpected)
