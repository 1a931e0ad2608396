"""Several replicas of every registered service, each a uvicorn process as a deployment runs it, on PostgreSQL and
the NATS cluster: the replicas of one service share its database, its NATS user and its durable consumers.

Replica 0 of each service is started (and ready) before replica 1, as a rolling deployment does: the first creates
the schema and the files the replicas share (the statement signing key, the console's secrets).
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from jinlin.cli.dev_staff import DEV_ROLES, dev_token
from jinlin.natsauth.generate import AuthSetup
from jinlin.runtime.ports import free_port
from jinlin.service import ServiceSpec
from jinlin.web.staff import STAFF_TOKENS_FILE_ENV

_ACCESS_LOG = ('"uvicorn.access"', '"request answered"', '"command committed"')
EVERYTHING_TOKEN = "cluster-suite-everything-token"
"""A staff member holding every role, for reading everything back."""


@dataclass
class Replica:
    spec: ServiceSpec
    index: int
    port: int
    env: dict[str, str]
    cwd: Path
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def name(self) -> str:
        return f"{self.spec.name}#{self.index}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.cwd / "logs" / f"{self.spec.name}-{self.index}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            *(sys.executable, "-m", "uvicorn", "--factory", self.spec.app_factory),
            *("--host", self.host, "--port", str(self.port), "--no-access-log", "--timeout-graceful-shutdown", "10"),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd, start_new_session=True
            )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no request finishes, no lock is released cleanly, nothing says goodbye."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self, lines: int = 30) -> str:
        """The last lines of its log that say something (not the access log)."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        telling = [line for line in text if not any(noise in line for noise in _ACCESS_LOG)]
        return "\n".join(telling[-lines:])


@dataclass
class Fleet:
    root: Path
    specs: list[ServiceSpec]
    databases: Mapping[str, str]
    nats_url: str
    auth: AuthSetup | None
    replicas_per_service: int = 2
    replicas: dict[str, list[Replica]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        staff_file = self.root / "staff.json"
        entries: list[dict[str, object]] = [
            {"token": dev_token(role), "id": f"dev-{role}", "roles": [role]} for role in DEV_ROLES
        ]
        entries.append({"token": EVERYTHING_TOKEN, "id": "cluster-everything", "roles": list(DEV_ROLES)})
        staff_file.write_text(json.dumps(entries))
        ports = {spec.name: [free_port() for _ in range(self.replicas_per_service)] for spec in self.specs}
        # Whatever the developer's shell says, the children get this fleet's settings only.
        shared = {name: value for name, value in os.environ.items() if not name.startswith("JINLIN_")}
        shared[STAFF_TOKENS_FILE_ENV] = str(staff_file)
        shared["JINLIN_VAR_DIR"] = str(self.root / "var")
        shared["JINLIN_STAFF_CONSOLE_SECRETS_DIR"] = str(self.root / "var" / "console-secrets")
        for spec in self.specs:
            prefix = spec.env_prefix
            # Replica 0's address for whoever calls the service (the console); each replica binds its own port.
            shared[f"{prefix}HOST"] = "127.0.0.1"
            shared[f"{prefix}PORT"] = str(ports[spec.name][0])
            shared[f"{prefix}DATABASE_URL"] = self.databases[spec.name]
            shared[f"{prefix}NATS_URL"] = self.nats_url
            shared[f"{prefix}LOG_FORMAT"] = "json"
            shared[f"{prefix}LOG_LEVEL"] = "info"
            if self.auth is not None:
                shared[f"{prefix}NATS_CREDS"] = str(self.auth.seed_path(spec.name).resolve())
        for spec in self.specs:
            self.replicas[spec.name] = [
                Replica(spec, index, port, {**shared, f"{spec.env_prefix}PORT": str(port)}, self.root)
                for index, port in enumerate(ports[spec.name])
            ]

    def all(self) -> list[Replica]:
        return [replica for replicas in self.replicas.values() for replica in replicas]

    def of(self, name: str) -> list[Replica]:
        return self.replicas[name]

    def urls(self) -> dict[str, str]:
        return {replica.name: replica.url for replica in self.all()}

    async def start(self, client: httpx.AsyncClient, timeout: float = 90) -> None:
        for index in range(self.replicas_per_service):
            wave = [replicas[index] for replicas in self.replicas.values()]
            for replica in wave:
                replica.start()
            await asyncio.gather(*(wait_ready(client, replica, timeout) for replica in wave))

    def stop(self) -> None:
        for replica in self.all():
            if replica.running:
                assert replica.process is not None
                replica.process.send_signal(signal.SIGTERM)
        for replica in self.all():
            replica.stop()

    def logs(self) -> str:
        return "\n\n".join(f"--- {replica.name} ---\n{replica.log()}" for replica in self.all())


async def wait_ready(client: httpx.AsyncClient, replica: Replica, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert replica.process is not None
        if replica.process.poll() is not None:
            raise AssertionError(f"{replica.name} exited with {replica.process.returncode}:\n{replica.log()}")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(f"{replica.url}/readyz", timeout=5)).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"{replica.name} not ready within {timeout:g} s:\n{replica.log()}")
        await asyncio.sleep(0.2)


async def metric(client: httpx.AsyncClient, replica: Replica, name: str) -> float | None:
    """A gauge of the replica's ``/metrics`` (the first sample of that name), or ``None`` when it does not answer."""
    try:
        answer = await client.get(f"{replica.url}/metrics", timeout=5)
        answer.raise_for_status()
    except httpx.HTTPError:
        return None
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


async def relay_leaders(client: httpx.AsyncClient, replicas: list[Replica]) -> list[Replica]:
    """The replicas that say they relay (``jinlin_relay_leader`` 1)."""
    gauges = await asyncio.gather(*(metric(client, replica, "jinlin_relay_leader") for replica in replicas))
    return [replica for replica, gauge in zip(replicas, gauges, strict=True) if gauge == 1]
