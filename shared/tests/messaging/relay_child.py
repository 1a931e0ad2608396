"""A relay in a process of its own, for the tests that SIGKILL it: ``relay_child.py DATABASE_URL NATS_URL STREAM``."""

import asyncio
import sys

from jinlin.events import EventRegistry
from jinlin.messaging import Relay, connect_nats
from jinlin.store import EventStore, create_engines


async def main(database_url: str, nats_url: str, stream: str) -> None:
    store = EventStore(create_engines(database_url), EventRegistry("testing"))
    nc = await connect_nats(nats_url, name="relay-child", first_connect_timeout=10)
    # Small batches and a short poll, so that a kill lands between a commit and its publish as often as possible.
    await Relay(store, nc, stream=stream, batch_size=7, poll_interval=0.01).run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
