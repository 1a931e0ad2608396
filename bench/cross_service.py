"""Cross-service latency: a complaint escalated in the complaints service → the mediation case readable there.

Escalations are sent open-loop at a fixed rate (100 commands/s), each on its own seeded complaint. "Readable" is the
moment mediation's store holds an event of the complaint's case (``caseid``): mediation writes its read model in the
same transaction as its events, so from then on its API answers with the case. The store is watched with plain
read-only SQLite queries every 2 ms from a thread of this process, so the figure has ±2 ms of resolution.
"""

import asyncio
import json
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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
    sent_at: dict[str, float] = field(default_factory=dict)
    """Complaint id → when its escalation was sent (``time.perf_counter``), for per-hop analysis."""
    first_seen: dict[str, float] = field(default_factory=dict)
    """Case id → when mediation's store first held an event of it (``time.perf_counter``)."""
    wall_minus_perf: float = 0.0
    """``time.time() - time.perf_counter()`` during the run: turns the above into wall-clock times."""
    transport_retries: int = 0
    """Commands sent again (same Idempotency-Key) after the server closed the connection under them."""

    def summary(self) -> dict[str, float]:
        def pct(values: list[float], p: float) -> float:
            ordered = sorted(values)
            return ordered[max(0, int(len(ordered) * p) - 1)] if ordered else float("nan")

        return {
            "sent": self.sent,
            "answered_ok": self.answered_ok,
            "visible": self.visible,
            "rate": self.rate,
            "transport_retries": self.transport_retries,
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
        version = None
        while not self.stopping.is_set():
            # data_version changes when another connection commits: the events are read only then, so that the
            # watcher takes as little as possible of the CPU the services under test share with it.
            changed = connection.execute("PRAGMA data_version").fetchone()[0]
            if changed != version:
                version = changed
                rows = connection.execute("SELECT sequence, caseid FROM events WHERE sequence > ?", (after,)).fetchall()
                now = time.perf_counter()
                for sequence, caseid in rows:
                    self.first_seen.setdefault(caseid, now)
                    after = max(after, sequence)
            time.sleep(0.002)
        connection.close()


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class KeepAliveClient:
    """Just enough HTTP/1.1 for this benchmark: POSTs over a fixed set of keep-alive connections, handed out in order.

    An open-loop load must not take the CPU the services need (they share this small machine with it). httpx's pool
    goes through every queued request on each arrival and each answer, so when the service falls behind and hundreds
    of escalations queue, the load generator's own work grows with the queue and holds the service back further.
    Here a request waiting for a connection costs nothing.
    """

    def __init__(self, url: str, connections: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: asyncio.Queue[Connection | None] = asyncio.Queue()
        for _ in range(connections):
            self.idle.put_nowait(None)  # not connected yet
        self.reconnects = 0

    async def post_json(self, path: str, body: object, headers: dict[str, str]) -> int:
        """The answer's status. A connection the server closed under the request is opened again and the request
        sent again: the callers' Idempotency-Key makes that safe."""
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Content-Type: application/json"]
        head += [f"{name}: {value}" for name, value in headers.items()] + [f"Content-Length: {len(payload)}"]
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        connection = await self.idle.get()
        try:
            for attempt in range(3):
                if connection is None:
                    connection = await asyncio.open_connection(self.host, self.port)
                try:
                    status, keep = await _exchange(connection, request)
                except (ConnectionError, asyncio.IncompleteReadError):
                    connection[1].close()
                    connection = None
                    if attempt == 2:
                        raise
                    self.reconnects += 1
                    continue
                if not keep:
                    connection[1].close()
                    connection = None
                return status
            raise AssertionError("unreachable")
        finally:
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        while not self.idle.empty():
            connection = self.idle.get_nowait()
            if connection is not None:
                connection[1].close()


async def _exchange(connection: Connection, request: bytes) -> tuple[int, bool]:
    """Send one request and read its whole answer; the status, and whether the connection stays open."""
    reader, writer = connection
    writer.write(request)
    await writer.drain()
    status_line = await reader.readuntil(b"\r\n")
    if not status_line.strip():
        raise ConnectionResetError("the server closed the connection")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


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
    client = KeepAliveClient(complaints_url, 64)
    try:

        async def one(n: int) -> None:
            nonlocal ok
            target = complaint_id(n)
            started = time.perf_counter()
            sent_at[target] = started
            status = await client.post_json(
                f"/complaints/{target}/escalate",
                body,
                staff("handler") | {"Idempotency-Key": f"escalate-{target}"},
            )
            command_ms.append((time.perf_counter() - started) * 1000)
            ok += status == 200

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
    finally:
        await client.close()
    deadline = time.perf_counter() + settle
    while time.perf_counter() < deadline and len(set(sent_at) & set(watcher.first_seen)) < ok:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # the watcher is a thread polling SQLite: there is no event to wait on
    watcher.stopping.set()
    watcher.join(5)
    # A complaint's case id is its own id until it is linked into a case (the seeded ones never are).
    latencies = [(watcher.first_seen[c] - t) * 1000 for c, t in sent_at.items() if c in watcher.first_seen]
    return Escalations(
        len(sent_at),
        ok,
        len(latencies),
        command_ms,
        latencies,
        achieved,
        sent_at,
        dict(watcher.first_seen),
        time.time() - time.perf_counter(),
        client.reconnects,
    )
