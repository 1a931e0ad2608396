"""Fixtures of the cluster tests: a deployment past one machine, on this one machine.

``deployment`` is a PostgreSQL database per service, NATS users and permissions from ``jinlin nats init-auth``,
three clustered ``nats-server`` processes with every stream provisioned at three replicas (``jinlin nats provision
--replicas 3``), and two uvicorn processes of every registered service connected to all three nodes. The figures a
test records are printed at the end of the run.
"""

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from jinlin.natsauth.generate import AuthSetup, init_auth
from jinlin.natsauth.policy import PROVISIONER
from jinlin.runtime.leadership import relay_lock_key
from jinlin.service import ServiceSpec, registered_services
from jinlin.testing.postgres import fresh_database, unreachable_reason
from tests.cluster.fleet import Fleet, Replica
from tests.cluster.nats_cluster import NatsCluster

FIGURES = "cluster figures"
HOLDER_PID = re.compile(r" pid (\d+)$")
JINLIN = str(Path(sys.executable).parent / "jinlin")


def clean_environment() -> dict[str, str]:
    """The tools run with this deployment's settings only, whatever the developer's shell says."""
    return {name: value for name, value in os.environ.items() if not name.startswith("JINLIN_")}


def jinlin(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JINLIN, *args], env=clean_environment(), capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class Deployment:
    root: Path
    specs: list[ServiceSpec]
    databases: dict[str, str]
    auth: AuthSetup
    cluster: NatsCluster
    fleet: Fleet

    @property
    def provisioner_key(self) -> Path:
        return self.auth.seed_path(PROVISIONER)

    def relaying(self) -> list[ServiceSpec]:
        """The services that publish events (every one but the console, which only reads)."""
        return [spec for spec in self.specs if spec.name != "staff-console"]

    async def relay_holder(self, name: str) -> Replica | None:
        """The replica whose process holds the service's relay lock, as PostgreSQL says (``pg_locks``, and the
        lock session's application name, which names the process)."""
        spec = next(spec for spec in self.specs if spec.name == name)
        key = relay_lock_key(spec.stream_name)
        db = await asyncpg.connect(self.databases[name])
        try:
            holder = await db.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                key >> 32,
                key & 0xFFFFFFFF,
            )
        finally:
            await db.close()
        found = HOLDER_PID.search(holder or "")
        pid = int(found.group(1)) if found else None
        return next((r for r in self.fleet.of(name) if r.process is not None and r.process.pid == pid), None)

    def logs(self) -> str:
        nodes = "\n".join(f"--- nats node {i} ---\n{self.cluster.log(i)}" for i in range(self.cluster.size))
        return f"{self.cluster.describe()}\n\n{nodes}\n\n{self.fleet.logs()}"


def provision(cluster: NatsCluster, key: Path, timeout: float = 60) -> str:
    """``jinlin nats provision --replicas 3``, once the cluster has elected its JetStream meta leader."""
    deadline = time.monotonic() + timeout
    while True:
        done = jinlin("nats", "provision", "--nats-url", cluster.urls[0], "--creds", str(key), "--replicas", "3")
        if done.returncode == 0:
            return done.stdout
        if time.monotonic() > deadline:
            raise AssertionError(f"jinlin nats provision failed: {done.stdout}{done.stderr}")
        time.sleep(0.5)


def wait_meta_leader(cluster: NatsCluster, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if all(cluster.meta_leader(i) for i in range(cluster.size)):
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"no JetStream meta leader within {timeout:g} s:\n{cluster.describe()}")
        time.sleep(0.1)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
    async with httpx.AsyncClient(limits=limits) as http:
        yield http


@pytest.fixture
async def deployment(
    tmp_path: Path, client: httpx.AsyncClient, request: pytest.FixtureRequest
) -> AsyncIterator[Deployment]:
    reason = unreachable_reason()
    if reason:
        pytest.skip(reason)
    specs = registered_services()
    async with contextlib.AsyncExitStack() as stack:
        databases = {
            spec.name: await stack.enter_async_context(fresh_database(f"jinlin_cluster_{spec.token}")) for spec in specs
        }
        auth = init_auth(tmp_path / "nats-auth", specs)
        cluster = NatsCluster(tmp_path / "nats", auth_config=auth.config_path)
        stack.callback(cluster.stop)
        cluster.start()
        wait_meta_leader(cluster)
        provision(cluster, auth.seed_path(PROVISIONER))
        fleet = Fleet(tmp_path / "fleet", specs, databases, cluster.nats_url, auth)
        stack.callback(fleet.stop)  # runs before the cluster stops and the databases are dropped
        deployment = Deployment(tmp_path, specs, databases, auth, cluster, fleet)
        try:
            await fleet.start(client)
            yield deployment
        finally:
            if getattr(request.node, "failed_call", False):
                request.node.add_report_section("teardown", "cluster logs", deployment.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when in ("setup", "call") and report.failed:
        item.failed_call = True  # type: ignore[attr-defined]
    return report


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Any:
    """``figures("takeover", "0.8 s")``: a line of this test's figures, shown at the end of the run."""

    def record(label: str, value: object) -> None:
        request.node.user_properties.append((FIGURES, f"{label}: {value}"))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = [
        f"{report.nodeid.rpartition('::')[2]}  {text}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, text in getattr(report, "user_properties", ())
        if name == FIGURES
    ]
    if lines:
        terminalreporter.section(FIGURES)
        for line in lines:
            terminalreporter.write_line(line)
