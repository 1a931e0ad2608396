"""The relay to JetStream beside raw nats-py async publishing of the same messages to the same server.

At each store size the stream first receives all but the last ``tail`` events (from a server with JetStream's
default, lazy sync, which is fast; the relay's rate there is reported too: it shows the relay's own cost when the
disk is out of the way). Then the shipped configuration (``sync_interval: always``: an ack means the message is on
disk) is started on the same data and the relay publishes the tail: that is the figure. The baseline publishes the
same messages (same payloads, same headers, guards included) with nats-py's ``publish_async`` into a second stream of
the same server, prepared as bytes in advance, so it measures nothing but publishing.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.api import Header

from jinlin.messaging import Relay, connect_nats, ensure_stream
from jinlin.messaging.relay import event_headers
from jinlin.runtime.nats_server import NatsServer
from jinlin.store import EventStore, StoredEvent

STREAM = "COMPLAINTS"
SUBJECTS = "jinlin.complaints.>"


class LazilySyncedNats(NatsServer):
    """nats-server with JetStream's default sync (flushed every two minutes): only to fill a stream quickly."""

    def write_config(self) -> None:
        super().write_config()
        text = self.config_path.read_text()
        if "sync_interval: always" not in text:
            raise RuntimeError("the kernel's nats-server config changed: update bench/relay_bench.py")
        self.config_path.write_text(text.replace("sync_interval: always", ""))


class _LogUpTo:
    """The store as the relay sees it, ending at ``last``: lets a relay publish a prefix of the log."""

    def __init__(self, store: EventStore, last: int) -> None:
        self._store = store
        self._last = last

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def read_log(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        if after >= self._last:
            return []
        return await self._store.read_log(after=after, limit=min(limit, self._last - after))

    async def last_sequence(self) -> int:
        return min(self._last, await self._store.last_sequence())


@dataclass(frozen=True)
class Rate:
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        return {"events": self.events, "seconds": self.seconds, "rate": self.rate}


async def _relay(store: Any, url: str, name: str) -> Rate:
    nc = await connect_nats(url, name=name, first_connect_timeout=10)
    try:
        relay = Relay(store, nc, stream=STREAM, subjects=SUBJECTS)
        started = time.perf_counter()
        published = await relay.publish_pending()
        return Rate(published, time.perf_counter() - started)
    finally:
        await nc.close()


async def _raw_publish(url: str, stream: str, events: Sequence[StoredEvent]) -> Rate:
    """nats-py's own pipelined publishing: publish_async for every message, then wait for every ack."""
    prefix = stream.lower()
    messages = []
    for n, stored in enumerate(events, start=1):
        headers = event_headers(stored, stream)
        headers[Header.EXPECTED_LAST_SEQUENCE.value] = str(n - 1)  # this stream's own sequence
        messages.append((f"{prefix}.{stored.nats_subject}", stored.envelope.to_json_bytes(), headers))
    nc: Client = await connect_nats(url, name=f"bench-raw-{prefix}", first_connect_timeout=10)
    try:
        js = nc.jetstream(timeout=30)
        await ensure_stream(js, stream, f"{prefix}.>")
        started = time.perf_counter()
        futures = [await js.publish_async(subject, payload, headers=headers) for subject, payload, headers in messages]
        await asyncio.wait_for(js.publish_async_completed(), 120)
        seconds = time.perf_counter() - started
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            raise RuntimeError(f"{len(failed)} raw publishes refused, first: {failed[0]!r}")
        return Rate(len(messages), seconds)
    finally:
        await nc.close()


async def relay_at_size(
    store: EventStore, nats_dir: Path, tail: int, *, lazy_baseline: bool
) -> dict[str, dict[str, float]]:
    """Fill the stream up to the tail, then measure the tail with ``sync_interval: always``. Leaves the stream
    holding the whole log and the store's relay position at its end (the stack's relay then has nothing to do)."""
    last = await store.last_sequence()
    prefix_end = last - tail
    results: dict[str, dict[str, float]] = {}
    server = LazilySyncedNats(data_dir=nats_dir)
    with server:
        results["relay_lazy_sync"] = (await _relay(_LogUpTo(store, prefix_end), server.url, "bench-fill")).summary()
        if lazy_baseline:
            prefix = await store.read_log(after=0, limit=prefix_end)
            results["raw_lazy_sync"] = (await _raw_publish(server.url, "RAWLAZY", prefix)).summary()
    with NatsServer(data_dir=nats_dir) as server:
        results["relay"] = (await _relay(store, server.url, "bench-relay")).summary()
        tail_events = await store.read_log(after=prefix_end, limit=tail)
        results["raw"] = (await _raw_publish(server.url, "RAW", tail_events)).summary()
    return results
