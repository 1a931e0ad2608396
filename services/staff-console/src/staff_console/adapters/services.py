"""Calls to the services' HTTP APIs on behalf of the signed-in staff member, with their bearer token.

Every command carries a fresh ``Idempotency-Key`` per form submission (the form's own key, so a double click or a
retried submission acts once) and ``If-Match`` with the version the page showed. The routes are configured here
and nowhere else.
"""

from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from staff_console.settings import ConsoleSettings

TIMEOUT = httpx.Timeout(10.0, connect=2.0)
_log = structlog.get_logger()


@dataclass(frozen=True)
class Endpoint:
    service: str
    """``complaints``, ``mediation`` or ``billing-escrow``."""
    path: str


def endpoints(settings: ConsoleSettings) -> dict[str, Endpoint]:
    return {
        "acknowledge": Endpoint("complaints", "/complaints/{complaint_id}/acknowledge"),
        "assign": Endpoint("complaints", "/complaints/{complaint_id}/assign"),
        "note": Endpoint("complaints", "/complaints/{complaint_id}/notes"),
        "resolve": Endpoint("complaints", "/complaints/{complaint_id}/resolve"),
        "call-back": Endpoint("complaints", "/complaints/{complaint_id}/call-back"),
        "sign": Endpoint("billing-escrow", settings.escrow_sign_path),
        "statistics": Endpoint("complaints", "/statistics"),
        "categories": Endpoint("complaints", "/categories"),
    }


@dataclass(frozen=True)
class Outcome:
    status: int
    """The HTTP status, or 0 when the service could not be reached."""
    body: Any = None
    etag: str | None = None
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def unreachable(self) -> bool:
        return self.status == 0 or self.status in (502, 503, 504)

    @property
    def version(self) -> int | None:
        if self.etag and self.etag.strip('W/"').isdigit():
            return int(self.etag.strip('W/"'))
        return None

    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or f"HTTP {self.status}")


class ServiceClient:
    def __init__(self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.endpoints = endpoints(settings)
        self._client = httpx.AsyncClient(timeout=TIMEOUT, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    def url(self, name: str, **path: str) -> str:
        endpoint = self.endpoints[name]
        return self.settings.service_url(endpoint.service) + endpoint.path.format(**path)

    async def command(
        self,
        name: str,
        *,
        token: str,
        body: dict[str, Any] | None,
        idempotency_key: str,
        if_match: int | None = None,
        **path: str,
    ) -> Outcome:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": idempotency_key}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        return await self._send("POST", self.url(name, **path), headers, body)

    async def get(self, name: str, *, token: str | None, params: dict[str, str] | None = None) -> Outcome:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self._send("GET", self.url(name), headers, None, params)

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any] | None,
        params: dict[str, str] | None = None,
    ) -> Outcome:
        try:
            response = await self._client.request(method, url, headers=headers, json=body, params=params)
        except httpx.HTTPError as exc:
            _log.warning("console.service_unreachable", url=url.split("?")[0], error=type(exc).__name__)
            return Outcome(0)
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = None
        problem = payload if not response.is_success and isinstance(payload, dict) else {}
        return Outcome(response.status_code, payload, response.headers.get("etag"), problem)
