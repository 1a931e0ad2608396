"""The FastAPI app every service starts from: problem answers, probes, metrics and request context installed.

A service adds its routers and nothing else::

    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = ...
        readiness.add("store", store_reachable(store))
        yield

    app = create_service_app(title="complaints", version=__version__, lifespan=lifespan,
                             readiness=readiness, staff=StaffDirectory.from_environment())
    app.include_router(complaints_router)

Logging is configured by the caller (:func:`jinlin.logging.configure_logging`), once per process.
"""

from typing import Any

from fastapi import FastAPI
from starlette.types import Lifespan

from jinlin.metrics import ServiceMetrics
from jinlin.web.health import Readiness, health_router
from jinlin.web.middleware import RequestMiddleware
from jinlin.web.problems import PROBLEM_CONTENT_TYPE, ProblemDetails, install_problem_handlers, status_phrase
from jinlin.web.staff import StaffDirectory

_SCHEMAS = "#/components/schemas/"


def create_service_app(
    *,
    title: str,
    version: str,
    description: str = "",
    lifespan: Lifespan[FastAPI] | None = None,
    metrics: ServiceMetrics | None = None,
    readiness: Readiness | None = None,
    staff: StaffDirectory | None = None,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with jinlin's HTTP conventions. ``staff=None`` refuses every protected endpoint (401).

    ``fastapi_options`` go to :class:`FastAPI` as they are (``openapi_tags``, ``root_path``...).
    """
    metrics = metrics or ServiceMetrics()
    readiness = readiness or Readiness()
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan, **fastapi_options)
    app.state.metrics = metrics
    app.state.readiness = readiness
    app.state.staff_directory = staff
    install_problem_handlers(app)
    app.add_middleware(RequestMiddleware, metrics=metrics)
    app.include_router(health_router(metrics, readiness))
    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what the app really answers: problem+json, not FastAPI's default 422 body.

    Clients (and Schemathesis) check answers against it; FastAPI documents validation errors as
    ``HTTPValidationError`` JSON, and knows nothing of the 401/403 of staff-protected routes.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or status_phrase(status),
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _SCHEMAS + "ProblemDetails"}}},
    }


def _json_schema_name(response: dict[str, Any]) -> str:
    """The component a response's application/json content refers to, or ``""``."""
    reference = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return str(reference).removeprefix(_SCHEMAS)


def _with_problems(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetails.model_json_schema(ref_template=_SCHEMAS + "{model}")
    for name, definition in problem_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ProblemDetails", problem_schema)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if _json_schema_name(responses.get("422", {})) == "HTTPValidationError":
                responses["422"] = _problem_response(422, "Invalid request")
            for response in responses.values():
                # problem_responses() names the model so that FastAPI registers its schema, and FastAPI then
                # also lists it under application/json, which no problem is ever sent as.
                content = response.get("content", {})
                if PROBLEM_CONTENT_TYPE in content and _json_schema_name(response) == "ProblemDetails":
                    content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
            if operation.get("security"):
                responses.setdefault("401", _problem_response(401))
                responses.setdefault("403", _problem_response(403))
    # Nothing refers to FastAPI's validation error schemas any more.
    if "HTTPValidationError" not in str(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema
