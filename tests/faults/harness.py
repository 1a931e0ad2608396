"""A real stack for the fault tests, as ``jinlin up`` runs it (``jinlin.cli.stack.Stack``), on free ports and a var
directory of its own, with the handles the faults need: kill and restart one service or nats-server, start a service
with other settings, run ``jinlin audit verify`` on it, read a store's SQLite file.

``JINLIN_SOAK=1`` (``make soak``) makes every fault bigger: more clients, longer faults, more repetitions.
"""

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from jinlin.cli.dev_staff import DEV_ROLES, dev_token
from jinlin.cli.layout import Layout
from jinlin.cli.stack import ServiceProcess, Stack
from jinlin.runtime.ports import free_port
from jinlin.service import ServiceSpec, registered_services
from jinlin.web.staff import STAFF_TOKENS_ENV, STAFF_TOKENS_FILE_ENV
from tests.faults.checker import Audit, History, Report, audit_verify, check, eventually, wait_drained
from tests.faults.workload import ACCOUNT, Workload

HERE = Path(__file__).resolve().parent
SOAK = os.environ.get("JINLIN_SOAK", "") not in ("", "0")

EVERYTHING_TOKEN = "fault-suite-everything-token"
"""A staff member holding every role, so that the fuzzer reaches past the 403s."""


def scaled(normal: float, soak: float) -> float:
    return soak if SOAK else normal


def staff_entries() -> list[dict[str, object]]:
    entries: list[dict[str, object]] = [
        {"token": dev_token(role), "id": f"dev-{role}", "roles": [role]} for role in DEV_ROLES
    ]
    entries.append({"token": EVERYTHING_TOKEN, "id": "fault-everything", "roles": list(DEV_ROLES)})
    return entries


@contextlib.contextmanager
def environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``changes`` (``None`` removes) while the block runs: Stack hands it to the children."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class FaultStack:
    var_dir: Path
    specs: list[ServiceSpec] = field(default_factory=registered_services)
    env: dict[str, str | None] = field(default_factory=dict)
    """Settings for every child, on top of the suite's own (a service's NATS URL pointing at a proxy, say)."""

    def __post_init__(self) -> None:
        self.ports = {spec.name: free_port() for spec in self.specs}
        self.layout = Layout(var_dir=self.var_dir, nats_port=free_port())
        self.stack = Stack(self.layout, self.specs, self.ports)
        staff_file = self.var_dir / "fault-staff.json"
        self.var_dir.mkdir(parents=True, exist_ok=True)
        staff_file.write_text(json.dumps(staff_entries()))
        self._base_env: dict[str, str | None] = {STAFF_TOKENS_ENV: None, STAFF_TOKENS_FILE_ENV: str(staff_file)}
        for spec in registered_services():
            # Whatever the developer's shell says, each child gets this stack's database, server and ports.
            for setting in ("DATABASE_URL", "NATS_URL", "NATS_CREDS", "HOST"):
                self._base_env[f"{spec.env_prefix}{setting}"] = None
            self._base_env[f"{spec.env_prefix}PORT"] = str(self.ports[spec.name]) if spec in self.specs else None
            self._base_env[f"{spec.env_prefix}LOG_LEVEL"] = "warning"

    # -- the whole stack -------------------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        with environment({**self._base_env, **self.env}):
            self.stack.start()
        self.stack.wait_ready(timeout)

    def stop(self) -> None:
        self.stack.stop()

    @property
    def nats_port(self) -> int:
        return self.layout.nats_port

    def names(self) -> list[str]:
        return [spec.name for spec in self.specs]

    def has(self, name: str) -> bool:
        return name in self.ports

    def url(self, name: str) -> str:
        return f"http://{self.layout.host}:{self.ports[name]}"

    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in self.names()}

    def spec(self, name: str) -> ServiceSpec:
        return next(spec for spec in self.specs if spec.name == name)

    def child(self, name: str) -> ServiceProcess:
        return next(child for child in self.stack.services if child.spec.name == name)

    def log(self, name: str, lines: int = 40) -> str:
        path = self.var_dir / "logs" / f"{name}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- one service -----------------------------------------------------------------------------------------

    def kill_service(self, name: str) -> None:
        """SIGKILL: the service gets no chance to finish a request, commit, or say goodbye."""
        process = self.child(name).process
        assert process is not None
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_service(self, name: str, timeout: float = 20) -> None:
        process = self.child(name).process
        assert process is not None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def start_service(self, name: str, *, env: Mapping[str, str | None] = (), app_factory: str | None = None) -> None:
        """Start one service again, as the stack started it (same database, port and NATS user), with ``env`` on
        top and, if given, another app factory (a test's wrapper around the real one)."""
        index = next(i for i, child in enumerate(self.stack.services) if child.spec.name == name)
        spec = self.spec(name)
        if app_factory is not None:
            spec = replace(spec, app_factory=app_factory)
        with environment({**self._base_env, **self.env, **dict(env)}):
            self.stack.services[index] = self.stack._start_service(spec)

    def wait_service_ready(self, name: str, timeout: float = 60) -> None:
        child = self.child(name)
        assert child.process is not None
        deadline = time.monotonic() + timeout
        while True:
            if child.process.poll() is not None:
                raise AssertionError(f"{name} exited with {child.process.returncode}:\n{self.log(name)}")
            with contextlib.suppress(httpx.HTTPError):
                if self.readyz(name).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} not ready within {timeout:g} s:\n{self.log(name)}")
            time.sleep(0.1)

    def restart_service(self, name: str, **options: object) -> None:
        self.kill_service(name)
        self.start_service(name, **options)  # type: ignore[arg-type]
        self.wait_service_ready(name)

    # -- nats-server -------------------------------------------------------------------------------------------

    def kill_nats(self) -> None:
        assert self.stack.nats is not None
        self.stack.nats.kill()

    def start_nats(self) -> None:
        assert self.stack.nats is not None
        self.stack.nats.start()

    # -- looking inside ----------------------------------------------------------------------------------------

    def audit(self) -> Audit:
        return audit_verify(self.var_dir, self.nats_port, [spec.env_prefix for spec in registered_services()])

    def database(self, name: str) -> Path:
        return self.var_dir / f"{name}.sqlite3"

    def query(self, name: str, sql: str, *args: object) -> list[tuple[object, ...]]:
        """Read a service's SQLite file directly, as a second reader beside the service (WAL allows it)."""
        with contextlib.closing(sqlite3.connect(self.database(name), timeout=30)) as db:
            return db.execute(sql, args).fetchall()

    def tamper(self, name: str, sql: str, *args: object) -> int:
        """Change a service's SQLite file behind its back (only the checker's own tests do): rows changed."""
        with contextlib.closing(sqlite3.connect(self.database(name), timeout=30)) as db, db:
            return db.execute(sql, args).rowcount

    def readyz(self, name: str) -> httpx.Response:
        return httpx.get(f"{self.url(name)}/readyz", timeout=5)


