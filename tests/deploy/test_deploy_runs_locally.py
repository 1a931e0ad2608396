"""What `docker compose up` runs, run here without Docker: the shipped nats-server config with generated users,
the PostgreSQL init script, and every registered service started by the container's entry point with the
environment the compose file gives it (hosts and ports moved to this machine)."""

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import nats
import nats.errors
import pytest
import yaml

from jinlin.cli.dev_staff import dev_token
from jinlin.messaging import connect_nats, ensure_stream
from jinlin.natsauth.generate import AuthSetup, init_auth
from jinlin.natsauth.policy import DECLARED_CONSUMERS
from jinlin.runtime.nats_server import nats_server_binary
from jinlin.runtime.ports import free_port
from jinlin.service import registered_services
from jinlin.testing.postgres import admin_url, unreachable_reason

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "deploy" / "serve.py"
STORE_DIR_LINE = "store_dir: /data/jetstream"
VOLUME_DIR = "/var/lib/jinlin"
STREAMS = {"COMPLAINTS": "jinlin.complaints.>", "MEDIATION": "jinlin.mediation.>", "ESCROW": "jinlin.escrow.>"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str, environ: dict[str, str] | None = None) -> str:
    """Compose's ``${VAR}`` and ``${VAR:-default}``, from ``environ`` (empty: every default, as on a laptop)."""
    environ = environ or {}

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        return environ.get(name) or (default if default is not None else "")

    return re.sub(r"\$\{([A-Z0-9_]+)(:-([^}]*))?\}", one, value)


@dataclass
class DeployedNats:
    url: str
    monitor_port: int
    auth: AuthSetup
    process: subprocess.Popen[bytes]
    log: Path


PORT_ATTEMPTS = 3


def _lost_its_port(log: Path) -> bool:
    """Free ports are picked before the process binds them: a test running beside this one can take one first."""
    return "address already in use" in log.read_text(errors="replace").lower()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> bool:
    """True once nats-server listens on ``port``; False when it exited because another process had taken a port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert _lost_its_port(log), f"nats-server exited: {log.read_text()}"
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nats-server did not listen on {port} within {timeout} s")


def _start_nats(config: Path, log: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    for _attempt in range(PORT_ATTEMPTS):
        port, monitor_port = free_port(), free_port()
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [
                    *(nats_server_binary(), "-c", str(config)),
                    *("-a", "127.0.0.1", "-p", str(port), "--http_port", str(monitor_port)),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            if _wait_for_port(port, process, log):
                return process, port, monitor_port
        except BaseException:
            process.kill()
            process.wait(10)
            raise
    raise AssertionError(f"nats-server lost its ports to other processes {PORT_ATTEMPTS} times: {log.read_text()}")


@pytest.fixture
def deployed_nats(tmp_path: Path) -> Iterator[DeployedNats]:
    """deploy/nats/nats-server.conf as docker compose mounts it (generated/ beside it), its store moved here."""
    config_dir = tmp_path / "etc-nats"
    config_dir.mkdir()
    shipped = (ROOT / "deploy" / "nats" / "nats-server.conf").read_text()
    assert STORE_DIR_LINE in shipped
    (config_dir / "nats-server.conf").write_text(shipped.replace(STORE_DIR_LINE, f'store_dir: "{tmp_path / "data"}"'))
    auth = init_auth(config_dir / "generated", registered_services())
    log = tmp_path / "nats.log"
    process, port, monitor_port = _start_nats(config_dir / "nats-server.conf", log)
    try:
        yield DeployedNats(f"nats://127.0.0.1:{port}", monitor_port, auth, process, log)
    finally:
        process.terminate()
        process.wait(10)


def test_the_shipped_nats_config_syncs_every_write_and_admits_only_known_users(deployed_nats: DeployedNats) -> None:
    monitor = f"http://127.0.0.1:{deployed_nats.monitor_port}"
    # The compose health check's own request.
    assert httpx.get(f"{monitor}/healthz?js-enabled-only=true", timeout=5).status_code == 200
    varz = httpx.get(f"{monitor}/varz", timeout=5).json()
    assert varz["jetstream"]["config"]["sync_always"] is True, "a JetStream ack must mean the message is on disk"
    assert varz["http_host"] == "127.0.0.1", "monitoring must stay on localhost"

    async def connect_anonymously() -> None:
        await nats.connect(deployed_nats.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)

    with pytest.raises(nats.errors.Error, match=r"(?i)authorization violation"):
        asyncio.run(connect_anonymously())

    async def connect_as_provisioner() -> None:
        nc = await connect_nats(
            deployed_nats.url,
            name="provisioner",
            creds=deployed_nats.auth.seed_path("provisioner"),
            first_connect_timeout=5,
        )
        await nc.close()

    asyncio.run(connect_as_provisioner())


# -- PostgreSQL and the services ------------------------------------------------------------------------------


@dataclass
class Postgres:
    host: str
    port: int
    user: str
    password: str | None
    admin_database: str
    prefix: str

    def env(self) -> dict[str, str]:
        env = {"PGHOST": self.host, "PGPORT": str(self.port), "POSTGRES_USER": self.user}
        env["POSTGRES_DB"] = self.admin_database
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def psql(self, *sql: str) -> None:
        commands = [arg for statement in sql for arg in ("-c", statement)]
        subprocess.run(
            ["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-U", self.user, "-d", self.admin_database, *commands],
            env=os.environ | self.env(),
            check=True,
            capture_output=True,
        )


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    reason = unreachable_reason()
    if reason:
        pytest.skip(reason)
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed: deploy/postgres/init.sh needs it")
    url = urlsplit(admin_url())
    server = Postgres(
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        admin_database=url.path.lstrip("/") or "postgres",
        prefix=f"jt{uuid.uuid4().hex[:8]}_",
    )
    yield server
    names = [name for name in compose()["services"]["postgres"]["environment"]["JINLIN_DATABASES"].split()]
    for name in names:
        server.psql(f'DROP DATABASE IF EXISTS "{server.prefix}{name}" WITH (FORCE)')
        server.psql(f'DROP ROLE IF EXISTS "{server.prefix}{name}"')


def run_init_script(postgres: Postgres) -> list[str]:
    """deploy/postgres/init.sh with the compose file's databases and default passwords, under a unique prefix."""
    environment = {
        key: interpolate(str(value)) for key, value in compose()["services"]["postgres"]["environment"].items()
    }
    names = environment["JINLIN_DATABASES"].split()
    env = os.environ | postgres.env() | {"JINLIN_DATABASES": " ".join(postgres.prefix + name for name in names)}
    for name in names:
        env[f"JINLIN_DB_PASSWORD_{(postgres.prefix + name).upper()}"] = environment[
            f"JINLIN_DB_PASSWORD_{name.upper()}"
        ]
    subprocess.run(["bash", str(ROOT / "deploy" / "postgres" / "init.sh")], env=env, check=True, capture_output=True)
    return names


