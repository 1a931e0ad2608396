"""The Jepsen-style checker of the fault suite: what clients were told against what the system holds afterwards.

Every command a client sends is an :class:`Operation`, identified by a key of the client's own that is visible in
what is read back (a complaint's hotline reference, a payment's movement id, an escalated complaint's id in the
mediation case opened for it). Each HTTP attempt at it is classified:

- **acknowledged**: a ``2xx``; the system promised to keep it;
- **refused**: a ``4xx`` or ``503`` with an RFC 9457 problem body; the system says it did nothing;
- **failed**: another ``5xx`` with a problem body (``500``, ``507``); the system says the command failed;
- **unknown**: a timeout, a broken connection, or an answer that is not a problem: it may or may not have happened.

A client retries an unknown outcome with the same ``Idempotency-Key``, so the last answer stands for the whole
operation (a replay of the first answer, or the command run once); ``409 idempotency-key-in-flight`` is no answer.

After the faults have healed (:func:`wait_drained`: every relay and consumer caught up, as ``/metrics`` says),
:func:`check` compares the history with what is read back through the HTTP APIs:

- **lost** = acknowledged − read;
- **duplicated**: read more than once;
- **unexpected**: read, but never attempted;
- **resurrected**: refused or failed, yet read (a command that "did nothing" did something);
- **altered**: read with another value than the one sent (a payment's amount).

and :func:`audit_verify` runs ``jinlin audit verify`` on the stack's var directory: every store's hash chain, and
JetStream holding the same chain, message for message.
"""

import asyncio
import math
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

PROBLEM_CONTENT_TYPE = "application/problem+json"
IN_FLIGHT_PROBLEM = "https://jinlin.example/problems/idempotency-key-in-flight"


class Outcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REFUSED = "refused"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status: int | None
    """The HTTP status, or ``None`` when no answer came."""
    detail: str
    """The problem's title (and type), or the exception's class: what the client was told."""
    replayed: bool = False
    """The answer was the replay of an earlier attempt's (``Idempotent-Replayed: true``)."""
    seconds: float = 0.0


def classify_answer(response: httpx.Response, seconds: float = 0.0) -> Attempt:
    status = response.status_code
    replayed = response.headers.get("idempotent-replayed") == "true"
    if 200 <= status < 300:
        return Attempt(Outcome.ACKNOWLEDGED, status, "", replayed, seconds)
    problem = _problem_of(response)
    if problem is None:
        # No problem body: not an answer of the service (a proxy, a half-written response): anything may have happened.
        return Attempt(Outcome.UNKNOWN, status, f"{status} without a problem body", replayed, seconds)
    detail = f"{problem.get('title', '')} ({problem.get('type', 'about:blank').rpartition('/')[2]})"
    if problem.get("detail") and 400 <= status < 500:
        detail += f": {str(problem['detail'])[:120]}"
    if status == 409 and problem.get("type") == IN_FLIGHT_PROBLEM:
        return Attempt(Outcome.UNKNOWN, status, detail, replayed, seconds)
    if 400 <= status < 500 or status == 503:
        return Attempt(Outcome.REFUSED, status, detail, replayed, seconds)
    if status >= 500:
        return Attempt(Outcome.FAILED, status, detail, replayed, seconds)
    return Attempt(Outcome.UNKNOWN, status, detail, replayed, seconds)


def classify_error(error: BaseException, seconds: float = 0.0) -> Attempt:
    return Attempt(Outcome.UNKNOWN, None, type(error).__name__, False, seconds)


def _problem_of(response: httpx.Response) -> dict[str, Any] | None:
    if not response.headers.get("content-type", "").startswith(PROBLEM_CONTENT_TYPE):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("status"), int) or "title" not in body:
        return None
    return body


@dataclass
class Operation:
    kind: str
    """What was attempted: ``complaint``, ``payment``..."""
    key: str
    """The client's own identity of the operation, visible in what is read back."""
    idempotency_key: str
    value: int = 0
    """A value the read-back must show unchanged (a payment's amount); 0 when there is none."""
    attempts: list[Attempt] = field(default_factory=list)
    result: Any = None
    """The body of the acknowledging answer, when the client needs it (the id a service gave)."""
    request: tuple[str, dict[str, Any], str] | None = None
    """What was sent (URL, body, token), so that the operation can be sent again under the same key."""

    @property
    def outcome(self) -> Outcome:
        if any(attempt.outcome is Outcome.ACKNOWLEDGED for attempt in self.attempts):
            return Outcome.ACKNOWLEDGED
        if not self.attempts:
            return Outcome.UNKNOWN
        return self.attempts[-1].outcome

    @property
    def interrupted(self) -> bool:
        """At least one attempt got no answer (it was retried, or is still unknown)."""
        return any(attempt.outcome is Outcome.UNKNOWN for attempt in self.attempts)

    @property
    def replayed(self) -> bool:
        """A retry was answered with the first attempt's answer: the attempt that got no answer had happened."""
        return any(attempt.replayed for attempt in self.attempts)


