"""What the figures were measured on: the machine, the versions, and how long the disk takes to make a write durable."""

import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from jinlin.runtime.nats_server import nats_server_binary


@dataclass(frozen=True)
class Machine:
    date: str
    cores: int
    memory_gib: float
    cpu_model: str
    kernel: str
    python: str
    sqlite: str
    nats_server: str
    wrk: str
    eventsourcing: str
    sqlalchemy: str
    nats_py: str
    fsync_ms_median: float
    fsync_ms_p99: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError as exc:
        return f"unavailable ({exc})"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def fsync_latency(directory: Path, writes: int = 200) -> tuple[float, float]:
    """Median and p99 of one 4 KiB write + fsync, in ms: the floor under every durable commit (SQLite, JetStream)."""
    path = directory / "fsync-probe"
    samples: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = b"\0" * 4096
        for _ in range(writes):
            started = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def describe(work_dir: Path) -> Machine:
    median, p99 = fsync_latency(work_dir)
    wrk = shutil.which("wrk")
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cores=os.cpu_count() or 0,
        memory_gib=round(_memory_gib(), 1),
        cpu_model=_cpu_model(),
        kernel=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        nats_server=_first_line([nats_server_binary(), "--version"]),
        wrk=_first_line([wrk, "--version"]).split(" Copyright")[0] if wrk else "not installed",
        eventsourcing=version("eventsourcing"),
        sqlalchemy=version("sqlalchemy"),
        nats_py=version("nats-py"),
        fsync_ms_median=round(median, 2),
        fsync_ms_p99=round(p99, 2),
    )


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, user + system + irq + steal) since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and of every child it has waited for (services, nats-server, wrk, py-spy)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class ForeignLoad:
    """How much of the machine's CPU went to work other than this benchmark while it ran (other sessions' tests,
    say): figures measured on a busy machine are pessimistic, and the report says so."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.busy = _busy_seconds()
        self.own = _own_seconds()

    def share(self) -> float:
        elapsed = (time.monotonic() - self.started) * (os.cpu_count() or 1)
        foreign = (_busy_seconds() - self.busy) - (_own_seconds() - self.own)
        return max(0.0, foreign / elapsed) if elapsed else 0.0


def wait_for_quiet(max_seconds: float, log: Callable[[str], None]) -> float:
    """Wait (up to ``max_seconds``) until the 1-minute load average is below half the cores; return it."""
    limit = (os.cpu_count() or 1) / 2
    deadline = time.monotonic() + max_seconds
    load = os.getloadavg()[0]
    while load >= limit and time.monotonic() < deadline:
        log(f"the machine is busy (load average {load:.1f}); waiting for it to calm down")
        time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))
        load = os.getloadavg()[0]
    return load
