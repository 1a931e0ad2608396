"""A small client of the services' public HTTP APIs, as the demo's staff use them.

Every command carries an ``Idempotency-Key`` derived from the case and the story's step, so that playing a step again
(a second ``jinlin demo``, or a retry) replays the first answer instead of acting twice. A connection that fails
(the service restarting, a reset, a timeout) is retried with the same key until ``retry_for`` seconds have passed;
so is a ``409`` saying the first request with that key is still running, and a ``502``/``503``/``504``.
"""

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import httpx

IDEMPOTENCY_KEY: Final = "Idempotency-Key"
REPLAYED: Final = "Idempotent-Replayed"
CASE_HEADER: Final = "Jinlin-Case-Id"
_RETRIED_STATUSES: Final = frozenset({502, 503, 504})
# A 409 that passes: the first request with this key is still running, or another command changed the same aggregate
# meanwhile (nothing was recorded, so the same key may be sent again).
_RETRIED_CONFLICTS: Final = frozenset({"idempotency-key-in-flight", "version-conflict"})
_KEY_MAX: Final = 128

SERVICES: Final = ("complaints", "mediation", "billing-escrow", "staff-console")

T = TypeVar("T")


class DemoError(RuntimeError):
    """The story cannot go on: a service refused a step, or never did what the step waits for."""


@dataclass(frozen=True)
class Endpoints:
    """Where each service answers (base URLs without a trailing slash)."""

    complaints: str
    mediation: str
    escrow: str
    console: str

    def of(self, service: str) -> str:
        return {
            "complaints": self.complaints,
            "mediation": self.mediation,
            "billing-escrow": self.escrow,
            "staff-console": self.console,
        }[service]

    @classmethod
    def on(cls, host: str, ports: Mapping[str, int]) -> "Endpoints":
        def url(service: str) -> str:
            return f"http://{host}:{ports[service]}"

        return cls(url("complaints"), url("mediation"), url("billing-escrow"), url("staff-console"))


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    etag: str | None
    replayed: bool

    def __getitem__(self, name: str) -> Any:
        return self.body[name]


@dataclass
class Tally:
    """What one phase of the story did."""

    commands: int = 0
    replayed: int = 0
    reads: int = 0
    skipped: int = 0
    waited: float = 0.0
    seconds: float = 0.0


@dataclass
class Stats:
    phases: dict[str, Tally] = field(default_factory=dict)
    current: str = "setup"
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def tally(self) -> Tally:
        return self.phases.setdefault(self.current, Tally())

    def total(self) -> Tally:
        total = Tally()
        for tally in self.phases.values():
            total.commands += tally.commands
            total.replayed += tally.replayed
            total.reads += tally.reads
            total.skipped += tally.skipped
            total.waited += tally.waited
            total.seconds += tally.seconds
        return total


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        parts = [str(body.get(name)) for name in ("title", "detail") if body.get(name)]
        if body.get("errors"):
            parts.append(str(body["errors"])[:400])
        return ": ".join(parts) or str(body)[:300]
    return str(body)[:300]