class History:
    """Every operation of a run, in the order begun. One event loop appends to it; no locking needed."""

    def __init__(self) -> None:
        self.operations: dict[tuple[str, str], Operation] = {}

    def begin(self, kind: str, key: str, idempotency_key: str, value: int = 0) -> Operation:
        if (kind, key) in self.operations:
            raise ValueError(f"operation {kind} {key} begun twice: keys must be unique per run")
        operation = Operation(kind, key, idempotency_key, value)
        self.operations[(kind, key)] = operation
        return operation

    def of(self, kind: str) -> list[Operation]:
        return [operation for (k, _), operation in self.operations.items() if k == kind]

    def kinds(self) -> list[str]:
        return sorted({kind for kind, _ in self.operations})

    def counts(self, kind: str | None = None, *, since: int = 0) -> "Counts":
        """Figures over the operations of ``kind`` (all kinds when ``None``), from the ``since``-th one begun."""
        operations = [op for op in list(self.operations.values())[since:] if kind is None or op.kind == kind]
        in_flight = sum(not op.attempts for op in operations)
        operations = [op for op in operations if op.attempts]
        outcomes = Counter(op.outcome for op in operations)
        statuses = Counter(
            f"{attempt.status or 'none'} {attempt.detail}".strip()
            for op in operations
            for attempt in op.attempts
            if attempt.outcome is not Outcome.ACKNOWLEDGED
        )
        return Counts(
            attempted=len(operations),
            acknowledged=outcomes[Outcome.ACKNOWLEDGED],
            refused=outcomes[Outcome.REFUSED],
            failed=outcomes[Outcome.FAILED],
            unknown=outcomes[Outcome.UNKNOWN],
            interrupted=sum(op.interrupted for op in operations),
            replayed=sum(op.replayed for op in operations),
            http_attempts=sum(len(op.attempts) for op in operations),
            in_flight=in_flight,
            answers=dict(statuses.most_common()),
        )

    def __len__(self) -> int:
        return len(self.operations)


@dataclass(frozen=True)
class Counts:
    attempted: int
    acknowledged: int
    refused: int
    failed: int
    unknown: int
    interrupted: int
    """Operations with at least one attempt that got no answer."""
    replayed: int
    """Of those, how many a retry showed had happened after all."""
    http_attempts: int
    in_flight: int
    """Begun, no attempt finished yet (only when counting while clients still run)."""
    answers: dict[str, int]
    """Every answer that was not a 2xx, with how often it came."""

    def __str__(self) -> str:
        text = (
            f"attempted {self.attempted}, acknowledged {self.acknowledged}, refused {self.refused}, "
            f"failed {self.failed}, unknown {self.unknown} (interrupted {self.interrupted}, "
            f"replayed {self.replayed}; {self.http_attempts} HTTP attempts)"
        )
        if self.in_flight:
            text += f", {self.in_flight} in flight"
        if self.answers:
            text += "; other answers: " + ", ".join(f"{answer} ×{n}" for answer, n in self.answers.items())
        return text


ReadBack = Mapping[str, list[int]]
"""What was read: each key with the value of every occurrence (a key read twice has two)."""


@dataclass
class Verdict:
    kind: str
    counts: Counts
    read: int
    lost: set[str]
    duplicated: dict[str, int]
    unexpected: set[str]
    resurrected: set[str]
    altered: dict[str, tuple[int, list[int]]]

    @property
    def valid(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected or self.resurrected or self.altered)

    def __str__(self) -> str:
        lines = [f"{self.kind}: {self.counts}; read back {self.read}"]
        for name in ("lost", "duplicated", "unexpected", "resurrected", "altered"):
            found = getattr(self, name)
            if found:
                shown = sorted(found)[:20]
                lines.append(f"  {name} ({len(found)}): {', '.join(map(str, shown))}{' …' if len(found) > 20 else ''}")
        return "\n".join(lines)