# -- after the faults --------------------------------------------------------------------------------------------


async def check_after_healing(
    stack: FaultStack,
    workload: Workload,
    client: httpx.AsyncClient,
    *,
    timeout: float | None = None,
    console_timeout: float | None = None,
) -> Report:
    """Wait for the plumbing to drain, then the whole check: the history against what the HTTP APIs return, every
    store against JetStream (``jinlin audit verify``), the escrow balance against its payments, and the staff
    console (a consumer of every stream) against the stores."""
    timeout = timeout or scaled(60, 300)
    plumbing = await wait_drained(client, stack.urls(), timeout=timeout)
    read = await workload.read_back(EVERYTHING_TOKEN)
    verdicts = [check(workload.history, kind, read[kind]) for kind in sorted(read)]
    audit = await asyncio.to_thread(stack.audit)
    anomalies = [
        f"{name}: consumer {consumer} dead-lettered {count:g} message(s): a fault is transient, nothing may be given up"
        for name, reading in plumbing.items()
        for consumer, count in reading.dead_letters.items()
        if count
    ]
    if "payment" in read:
        paid = sum(sum(values) for values in read["payment"].values())
        answer = await client.get(
            f"{workload.escrow_url}/accounts/{ACCOUNT}", headers={"Authorization": f"Bearer {EVERYTHING_TOKEN}"}
        )
        answer.raise_for_status()
        if answer.json()["held_fen"] != paid:
            anomalies.append(f"escrow holds {answer.json()['held_fen']} fen, its journal's payments sum to {paid}")
    if stack.has("staff-console"):
        anomalies += await _console_caught_up(stack, audit, read, console_timeout or scaled(30, 120))
    return Report(verdicts, audit, anomalies)


async def _console_caught_up(
    stack: FaultStack, audit: Audit, read: Mapping[str, Mapping[str, list[int]]], timeout: float
) -> list[str]:
    """The console holds every event of every store once, and has applied every payment once."""
    wanted = {stack.spec(name).token: line.store_events for name, line in audit.services.items() if line.store_events}
    paid = sum(sum(values) for values in read.get("payment", {}).values())
    seen: dict[str, int] = {}
    console_paid: int | None = None

    async def caught_up() -> bool:
        nonlocal seen, console_paid
        rows = await asyncio.to_thread(
            stack.query, "staff-console", "SELECT service, count(*) FROM console_events GROUP BY service"
        )
        seen = {str(service): int(str(count)) for service, count in rows}
        if "payment" in read:
            found = await asyncio.to_thread(
                stack.query,
                "staff-console",
                "SELECT paid_in_fen FROM console_escrow_accounts WHERE account_id = ?",
                ACCOUNT,
            )
            console_paid = int(str(found[0][0])) if found else None
        return seen == wanted and ("payment" not in read or console_paid == paid)

    try:
        await eventually(caught_up, timeout=timeout, what="the console caught up with every store")
    except AssertionError:
        return [f"the console holds {seen} events (the stores {wanted}); paid in {console_paid} fen, not {paid}"]
    return []


KNOWN_REFUSALS = ("(version-conflict): complaint.c-",)
"""Refusals of valid commands that are a known bug, not the faults' doing (the checker still proves they changed
nothing): a new complaint's id has 24 random bits per day (``services/complaints/src/complaints/application/
intake.py`` ``new_complaint_id``), so among a few hundred complaints two collide now and then, and the second filing
is refused with ``409 version-conflict`` instead of getting another id."""


def unexplained_answers(history: History, *, allowed: tuple[str, ...] = ("503 ",)) -> dict[str, int]:
    """Every answer other than a 2xx that neither ``allowed`` (prefixes of the answers' text, such as ``"503 "``
    or ``"none "`` for no answer at all, or a problem type's slug in parentheses) nor a known bug explains."""
    return {
        answer: count
        for answer, count in history.counts().answers.items()
        if not any(answer.startswith(prefix) or (prefix.startswith("(") and prefix in answer) for prefix in allowed)
        and not any(known in answer for known in KNOWN_REFUSALS)
    }