def test_the_init_script_gives_each_service_a_database_no_other_role_may_enter(postgres: Postgres) -> None:
    names = run_init_script(postgres)
    assert {"complaints", "mediation", "billing_escrow", "staff_console"} <= set(names)
    run_init_script(postgres)  # again, as on a restart with a kept volume: nothing fails

    first, second = (postgres.prefix + name for name in names[:2])
    env = os.environ | postgres.env()
    own = subprocess.run(
        ["psql", "--no-psqlrc", "-U", first, "-d", first, "-c", "CREATE TABLE t (x int)"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert own.returncode == 0, own.stderr
    other = subprocess.run(
        ["psql", "--no-psqlrc", "-U", first, "-d", second, "-c", "SELECT 1"], env=env, capture_output=True, text=True
    )
    assert other.returncode != 0
    assert "permission denied" in other.stderr


def local_environment(
    name: str, deployed: DeployedNats, postgres: Postgres, ports: dict[str, int], state: Path
) -> dict[str, str]:
    """The compose file's environment of service ``name``, pointed at this machine."""
    document = compose()
    env = {key: interpolate(str(value)) for key, value in document["services"][name]["environment"].items()}
    for key, value in list(env.items()):
        if value.startswith("/run/secrets/"):
            secret_file = Path(document["secrets"][value.removeprefix("/run/secrets/")]["file"])
            generated = Path("deploy/nats/generated")
            if secret_file.parent == generated:
                env[key] = str(deployed.auth.directory / secret_file.name)
            else:
                env[key] = str(ROOT / secret_file)
        elif key.endswith("_DATABASE_URL"):
            url = urlsplit(value)
            user = postgres.prefix + (url.username or "")
            netloc = f"{user}:{url.password}@{postgres.host}:{postgres.port}"
            env[key] = urlunsplit((url.scheme, netloc, f"/{postgres.prefix}{url.path.lstrip('/')}", "", ""))
        elif key.endswith("_NATS_URL"):
            env[key] = deployed.url
        elif key.endswith("_HOST"):
            env[key] = "127.0.0.1"
        elif key.endswith("_PORT"):
            env[key] = str(ports[name])
        elif value.startswith(VOLUME_DIR):
            env[key] = str(state / name / value.removeprefix(VOLUME_DIR).lstrip("/"))
        elif (url := urlsplit(value)).scheme == "http" and url.hostname in document["services"]:
            # Another service, by its compose name: here it listens on 127.0.0.1 and a free port.
            env[key] = f"http://127.0.0.1:{ports.get(url.hostname, 9)}{url.path}"
    return env


@dataclass
class Started:
    name: str
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path


def _healthy(service: Started) -> bool:
    check = subprocess.run([sys.executable, str(SERVE), "check"], env=service.env, capture_output=True, timeout=30)
    return check.returncode == 0


async def _provision_streams(deployed: DeployedNats) -> None:
    nc = await connect_nats(
        deployed.url, name="provisioner", creds=deployed.auth.seed_path("provisioner"), first_connect_timeout=5
    )
    try:
        for stream, subjects in STREAMS.items():
            await ensure_stream(nc.jetstream(), stream, subjects)
    finally:
        await nc.close()


async def _durables(deployed: DeployedNats) -> set[tuple[str, str]]:
    nc = await connect_nats(
        deployed.url, name="provisioner", creds=deployed.auth.seed_path("provisioner"), first_connect_timeout=5
    )
    try:
        js = nc.jetstream()
        return {(stream, info.name) for stream in STREAMS for info in await js.consumers_info(stream)}
    finally:
        await nc.close()


async def _stream_messages(deployed: DeployedNats, stream: str) -> int:
    nc = await connect_nats(
        deployed.url, name="provisioner", creds=deployed.auth.seed_path("provisioner"), first_connect_timeout=5
    )
    try:
        return (await nc.jetstream().stream_info(stream)).state.messages
    finally:
        await nc.close()


def _start_services(names: list[str], deployed: DeployedNats, postgres: Postgres, tmp_path: Path) -> list[Started]:
    """Every service on a free port of its own; returns once each is healthy, or has exited."""
    ports = {name: free_port() for name in names}
    started: list[Started] = []
    for name in names:
        env = os.environ | local_environment(name, deployed, postgres, ports, tmp_path / "state")
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, str(SERVE)],
                env=env,
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(Started(name, ports[name], env, process, log))
    deadline = time.monotonic() + 90
    waiting = list(started)
    while waiting and time.monotonic() < deadline:
        for service in list(waiting):
            if service.process.poll() is not None or _healthy(service):
                waiting.remove(service)
        time.sleep(0.3)
    return started


def _wait_until_healthy(started: list[Started]) -> None:
    for service in started:
        assert service.process.poll() is None, f"{service.name} exited:\n{service.log.read_text()}"
    unhealthy = [service for service in started if not _healthy(service)]
    assert not unhealthy, f"not healthy: {[s.name for s in unhealthy]}\n" + "\n".join(
        s.log.read_text() for s in unhealthy
    )


def _stop(started: list[Started]) -> None:
    for service in started:
        if service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGTERM)
    for service in started:
        try:
            service.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()


