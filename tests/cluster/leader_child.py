"""A service replica reduced to its runtime, for the leadership tests: a store, its relay leadership and a steady
trickle of commits. Run as ``leader_child.py DATABASE_URL NATS_URL``; the test SIGKILLs it while it leads."""

import asyncio
import itertools
import sys

from jinlin.events import DomainEvent, EventRegistry
from jinlin.metrics import ServiceMetrics
from jinlin.runtime.service_runtime import ServiceRuntime
from jinlin.service import ServiceSpec
from jinlin.settings import ServiceSettings
from jinlin.store import ANY_VERSION, CommandContext, EventStore, Stream, create_engines
from jinlin.web.health import Readiness

registry = EventRegistry("leadertest")


@registry.register
class BeatRecorded(DomainEvent):
    n: int


SPEC = ServiceSpec(name="leadertest", token="leadertest", default_port=0, app_factory="unused:create_app")
STREAM = SPEC.stream_name


def make_runtime(database_url: str, nats_url: str) -> ServiceRuntime:
    """A replica's runtime on the shared store: relay leadership, no consumers, no jobs."""
    store = EventStore(create_engines(database_url), registry)
    settings = ServiceSettings(database_url=database_url, nats_url=nats_url, consumers_enabled=False)
    return ServiceRuntime(SPEC, settings, store, metrics=ServiceMetrics(), readiness=Readiness())


async def record_beats(runtime: ServiceRuntime, count: int, *, writer: str, start: int = 0) -> None:
    """Commit ``count`` events, one transaction each (every commit wakes the relay, if this replica leads)."""
    for n in range(start, start + count):
        context = CommandContext(actor=f"test:{writer}", causationid=f"{writer}-{n}")
        async with runtime.store.transaction(context) as tx:
            await tx.append(Stream("beat", f"{writer}-{n % 5}"), ANY_VERSION, [BeatRecorded(n=n)])


async def main(database_url: str, nats_url: str) -> None:
    runtime = make_runtime(database_url, nats_url)
    await runtime.start()
    for n in itertools.count():
        await record_beats(runtime, 1, writer="child", start=n)
        await asyncio.sleep(0.02)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