def _slug(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    kind = body.get("type", "") if isinstance(body, dict) else ""
    return str(kind).rsplit("/", 1)[-1]


class DemoClient:
    """Commands and reads as a staff member (``who``: a role, or ``finance-2``) against one of the services."""

    def __init__(
        self,
        endpoints: Endpoints,
        tokens: Mapping[str, str],
        *,
        key_prefix: str,
        retry_for: float = 30.0,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.tokens = dict(tokens)
        self.key_prefix = key_prefix
        self.retry_for = retry_for
        self.stats = Stats()
        self._lock = threading.Lock()  # households are served in parallel: the counts are shared
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def note(
        self, *, commands: int = 0, replayed: int = 0, reads: int = 0, skipped: int = 0, waited: float = 0.0
    ) -> None:
        """Count what the current phase did."""
        with self._lock:
            tally = self.stats.tally
            tally.commands += commands
            tally.replayed += replayed
            tally.reads += reads
            tally.skipped += skipped
            tally.waited += waited

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "DemoClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def key(self, step: str) -> str:
        """The step's Idempotency-Key: readable when short enough, else hashed (keys are at most 128 characters)."""
        key = f"{self.key_prefix}:{step}"
        if len(key) <= _KEY_MAX and key.isascii() and key.isprintable() and " " not in key:
            return key
        return f"{self.key_prefix[:40]}:{hashlib.sha256(step.encode()).hexdigest()}"

    def _headers(self, who: str) -> dict[str, str]:
        token = self.tokens.get(who)
        if token is None:
            raise DemoError(f"no staff token for {who!r}")
        return {"Authorization": f"Bearer {token}"}

    def _send(self, method: str, url: str, *, headers: Mapping[str, str], **kwargs: Any) -> httpx.Response:
        """One request; on a failed connection or a busy answer, the same request again (same key) with back-off."""
        deadline = time.monotonic() + self.retry_for
        delay = 0.1
        while True:
            try:
                response = self._http.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                if time.monotonic() + delay > deadline:
                    raise DemoError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
            else:
                busy = response.status_code in _RETRIED_STATUSES or (
                    response.status_code == 409 and _slug(response) in _RETRIED_CONFLICTS
                )
                if not busy or time.monotonic() + delay > deadline:
                    with self._lock:
                        self.stats.statuses[response.status_code] += 1
                    return response
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def command(
        self,
        service: str,
        who: str,
        path: str,
        body: Any = None,
        *,
        step: str,
        if_match: str | None = None,
        case_id: str | None = None,
        ok: Collection[int] = (200, 201),
        refusals: Collection[int] = (),
    ) -> Answer:
        """``POST`` a command. ``refusals`` are statuses returned (not raised) for the caller to judge."""
        headers = self._headers(who) | {IDEMPOTENCY_KEY: self.key(step)}
        if if_match is not None:
            headers["If-Match"] = if_match
        if case_id is not None:
            headers[CASE_HEADER] = case_id
        url = self.endpoints.of(service) + path
        response = self._send("POST", url, headers=headers, json=body)
        answer = self._answer(response)
        self.note(commands=1, replayed=int(answer.replayed))
        if response.status_code in ok or response.status_code in refusals:
            return answer
        if response.status_code == 422 and _slug(response) == "idempotency-key-reused":
            raise DemoError(
                f"step {step!r} was played before with other data ({service} {path}); the story changed since, or "
                "this stack played it with another --households: use a fresh var directory"
            )
        raise DemoError(f"step {step!r}: {service} POST {path} answered {response.status_code}: {_problem(response)}")

    def get(
        self, service: str, who: str, path: str, params: Mapping[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Answer | None:
        url = self.endpoints.of(service) + path
        response = self._send("GET", url, headers=self._headers(who), params=params)
        self.note(reads=1)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise DemoError(f"{service} GET {path} answered {response.status_code}: {_problem(response)}")
        return self._answer(response)

    def read(self, service: str, who: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        answer = self.get(service, who, path, params)
        assert answer is not None
        return answer.body

    def ready(self, service: str) -> bool:
        try:
            return self._http.get(self.endpoints.of(service) + "/readyz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def knows(self, service: str, who: str, path: str) -> bool:
        """Whether the service accepts ``who``'s token (a read of ``path`` is not refused with 401)."""
        response = self._send("GET", self.endpoints.of(service) + path, headers=self._headers(who))
        return response.status_code != 401

    @staticmethod
    def _answer(response: httpx.Response) -> Answer:
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        return Answer(
            status=response.status_code,
            body=body,
            etag=response.headers.get("etag"),
            replayed=response.headers.get(REPLAYED, "").lower() == "true",
        )

    def wait_for(self, what: str, probe: Callable[[], T | None], *, timeout: float, interval: float = 0.2) -> T:
        """Poll ``probe`` until it returns something truthy: what another service does in reply takes a moment."""
        started = time.monotonic()
        deadline = started + timeout
        try:
            while True:
                found = probe()
                if found:
                    return found
                if time.monotonic() > deadline:
                    raise DemoError(f"waited {timeout:.0f}s for {what}; it did not happen (see the services' logs)")
                time.sleep(interval)
        finally:
            self.note(waited=time.monotonic() - started)
