"""Kernel throughput on this machine: store appends (one transaction per command, like the HTTP path) and the relay
to JetStream, each beside a baseline measured in the same run.

    .venv/bin/python bench/kernel_throughput.py [--events 5000]

Prints a small table; `make bench` (the full suite) builds on it.
"""

import argparse
import asyncio
import os
import platform
import tempfile
import time
from pathlib import Path

import nats

from jinlin.events import DomainEvent, EventRegistry
from jinlin.messaging import Relay, connect_nats, ensure_stream
from jinlin.messaging.relay import event_headers
from jinlin.runtime.nats_server import NatsServer
from jinlin.store import ANY_VERSION, CommandContext, EventStore, Stream, create_engines

registry = EventRegistry("bench")


@registry.register
class Measured(DomainEvent):
    n: int
    note: str


def _event(n: int) -> Measured:
    return Measured(n=n, note="楼道垃圾三天没人清理 — a typical short complaint text")


async def append_one_per_transaction(store: EventStore, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        await store.append(Stream("thing", f"t{n % 500}"), ANY_VERSION, [_event(n)], CommandContext("bench", f"c{n}"))
    return count / (time.perf_counter() - started)


async def append_concurrently(store: EventStore, count: int, clients: int) -> float:
    async def client(offset: int) -> None:
        for n in range(offset, count, clients):
            await store.append(
                Stream("thing", f"k{n % 500}"), ANY_VERSION, [_event(n)], CommandContext("bench", f"c{n}")
            )

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return count / (time.perf_counter() - started)


async def relay_rate(store: EventStore, server: NatsServer, stream: str) -> float:
    nc = await connect_nats(server.url, name="bench-relay", first_connect_timeout=10)
    try:
        relay = Relay(store, nc, stream=stream, subjects="jinlin.bench.>")
        started = time.perf_counter()
        total = 0
        while published := await relay.publish_pending():
            total += published
        return total / (time.perf_counter() - started)
    finally:
        await nc.close()


async def raw_publish_rate(store: EventStore, server: NatsServer, stream: str) -> float:
    """Baseline: nats-py publishing the same messages to the same kind of stream, pipelined, awaiting every ack."""
    log = await store.read_log(limit=10**9)
    bodies = [(event.nats_subject, event.envelope.to_json_bytes(), event_headers(event, stream)) for event in log]
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    await ensure_stream(js, stream, "jinlin.bench.>")
    started = time.perf_counter()
    window = 500
    for start in range(0, len(bodies), window):
        batch = bodies[start : start + window]
        await asyncio.gather(*(js.publish(s, b, headers=h) for s, b, h in batch))
    rate = len(bodies) / (time.perf_counter() - started)
    await nc.close()
    return rate


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="jinlin-bench-") as tmp:
        root = Path(tmp)
        store = EventStore(create_engines(f"sqlite+aiosqlite:///{root / 'bench.sqlite3'}"), registry)
        await store.create_schema()
        sequential = await append_one_per_transaction(store, count)
        concurrent = await append_concurrently(store, count, clients=32)
        # Two servers with the same settings: the two streams would claim the same subjects on one.
        with NatsServer(data_dir=root / "nats-relay") as server:
            relayed = await relay_rate(store, server, "BENCH")
        with NatsServer(data_dir=root / "nats-raw") as server:
            raw = await raw_publish_rate(store, server, "BENCH")
        await store.close()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'figure':48} {'events/s':>10}")
    print(f"{'store append, 1 event per transaction':48} {sequential:10.0f}")
    print(f"{'store append, 32 concurrent writers':48} {concurrent:10.0f}")
    print(f"{'relay to JetStream (sync_interval always)':48} {relayed:10.0f}")
    print(f"{'baseline: raw nats-py publish, same messages':48} {raw:10.0f}  (relay = {relayed / raw:.2f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    asyncio.run(main(parser.parse_args().events))
