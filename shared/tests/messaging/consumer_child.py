"""A consumer in a process of its own, for the tests that SIGKILL it mid-batch.

``consumer_child.py DATABASE_URL NATS_URL STREAM DURABLE``: applies each event as one row in ``effects``, slowly,
inside the consumer's transaction.
"""

import asyncio
import os
import sys

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from jinlin.events import CloudEvent, EventRegistry
from jinlin.messaging import DurableConsumer, connect_nats
from jinlin.store import EventStore, Transaction, create_engines

effects_metadata = MetaData()
effects = Table(
    "effects",
    effects_metadata,
    Column("row", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("pid", Integer, nullable=False),
)


async def apply_slowly(tx: Transaction, event: CloudEvent) -> None:
    await tx.connection.execute(insert(effects).values(event_id=event.id, pid=os.getpid()))
    await asyncio.sleep(0.01)  # a slow-ish effect: the kill lands inside transactions


async def main(database_url: str, nats_url: str, stream: str, durable: str) -> None:
    store = EventStore(create_engines(database_url), EventRegistry("reader"))
    await store.create_schema(effects_metadata)
    nc = await connect_nats(nats_url, name="consumer-child", first_connect_timeout=10)
    consumer = DurableConsumer(
        nc,
        store,
        stream=stream,
        durable=durable,
        filter_subjects="jinlin.testing.>",
        handler=apply_slowly,
        # A kill leaves the batch's messages unanswered: they come back after ack_wait + backoff.
        ack_wait=1.0,
        backoff=[0.2],
        max_deliver=50,
        batch_size=10,
    )
    await consumer.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
