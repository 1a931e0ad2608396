"""Errors of the Open311 routes in GeoReport's own shape: ``[{"code": 404, "description": "..."}]``.

GeoReport clients parse that list, not problem+json, so every failure of these routes is turned into it here, at
the route: bad input is ``400`` (GeoReport's "any other error"), an unknown resource ``404``, a missing or refused
API key ``403``; the kernel's own refusals (an ``Idempotency-Key`` reused for another request ``422``, one still in
flight ``409``) keep their status. The rest of the API still answers problem+json.
"""

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, Final

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from complaints.adapters.http.open311_schemas import Open311Error
from complaints.application.changes import ComplaintNotFound
from complaints.domain import InvalidTransition, UnknownCategory, ValidationFailed
from jinlin.store import ConcurrencyError
from jinlin.web import Problem

JSON_UTF8: Final = "application/json; charset=utf-8"

# Our field names as a GeoReport client knows them.
_FIELD_NAMES: Final = {
    "category_code": "service_code",
    "compound_id": "address_id",
    "reporter.name": "first_name/last_name",
    "reporter.phone": "phone",
    "building": "attribute[building]",
    "unit": "attribute[unit]",
}


def georeport_field(field: str) -> str:
    if field.startswith("answers."):
        return f"attribute[{field.removeprefix('answers.')}]"
    return _FIELD_NAMES.get(field, field)


class GeoReportError(Exception):
    """An answer of the Open311 routes that is not a success."""

    def __init__(self, status: int, descriptions: str | Iterable[str], headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.descriptions = [descriptions] if isinstance(descriptions, str) else list(descriptions)
        self.headers = headers or {}
        super().__init__(f"{status}: {'; '.join(self.descriptions)}")

    def to_response(self) -> JSONResponse:
        body = [{"code": self.status, "description": description} for description in self.descriptions]
        return JSONResponse(body, status_code=self.status, headers=self.headers, media_type=JSON_UTF8)


def georeport_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for GeoReport error answers. (Declaring 422 also keeps FastAPI from documenting
    its own validation answer, which these routes never send: their bad input is a GeoReport 400.)"""
    return {status: {"model": list[Open311Error], "description": "GeoReport errors"} for status in statuses}


def _validation_descriptions(problems: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{georeport_field(field)}: {message}" if field else message for field, message in problems]


def _from_request_validation(error: RequestValidationError) -> GeoReportError:
    problems = []
    for detail in error.errors():
        location = [str(part) for part in detail.get("loc", ())]
        field = ".".join(location[1:]) if location[:1] in (["query"], ["path"], ["body"]) else ".".join(location)
        problems.append((field, str(detail.get("msg", "invalid"))))
    return GeoReportError(400, _validation_descriptions(problems) or ["invalid request"])


def _from_problem(problem: Problem) -> GeoReportError:
    text = problem.detail or problem.title
    if problem.status == 401:  # GeoReport: a missing or unknown API key is a 403
        return GeoReportError(403, f"Missing or invalid api_key: {text}")
    if problem.status == 422 and problem.type.endswith("/invalid-request"):
        return GeoReportError(400, text)
    return GeoReportError(problem.status, text, {k: v for k, v in problem.headers.items() if k != "WWW-Authenticate"})


def as_georeport_error(error: Exception) -> GeoReportError | None:
    """The GeoReport answer for an exception of a route, or ``None`` for a server fault (left to the app)."""
    match error:
        case GeoReportError():
            return error
        case RequestValidationError():
            return _from_request_validation(error)
        case UnknownCategory():
            return GeoReportError(404, _validation_descriptions([(p.field, p.message) for p in error.problems]))
        case ValidationFailed():
            return GeoReportError(400, _validation_descriptions([(p.field, p.message) for p in error.problems]))
        case InvalidTransition():
            return GeoReportError(409, str(error))
        case ConcurrencyError():
            return GeoReportError(409, "the request changed while this one ran; send it again")
        case ComplaintNotFound():
            return GeoReportError(404, f"service_request_id {error.complaint_id} was not found")
        case Problem():
            return _from_problem(error)
    return None


class GeoReportRoute(APIRoute):
    """A route whose refusals are GeoReport errors (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def georeport_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as error:
                answer = as_georeport_error(error)
                if answer is None:
                    raise
                return answer.to_response()

        return georeport_handler