def check(history: History, kind: str, read: ReadBack) -> Verdict:
    operations = {op.key: op for op in history.of(kind)}
    acknowledged = {key for key, op in operations.items() if op.outcome is Outcome.ACKNOWLEDGED}
    said_no = {key for key, op in operations.items() if op.outcome in (Outcome.REFUSED, Outcome.FAILED)}
    present = {key for key, values in read.items() if values}
    return Verdict(
        kind=kind,
        counts=history.counts(kind),
        read=sum(len(values) for values in read.values()),
        lost=acknowledged - present,
        duplicated={key: len(values) for key, values in read.items() if len(values) > 1},
        unexpected=present - set(operations),
        resurrected=said_no & present,
        altered={
            key: (operations[key].value, values)
            for key, values in read.items()
            if key in operations and any(value != operations[key].value for value in values)
        },
    )


# -- reading back through the HTTP API ---------------------------------------------------------------------------


async def read_complaints(client: httpx.AsyncClient, base: str, token: str) -> dict[str, list[int]]:
    """Every complaint the service lists, by hotline reference (the workload's key); others under their id."""
    read: dict[str, list[int]] = {}
    page = 1
    while True:
        answer = await client.get(
            f"{base}/complaints", params={"page": page, "page_size": 200}, headers=_bearer(token), timeout=30
        )
        answer.raise_for_status()
        body = answer.json()
        for item in body["items"]:
            key = item.get("hotline_reference") or f"(no reference) {item['complaint_id']}"
            read.setdefault(key, []).append(0)
        if page * body["page_size"] >= body["total"]:
            return read
        page += 1


async def read_payments(client: httpx.AsyncClient, base: str, token: str, account_id: str) -> dict[str, list[int]]:
    """Every payment in the account's journal, by movement id, with its amount."""
    answer = await client.get(f"{base}/accounts/{account_id}/journal", headers=_bearer(token), timeout=30)
    answer.raise_for_status()
    read: dict[str, list[int]] = {}
    for entry in answer.json():
        if entry["kind"] == "payment_in":
            read.setdefault(entry["movement_id"], []).append(entry["bank_change_fen"])
    return read


async def read_escalations(client: httpx.AsyncClient, base: str, token: str) -> dict[str, list[int]]:
    """Every mediation case, under each complaint it was opened for (the escalation's key is the complaint's id)."""
    read: dict[str, list[int]] = {}
    page = 1
    while True:
        answer = await client.get(
            f"{base}/cases", params={"page": page, "page_size": 200}, headers=_bearer(token), timeout=30
        )
        answer.raise_for_status()
        body = answer.json()
        for case in body["items"]:
            for complaint_id in case["complaint_ids"]:
                read.setdefault(complaint_id, []).append(0)
        if page * body["page_size"] >= body["total"]:
            return read
        page += 1


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- metrics ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plumbing:
    """One service's event plumbing as its ``/metrics`` reports it."""

    relay_lag: float
    consumer_lag: dict[str, float]
    dead_letters: dict[str, float]

    @property
    def drained(self) -> bool:
        """Nothing waiting: the relay has published everything, and every consumer whose stream exists is caught up
        (a consumer of a stream nobody created yet, mediation's before it runs, reports NaN)."""
        return self.relay_lag == 0 and all(lag == 0 or math.isnan(lag) for lag in self.consumer_lag.values())


