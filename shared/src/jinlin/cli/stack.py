"""The embedded stack behind ``jinlin up``: a real nats-server and every registered service as children."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from jinlin.cli.dev_staff import write_dev_staff
from jinlin.cli.layout import Layout
from jinlin.natsauth.config import include_directive
from jinlin.natsauth.generate import AuthSetup, init_auth
from jinlin.runtime.nats_server import NatsServer
from jinlin.runtime.ports import port_is_taken
from jinlin.service import ServiceSpec
from jinlin.web.staff import STAFF_TOKENS_ENV, STAFF_TOKENS_FILE_ENV

NATS_AUTH_DIR = "nats-auth"
"""Under the var directory: a key per NATS user and the server's ``auth.conf`` (``jinlin nats init-auth``)."""


class StackError(RuntimeError):
    pass


@dataclass
class ServiceProcess:
    spec: ServiceSpec
    host: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class Stack:
    layout: Layout
    specs: list[ServiceSpec]
    ports: dict[str, int] = field(default_factory=dict)
    nats: NatsServer | None = None
    services: list[ServiceProcess] = field(default_factory=list)
    staff_file: Path | None = None
    auth: AuthSetup | None = None

    def port_of(self, spec: ServiceSpec) -> int:
        return self.ports.get(spec.name) or self.layout.port(spec)

    def check_ports(self) -> None:
        wanted = {"NATS": self.layout.nats_port} | {spec.name: self.port_of(spec) for spec in self.specs}
        taken = [f"{name} port {port}" for name, port in wanted.items() if port_is_taken(port, self.layout.host)]
        if taken:
            raise StackError(f"already in use: {', '.join(taken)} (choose others with --port NAME=PORT / --nats-port)")
        duplicates = {port for port in wanted.values() if list(wanted.values()).count(port) > 1}
        if duplicates:
            raise StackError(f"ports given twice: {sorted(duplicates)}")

    def start(self) -> None:
        self.check_ports()
        var = self.layout.var_dir
        (var / "logs").mkdir(parents=True, exist_ok=True)
        # Every start: existing keys are kept, and a newly installed service gets its user.
        self.auth = init_auth(var / NATS_AUTH_DIR, self.specs)
        self.nats = NatsServer(
            data_dir=var / "nats", port=self.layout.nats_port, host=self.layout.host, log_file=var / "logs" / "nats.log"
        )
        self.nats.extra_config = include_directive(self.nats.config_path, self.auth.config_path)
        self.nats.start()
        if not (os.environ.get(STAFF_TOKENS_FILE_ENV) or os.environ.get(STAFF_TOKENS_ENV)):
            self.staff_file = write_dev_staff(var)
        for spec in self.specs:
            self.services.append(self._start_service(spec))

    def _start_service(self, spec: ServiceSpec) -> ServiceProcess:
        port = self.port_of(spec)
        env = dict(os.environ)
        env.setdefault(f"{spec.env_prefix}DATABASE_URL", self.layout.database_url(spec))
        env.setdefault(f"{spec.env_prefix}NATS_URL", self.layout.nats_url)
        if self.auth is not None:
            env.setdefault(f"{spec.env_prefix}NATS_CREDS", str(self.auth.seed_path(spec.name).resolve()))
        # Every service's address, so that a service calling another (the console) follows --port overrides.
        for other in self.specs:
            env[f"{other.env_prefix}HOST"] = self.layout.host
            env[f"{other.env_prefix}PORT"] = str(self.port_of(other))
        env.setdefault(f"{spec.env_prefix}LOG_FORMAT", "json")
        if self.staff_file is not None:
            env[STAFF_TOKENS_FILE_ENV] = str(self.staff_file.resolve())
        log_path = self.layout.var_dir / "logs" / f"{spec.name}.log"
        child = ServiceProcess(spec, self.layout.host, port, log_path)
        with open(log_path, "ab") as log:
            child.process = subprocess.Popen(
                self._command(spec, port),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                # A session of its own: Ctrl-C reaches the runner, which stops children in order.
                start_new_session=True,
            )
        return child

    def _command(self, spec: ServiceSpec, port: int) -> list[str]:
        return [
            *(sys.executable, "-m", "uvicorn", "--factory", spec.app_factory),
            *("--host", self.layout.host, "--port", str(port)),
            *("--no-access-log", "--timeout-graceful-shutdown", "10"),
        ]

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.services)
        with httpx.Client(timeout=2.0) as client:
            while pending and time.monotonic() < deadline:
                for child in list(pending):
                    assert child.process is not None
                    if child.process.poll() is not None:
                        raise StackError(f"{child.spec.name} exited with {child.process.returncode}: {_tail(child)}")
                    try:
                        if client.get(f"{child.url}/readyz").status_code == 200:
                            pending.remove(child)
                    except httpx.HTTPError:
                        pass
                if pending:
                    time.sleep(0.2)
        if pending:
            names = ", ".join(child.spec.name for child in pending)
            raise StackError(f"not ready within {timeout:.0f}s: {names}; see {self.layout.var_dir / 'logs'}")

    def stop(self, timeout: float = 15.0) -> None:
        """Services first (they drain into NATS), then NATS."""
        for child in self.services:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.services:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        self.services.clear()
        if self.nats is not None:
            self.nats.stop()
            self.nats = None

    def first_exited(self) -> ServiceProcess | None:
        for child in self.services:
            if child.process is not None and child.process.poll() is not None:
                return child
        return None


def _tail(child: ServiceProcess, lines: int = 15) -> str:
    try:
        text = child.log_path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "(no log)"
    return "\n" + "\n".join(text)
