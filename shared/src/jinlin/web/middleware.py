"""The middleware every service runs: a request id, logging context, request metrics, and a last-resort 500.

Each request gets an id (the caller's ``X-Request-Id`` when it is sane, else a new one), echoed in the response
and bound to every log line while the request runs. Metrics are labelled by route *template*
(``/complaints/{complaint_id}``), never the raw path, so their number stays bounded.
"""

import re
import time
import uuid

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jinlin.logging import get_logger, log_context
from jinlin.metrics import ServiceMetrics
from jinlin.web.problems import internal_error_problem

REQUEST_ID_HEADER = "X-Request-Id"
UNMATCHED_ROUTE = "<unmatched>"
# Probes and scrapes arrive every few seconds; an access line for each would drown the rest.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_log = get_logger("jinlin.web.access")


def request_id_of(request: Request) -> str:
    """The id the middleware gave this request (a fresh one when the middleware is not installed)."""
    request_id = getattr(request.state, "request_id", None)
    if isinstance(request_id, str):
        return request_id
    request.state.request_id = request_id = uuid.uuid4().hex
    return request_id


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SANE_REQUEST_ID.match(candidate) else None
    return None


def _route_template(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestMiddleware:
    """Pure ASGI (not ``BaseHTTPMiddleware``), so contextvars bound here reach the endpoint unchanged."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        began = time.perf_counter()
        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            except Exception:
                _log.exception("unhandled error", method=scope["method"], route=_route_template(scope))
                if response_started:
                    raise  # too late for an answer; the server closes the connection
                # Answered here rather than by Starlette's ServerErrorMiddleware, which would re-raise it into
                # the server's own log (a second, unstructured traceback).
                await internal_error_problem().to_response()(scope, receive, send_with_request_id)
            finally:
                seconds = time.perf_counter() - began
                route = _route_template(scope)
                self.metrics.observe_request(scope["method"], route, status, seconds)
                if route not in QUIET_ROUTES:
                    _log.info(
                        "request answered",
                        method=scope["method"],
                        route=route,
                        status=status,
                        duration_ms=round(seconds * 1000, 2),
                    )
