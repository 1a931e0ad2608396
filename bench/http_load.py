"""HTTP load on the embedded stack (``jinlin.cli.stack.Stack``: nats-server and the services as child processes),
driven by ``wrk`` with the Lua scripts in ``bench/lua`` (a unique ``Idempotency-Key`` per request).

Every run counts the CPU time that wrk, the service under load and nats-server used, so the report can show that the
load generator was not the bottleneck.
"""

import json
import os
import resource
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from jinlin.cli.dev_staff import dev_token
from jinlin.cli.layout import Layout
from jinlin.cli.stack import Stack
from jinlin.runtime.ports import free_port
from jinlin.service import ServiceSpec, registered_services

LUA_DIR = Path(__file__).parent / "lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class WrkRun:
    label: str
    requests: int
    seconds: float
    statuses: dict[str, int]
    errors: dict[str, int]
    latency_ms: dict[str, float]
    curve: list[tuple[float, float]]
    first_error: str = ""
    cpu_cores: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def ok_ratio(self) -> float:
        good = sum(count for status, count in self.statuses.items() if status.startswith("2"))
        return good / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"rate": self.rate, "ok_ratio": self.ok_ratio}


def run_wrk(
    label: str,
    url: str,
    script: str,
    seconds: float,
    *,
    env: dict[str, str],
    connections: int = 32,
    threads: int = 1,
    watch: dict[str, int] | None = None,
) -> WrkRun:
    """One wrk run; ``watch`` names processes (name → pid) whose CPU use is reported in cores."""
    watch = watch or {}
    before = {name: _cpu_seconds(pid) for name, pid in watch.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [
            *("wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s"),
            *("-s", str(LUA_DIR / script), url),
        ],
        env=os.environ | {"BENCH_LUA_DIR": str(LUA_DIR)} | env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=seconds + 60,
        check=False,
    )
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    data = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    cores = {name: (_cpu_seconds(pid) - before[name]) / wall for name, pid in watch.items()}
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    cores["wrk"] = wrk_cpu / wall
    latency = data["latency_us"]
    return WrkRun(
        label=label,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        statuses={str(k): int(v) for k, v in data["statuses"].items()},
        errors=data["errors"],
        latency_ms={key: value / 1000 for key, value in latency.items()},
        curve=[(float(p), us / 1000) for p, us in data["curve"]],
        first_error=data.get("first_error", ""),
        cpu_cores=cores,
    )


class BenchStack:
    """The embedded stack on its own free ports, with its data in ``var_dir``; ``only`` limits the services."""

    def __init__(self, var_dir: Path, only: list[str] | None = None) -> None:
        specs = [spec for spec in registered_services() if only is None or spec.name in only]
        self.layout = Layout(var_dir=var_dir, nats_port=free_port())
        self.stack = Stack(self.layout, specs, {spec.name: free_port() for spec in specs})

    def __enter__(self) -> "BenchStack":
        self.stack.start()
        try:
            self.stack.wait_ready(timeout=180)
        except BaseException:
            self.stack.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stack.stop()

    @property
    def specs(self) -> list[ServiceSpec]:
        return self.stack.specs

    def url(self, name: str) -> str:
        return next(child.url for child in self.stack.services if child.spec.name == name)

    def pid(self, name: str) -> int:
        child = next(child for child in self.stack.services if child.spec.name == name)
        assert child.process is not None
        return child.process.pid

    @property
    def nats_pid(self) -> int:
        assert self.stack.nats is not None
        assert self.stack.nats.process is not None
        return self.stack.nats.process.pid

    def watch(self, name: str) -> dict[str, int]:
        return {name: self.pid(name), "nats-server": self.nats_pid}

    def backlog(self) -> float:
        """Relay lag plus every consumer's lag, over all services (from their /metrics)."""
        total = 0.0
        with httpx.Client(timeout=10) as client:
            for child in self.stack.services:
                text = client.get(f"{child.url}/metrics").text
                for line in text.splitlines():
                    if line.startswith(("jinlin_relay_lag_events", "jinlin_consumer_lag_messages")):
                        value = float(line.rsplit(" ", 1)[1])
                        total += value if value == value else 0.0  # NaN: not sampled yet
        return total

    def wait_quiet(self, timeout: float) -> float:
        """Wait until every relay and consumer has caught up (twice in a row); return the seconds waited."""
        started = time.monotonic()
        quiet = 0
        while time.monotonic() - started < timeout:
            quiet = quiet + 1 if self.backlog() == 0 else 0
            if quiet >= 2:
                return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"relays and consumers still busy after {timeout:.0f}s (backlog {self.backlog():.0f})")


def staff(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(role)}"}


def set_up_escrow(base_url: str, accounts: int, households: int) -> None:
    """Active accounts acc-bench-<a> (one compound each) with households hh-bench-<a>-<n>, over HTTP."""
    bank = {"bank_name": "中国工商银行天长支行", "account_number": "1313-0250-0920-0012-345", "account_name": "监管户"}
    with httpx.Client(base_url=base_url, timeout=30) as client:

        def post(path: str, role: str, body: dict[str, Any] | None = None) -> None:
            response = client.post(path, json=body, headers=staff(role) | {"Idempotency-Key": os.urandom(8).hex()})
            if response.status_code >= 300:
                raise RuntimeError(f"escrow set-up: {path} answered {response.status_code}: {response.text[:500]}")

        for a in range(accounts):
            account, compound = f"acc-bench-{a}", f"bench-compound-{a}"
            post("/accounts", "finance", {"account_id": account, "compound_id": compound, "purpose": "property_fee"})
            opened = {"notary_reference": f"(2026)皖滁天证字第{a:04d}号", "supervising_notary_name": "赵公证员",
                      "bank_account": bank}  # fmt: skip
            post(f"/accounts/{account}/open", "notary", opened)
            post(f"/accounts/{account}/activate", "finance")
            for n in range(households):
                body = {"household_id": f"hh-bench-{a}-{n}", "compound_id": compound, "label": f"{1 + n // 8}栋{n}室",
                        "floor_area_dm2": 8937}  # fmt: skip
                post("/households", "finance", body)
