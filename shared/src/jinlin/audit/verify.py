"""``jinlin audit verify``: a service's store against its JetStream stream."""

from pathlib import Path

from jinlin.audit.compare import AuditReport, compare_store_with_stream
from jinlin.audit.jetstream import read_stream_messages
from jinlin.events.envelope import CloudEvent
from jinlin.store.store import EventStore

PAGE = 10_000


async def read_whole_log(store: EventStore) -> list[CloudEvent]:
    log: list[CloudEvent] = []
    after = 0
    while batch := await store.read_log(after=after, limit=PAGE):
        log.extend(event.envelope for event in batch)
        after = batch[-1].sequence
    return log


async def verify_service(
    service: str,
    store: EventStore,
    *,
    nats_url: str | None,
    stream: str,
    subjects: str,
    creds: str | Path | None = None,
) -> AuditReport:
    store_log = await read_whole_log(store)
    if nats_url is None:
        return compare_store_with_stream(service, store_log, None)
    from jinlin.messaging.connection import connect_nats

    nc = await connect_nats(nats_url, name=f"jinlin-audit-{service}", creds=creds, first_connect_timeout=10)
    try:
        messages = await read_stream_messages(nc, stream, subjects)
    finally:
        await nc.close()
    return compare_store_with_stream(service, store_log, messages)