async def plumbing(client: httpx.AsyncClient, base: str, *, timeout: float = 30) -> Plumbing:
    # Generous: a busy two-core machine runs a whole stack and its load beside the scrape.
    answer = await client.get(f"{base}/metrics", timeout=timeout)
    answer.raise_for_status()
    relay_lag, consumer_lag, dead_letters = math.nan, {}, {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "jinlin_relay_lag_events":
                relay_lag = sample.value
            elif sample.name == "jinlin_consumer_lag_messages":
                consumer_lag[sample.labels["consumer"]] = sample.value
            elif sample.name == "jinlin_dead_letters":
                dead_letters[sample.labels["consumer"]] = sample.value
    return Plumbing(relay_lag, consumer_lag, dead_letters)


async def eventually(
    condition: Callable[[], Awaitable[bool]], *, timeout: float, what: str, interval: float = 0.2
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds. Errors count as "not yet"."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            if await condition():
                return
            last_error = None
        except (httpx.HTTPError, OSError) as error:
            last_error = error
        if time.monotonic() > deadline:
            reason = f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""
            raise AssertionError(f"{what}: not reached within {timeout:g} s{reason}")
        await asyncio.sleep(interval)


async def wait_drained(client: httpx.AsyncClient, urls: Mapping[str, str], *, timeout: float) -> dict[str, Plumbing]:
    """Wait until every service's relay lag is 0 and its consumers are caught up; returns the last reading."""
    last: dict[str, Plumbing] = {}

    async def drained() -> bool:
        for name, base in urls.items():
            last[name] = await plumbing(client, base)
        return all(reading.drained for reading in last.values())

    try:
        await eventually(drained, timeout=timeout, what="relay and consumer lag drained to 0")
    except AssertionError as failure:
        raise AssertionError(f"{failure}; last reading: {last}") from None
    return last


# -- JetStream, through `jinlin audit verify` --------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    service: str
    ok: bool
    store_events: int
    stream_messages: int

    @property
    def complete(self) -> bool:
        """JetStream holds the whole chain (``audit verify`` only notes a stream that lags behind its store)."""
        return self.ok and self.store_events == self.stream_messages


@dataclass(frozen=True)
class Audit:
    exit_code: int
    services: dict[str, AuditLine]
    output: str

    @property
    def complete(self) -> bool:
        return self.exit_code == 0 and all(line.complete for line in self.services.values())


def _audit_environment(var_dir: Path, nats_port: int, service_prefixes: Iterable[str]) -> dict[str, str]:
    env = dict(os.environ, JINLIN_VAR_DIR=str(var_dir), JINLIN_NATS_PORT=str(nats_port))
    for prefix in service_prefixes:
        # The audit reads the stack's own files and server, never a proxy a test put between a service and NATS.
        env.pop(f"{prefix}NATS_URL", None)
        env.pop(f"{prefix}DATABASE_URL", None)
    env.pop("JINLIN_NATS_CREDS", None)
    return env


def audit_verify(var_dir: Path, nats_port: int, service_prefixes: Iterable[str], timeout: float = 60) -> Audit:
    """``jinlin audit verify`` for every registered service, as an operator runs it on the stack's var directory
    (it reads JetStream with the stack's provisioner key, ``var/nats-auth/provisioner.nk``)."""
    jinlin = Path(sys.executable).parent / "jinlin"
    done = subprocess.run(
        [str(jinlin), "audit", "verify"],
        env=_audit_environment(var_dir, nats_port, service_prefixes),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    services: dict[str, AuditLine] = {}
    for line in done.stdout.splitlines():
        # "complaints: OK: 12 events in store, 12 in JetStream"
        name, _, rest = line.partition(": ")
        verdict, _, figures = rest.partition(": ")
        if verdict not in ("OK", "FAILED") or " events in store, " not in figures:
            continue
        stored, _, published = figures.partition(" events in store, ")
        services[name] = AuditLine(name, verdict == "OK", int(stored), int(published.split()[0]))
    return Audit(done.returncode, services, (done.stdout + done.stderr).strip())


# -- the whole check -----------------------------------------------------------------------------------------------


@dataclass
class Report:
    verdicts: list[Verdict]
    audit: Audit | None = None
    anomalies: list[str] = field(default_factory=list)
    """What other checks found (a balance that is not the sum of the payments, a consumer that missed events)."""

    @property
    def valid(self) -> bool:
        audit_ok = self.audit is None or self.audit.complete
        return all(v.valid for v in self.verdicts) and audit_ok and not self.anomalies

    def findings(self) -> set[str]:
        """What is wrong, by name: ``lost``, ``duplicated``, ``unexpected``, ``resurrected``, ``altered``, ``audit``,
        ``anomalies``; empty when the report is valid."""
        found = {
            name
            for verdict in self.verdicts
            for name in ("lost", "duplicated", "unexpected", "resurrected", "altered")
            if getattr(verdict, name)
        }
        if self.audit is not None and not self.audit.complete:
            found.add("audit")
        if self.anomalies:
            found.add("anomalies")
        return found

    def verdict(self, kind: str) -> Verdict:
        return next(verdict for verdict in self.verdicts if verdict.kind == kind)

    def __str__(self) -> str:
        parts = [str(verdict) for verdict in self.verdicts]
        if self.audit is not None:
            parts.append(f"audit verify (exit {self.audit.exit_code}):\n  " + self.audit.output.replace("\n", "\n  "))
        parts += [f"anomaly: {anomaly}" for anomaly in self.anomalies]
        return "\n".join(parts)

    def assert_valid(self) -> None:
        assert self.valid, f"the checker found anomalies:\n{self}"