def test_every_registered_service_runs_as_compose_starts_it(
    deployed_nats: DeployedNats, postgres: Postgres, tmp_path: Path
) -> None:
    run_init_script(postgres)
    asyncio.run(_provision_streams(deployed_nats))  # as an operator does first, so every consumer has its stream
    names = [spec.name for spec in registered_services()]
    started: list[Started] = []
    try:
        for _attempt in range(PORT_ATTEMPTS):
            started = _start_services(names, deployed_nats, postgres, tmp_path)
            if not any(s.process.poll() is not None and _lost_its_port(s.log) for s in started):
                break
            _stop(started)
        _wait_until_healthy(started)

        if "complaints" in names:
            complaints = next(s for s in started if s.name == "complaints")
            filed = httpx.post(
                f"http://127.0.0.1:{complaints.port}/complaints",
                headers={"Authorization": f"Bearer {dev_token('intake')}", "Idempotency-Key": "deploy-test-1"},
                json={
                    "category_code": "electricity",
                    "channel": "phone",
                    "priority": "urgent",
                    "compound_id": "jinyuan-huating",
                    "building": "3栋",
                    "unit": "2单元",
                    "description": "小区停电",
                    "answers": {"issue": "arrears", "households_affected": 3},
                    "reporter": {"name": "测试", "phone": "13900000000"},
                },
                timeout=10,
            )
            assert filed.status_code == 201, filed.text
            deadline = time.monotonic() + 20
            while asyncio.run(_stream_messages(deployed_nats, "COMPLAINTS")) < 1:
                assert time.monotonic() < deadline, (
                    "the complaint never reached JetStream:\n" + complaints.log.read_text()
                )
                time.sleep(0.2)
            stored = json.loads(filed.text)
            assert stored["complaint_id"]

        # Each service's declared consumers are there, created by the services themselves under their own users.
        declared = {(g.stream, g.durable) for name in names for g in DECLARED_CONSUMERS.get(name, ())}
        deadline = time.monotonic() + 30
        while not declared <= asyncio.run(_durables(deployed_nats)):
            assert time.monotonic() < deadline, f"missing consumers: {declared - asyncio.run(_durables(deployed_nats))}"
            time.sleep(0.3)
        violations = [line for line in deployed_nats.log.read_text().splitlines() if "Violation" in line]
        assert violations == [], "the services did something their NATS users may not"
    finally:
        _stop(started)
