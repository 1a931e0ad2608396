"""Probes and metrics: ``GET /healthz`` (the process answers), ``GET /readyz`` (its dependencies answer too),
``GET /metrics`` (Prometheus text).

Readiness checks are added while the service starts, once the things they check exist::

    readiness.add("store", store_reachable(store))
    readiness.add("nats", lambda: nats_connected(broker))   # any async callable

A check passes when it returns anything but ``False`` without raising, within its timeout.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from jinlin.logging import get_logger
from jinlin.metrics import ServiceMetrics
from jinlin.store.store import EventStore
from jinlin.web.problems import Problem, problem_responses

ReadinessCheck = Callable[[], Awaitable[Any]]

DEFAULT_CHECK_TIMEOUT = 2.0

_log = get_logger(__name__)


class Readiness:
    """Named async checks that must all pass for the service to take traffic."""

    def __init__(self, timeout: float = DEFAULT_CHECK_TIMEOUT) -> None:
        self.timeout = timeout
        self._checks: dict[str, ReadinessCheck] = {}

    def add(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    def remove(self, name: str) -> None:
        self._checks.pop(name, None)

    async def _run(self, name: str, check: ReadinessCheck) -> str | None:
        try:
            async with asyncio.timeout(self.timeout):
                outcome = await check()
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except Exception as exc:
            # The reason shown is the error's type only; the message may name hosts or credentials.
            _log.warning("readiness check failed", check=name, exc_info=True)
            return f"failed: {type(exc).__name__}"
        return "failed" if outcome is False else None

    async def results(self) -> dict[str, str]:
        """Each check's outcome, ``ok`` or why not; the checks run concurrently."""
        names = list(self._checks)
        reasons = await asyncio.gather(*(self._run(name, self._checks[name]) for name in names))
        return {name: reason or "ok" for name, reason in zip(names, reasons, strict=True)}


def store_reachable(store: EventStore) -> ReadinessCheck:
    async def check() -> None:
        await store.last_sequence()

    return check


class Alive(BaseModel):
    status: Literal["alive"] = "alive"


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str]


def health_router(metrics: ServiceMetrics, readiness: Readiness) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> Alive:
        return Alive()

    @router.get("/readyz", summary="The service and its dependencies answer", responses=problem_responses(503))
    async def readyz() -> Ready:
        checks = await readiness.results()
        failing = [name for name, outcome in checks.items() if outcome != "ok"]
        if failing:
            raise Problem(
                503,
                "Not ready",
                f"Failing checks: {', '.join(failing)}.",
                slug="not-ready",
                failing=failing,
                checks=checks,
            )
        return Ready(checks=checks)

    # Not in the OpenAPI document: it is for Prometheus, not for clients of the API.
    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        content, content_type = await metrics.render()
        return Response(content, media_type=content_type)

    return router
