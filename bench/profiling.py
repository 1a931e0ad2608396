"""Where the time goes: py-spy samples (raw collapsed stacks) summarised by component and by our own functions."""

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

PY_SPY = str(Path(sys.executable).parent / "py-spy")
_LINE = re.compile(r":\d+\)$")

# The first matching rule names the component a sample's innermost frame belongs to.
COMPONENTS = [
    ("aiosqlite thread hand-off", ("aiosqlite/",)),
    ("SQLAlchemy (statement building, caching, results)", ("sqlalchemy/",)),
    ("asyncio scheduling", ("asyncio/",)),
    (
        "HTTP server and framework (uvicorn, Starlette, FastAPI)",
        ("uvicorn/", "starlette/", "fastapi/", "h11/", "httptools"),
    ),
    ("pydantic (validation, serialisation)", ("pydantic/", "pydantic_core")),
    ("canonical JSON and hashing", ("rfc8785/", "hashlib", "jinlin/events/canonical.py", "jinlin/events/chain.py")),
    ("logging (structlog)", ("structlog/", "logging/", "jinlin/logging.py")),
    ("metrics (prometheus_client)", ("prometheus_client/",)),
    ("cryptography", ("cryptography/", "nacl/")),
    ("JSON (stdlib)", ("json/",)),
    ("NATS client", ("nats/",)),
    ("Python start-up (imports)", ("<frozen importlib", "dataclasses.py")),
    ("kernel (jinlin.*)", ("jinlin/",)),
    ("service code", ("complaints/", "billing_escrow/", "mediation/", "staff_console/")),
]


def record(target: list[str], output: Path, *, rate: int = 100) -> subprocess.Popen[bytes]:
    """Start py-spy on ``target`` (``["--pid", "123", "--duration", "10"]`` or ``["--", "python", ...]``)."""
    if not Path(PY_SPY).exists() and shutil.which("py-spy") is None:
        raise FileNotFoundError("py-spy is not installed")
    # --gil: only the thread holding the GIL is sampled, so the samples show where Python's one core goes (threads
    # waiting for work, or the event loop waiting in epoll, hold no GIL and leave no sample).
    command = [PY_SPY if Path(PY_SPY).exists() else "py-spy", "record", "--format", "raw", "--rate", str(rate)]
    command += ["--output", str(output), "--nonblocking", "--gil", *target]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _function(frame: str) -> str:
    return _LINE.sub(")", frame)


def summarise(
    raw: Path, seconds: float, rate: int = 100, *, ours: tuple[str, ...] = ("jinlin/", "complaints/", "billing_escrow/")
) -> dict[str, Any]:
    """Shares of the samples by component (innermost frame), by our functions (inclusive) and the top leaves; and
    how busy the GIL was (samples taken / samples possible over ``seconds``)."""
    total = 0
    components: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";")]
        total += count
        leaf = frames[-1]
        leaves[leaf] += count
        component = next((name for name, keys in COMPONENTS if any(key in leaf for key in keys)), "other")
        components[component] += count
        for frame in set(frames):
            if any(key in frame for key in ours):
                inclusive[frame] += count
    if not total:
        return {"samples": 0}
    share = lambda counter, n: [(name, count / total) for name, count in counter.most_common(n)]  # noqa: E731
    return {
        "samples": total,
        "gil_busy": total / (seconds * rate) if seconds else float("nan"),
        "components": share(components, 15),
        "ours_inclusive": share(inclusive, 25),
        "leaves": share(leaves, 12),
    }
