"""Cross-service latency: a complaint escalated in the complaints service → the mediation case readable there.

Escalations are sent open-loop at a fixed rate (100 commands/s), each on its own seeded complaint. "Readable" is the
moment mediation's store holds an event of the complaint's case (``caseid``): mediation writes its read model in the
same transaction as its events, so from then on its API answers with the case. The store is watched with plain
read-only SQLite queries every 2 ms from a thread of this process, so the figure has ±2 ms of resolution.
"""

import asyncio
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.http_load import staff
from bench.seeding import complaint_id


@dataclass
class Escalations:
    sent: int
    answered_ok: int
    visible: int
    command_ms: list[float]
    end_to_end_ms: list[float]
    rate: float

    def summary(self) -> dict[str, float]:
        def pct(values: list[float], p: float) -> float:
            ordered = sorted(values)
            return ordered[max(0, int(len(ordered) * p) - 1)] if ordered else float("nan")

        return {
            "sent": self.sent,
            "answered_ok": self.answered_ok,
            "visible": self.visible,
            "rate": self.rate,
            "command_p50_ms": statistics.median(self.command_ms) if self.command_ms else float("nan"),
            "command_p99_ms": pct(self.command_ms, 0.99),
            "p50_ms": statistics.median(self.end_to_end_ms) if self.end_to_end_ms else float("nan"),
            "p99_ms": pct(self.end_to_end_ms, 0.99),
        }


class CaseWatcher(threading.Thread):
    """Notes the first moment each ``caseid`` appears in a store's events table."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.first_seen: dict[str, float] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.database.exists() and not self.stopping.is_set():
            time.sleep(0.01)
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, check_same_thread=False)
        after = connection.execute("SELECT coalesce(max(sequence), 0) FROM events").fetchone()[0]
        while not self.stopping.is_set():
            rows = connection.execute("SELECT sequence, caseid FROM events WHERE sequence > ?", (after,)).fetchall()
            now = time.perf_counter()
            for sequence, caseid in rows:
                self.first_seen.setdefault(caseid, now)
                after = max(after, sequence)
            time.sleep(0.002)
        connection.close()


async def escalate_at_rate(
    complaints_url: str, mediation_db: Path, first: int, count: int, rate: float, settle: float = 10.0
) -> Escalations:
    watcher = CaseWatcher(mediation_db)
    watcher.start()
    sent_at: dict[str, float] = {}
    command_ms: list[float] = []
    ok = 0
    body = {
        "reason": "物业与业主对电费分摊有争议，申请调解",
        "parties": [
            {"role": "property_company", "organisation": "金源华庭物业服务有限公司"},
            {"role": "owners_committee", "organisation": "金源华庭业主委员会"},
        ],
    }
    async with httpx.AsyncClient(
        base_url=complaints_url, timeout=30, limits=httpx.Limits(max_connections=64)
    ) as client:

        async def one(n: int) -> None:
            nonlocal ok
            target = complaint_id(n)
            started = time.perf_counter()
            sent_at[target] = started
            response = await client.post(
                f"/complaints/{target}/escalate",
                json=body,
                headers=staff("handler") | {"Idempotency-Key": f"escalate-{target}"},
            )
            command_ms.append((time.perf_counter() - started) * 1000)
            ok += response.status_code == 200

        begun = time.perf_counter()
        tasks = []
        for i in range(count):
            delay = begun + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(first + i)))
        # The rate at which escalations were sent (open loop: not held back by slow answers).
        achieved = (count - 1) / (time.perf_counter() - begun) if count > 1 else float(count)
        await asyncio.gather(*tasks)
    deadline = time.perf_counter() + settle
    while time.perf_counter() < deadline and len(set(sent_at) & set(watcher.first_seen)) < ok:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # the watcher is a thread polling SQLite: there is no event to wait on
    watcher.stopping.set()
    watcher.join(5)
    # A complaint's case id is its own id until it is linked into a case (the seeded ones never are).
    latencies = [(watcher.first_seen[c] - t) * 1000 for c, t in sent_at.items() if c in watcher.first_seen]
    return Escalations(len(sent_at), ok, len(latencies), command_ms, latencies, achieved)
