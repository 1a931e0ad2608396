"""Disk full, twice: the complaints store's SQLite file cannot grow, and the COMPLAINTS stream cannot grow.

1. A tiny SQLite page limit (``PRAGMA max_page_count`` on every connection of the complaints service, set by a
   wrapper of its app factory: see ``sqlite_page_limit.py``). Proves: once the file is full, commands are answered
   with a clear ``5xx`` problem (or a ``503``), never acknowledged and lost; nothing of a failed command is written
   (its complaint is not there, the chain verifies, the store holds exactly one event per acknowledged complaint);
   the other services go on; after "freeing space" (the service restarted without the limit) commands are taken
   again and everything drains.
2. A tiny ``max_bytes`` on the COMPLAINTS stream (set as the provisioner, as an operator would). Proves: commands
   are still acknowledged into the store (the outbox), the relay cannot publish and its lag grows and is reported,
   nothing is lost; the relay does not put the operator's limit back (``ensure_stream`` keeps a positive
   ``max_bytes``), so raising the limit is what lets it drain; then JetStream holds the whole chain again.
"""

import asyncio
import sqlite3
from contextlib import closing

from nats.js.api import StreamConfig

from jinlin.messaging import connect_nats
from tests.faults.checker import Outcome, eventually, plumbing
from tests.faults.harness import (
    HERE,
    check_after_healing,
    scaled,
    unexplained_answers,
)
from tests.faults.sqlite_page_limit import FACTORY_ENV, LIMIT_ENV
from tests.faults.workload import Load

CLIENTS = int(scaled(3, 6))
FULL_DISK_CLIENTS = int(scaled(5, 8))
FAILURES = int(scaled(15, 100))
"""Commands the full store must have failed before space is freed."""
RESENT = 5
"""Of those, how many are sent again (same key) once space is freed."""
SPARE_PAGES = 40
"""Pages the complaints store may still grow by: a few dozen complaints."""
SPARE_STREAM_BYTES = 16_000
"""Bytes the COMPLAINTS stream may still grow by: a dozen or so events."""


def _page_count(path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA page_count").fetchone()[0])


def _failures(workload, since: int) -> list:
    return [
        op
        for op in list(workload.history.operations.values())[since:]
        if op.kind == "complaint" and op.outcome in (Outcome.FAILED, Outcome.REFUSED)
    ]


async def test_sqlite_page_limit_fails_commands_cleanly_and_drains_after(stacks, workload_on, client, figures) -> None:
    stack = stacks()
    # Complaints filed only (no escalations), so that the store must hold exactly one event per acknowledged one;
    # no think time, so that concurrent commands share group commits when the disk fills.
    workload = await workload_on(stack, escalations=False)
    await workload.run_count(10, clients=2)
    await asyncio.to_thread(stack.stop_service, "complaints")
    pages = _page_count(stack.database("complaints"))
    limited = {
        "PYTHONPATH": str(HERE),
        LIMIT_ENV: str(pages + SPARE_PAGES),
        FACTORY_ENV: stack.spec("complaints").app_factory,
    }
    await asyncio.to_thread(stack.start_service, "complaints", env=limited, app_factory="sqlite_page_limit:create_app")
    await asyncio.to_thread(stack.wait_service_ready, "complaints")

    async with Load(workload, clients=FULL_DISK_CLIENTS) as load:
        full_from = len(workload.history)

        async def full() -> bool:
            return len(_failures(workload, full_from)) >= FAILURES

        await eventually(full, timeout=60, what="the complaints store filling its page limit")
        while_full = workload.history.counts("complaint", since=full_from)
        await load.acknowledged_beyond(10, timeout=30, what="by the other services while complaints is full")
        # Freeing space: the service restarted without the limit.
        await asyncio.to_thread(stack.stop_service, "complaints")
        await asyncio.to_thread(stack.start_service, "complaints")
        await asyncio.to_thread(stack.wait_service_ready, "complaints")
        await load.acknowledged_beyond(10, timeout=30, what="after space was freed", kind="complaint")
    # Some clients try their failed commands again, under the same keys: a failed command left no idempotency
    # record behind, so each now runs, once (not a replay).
    tried_again = _failures(workload, full_from)[:RESENT]
    for operation in tried_again:
        await workload.resend(operation)
    report = await check_after_healing(stack, workload, client)
    figures(f"SQLite limited to {pages}+{SPARE_PAGES} pages, complaints until {FAILURES} failed", while_full)
    for kind in workload.history.kinds():
        figures(f"SQLite full, whole run, {kind}", workload.history.counts(kind))
    report.assert_valid()

    failures = _failures(workload, full_from)
    answers = {op.attempts[-1].status for op in failures} | {op.attempts[-2].status for op in tried_again}
    assert answers <= {500, 503, 507}, f"a full disk must be a 5xx problem (or a 503): {while_full}"
    assert len(tried_again) == RESENT
    for operation in tried_again:
        assert operation.outcome is Outcome.ACKNOWLEDGED, operation.attempts
        assert not operation.attempts[-1].replayed, f"a failed command's answer was stored: {operation.attempts}"
    # "none": the connections the restart that freed the space broke; those commands were retried to an answer.
    assert unexplained_answers(workload.history, allowed=("500 ", "503 ", "507 ", "none ")) == {}
    counts = workload.history.counts("complaint")
    assert counts.unknown == 0, f"a full disk must be answered, not left unknown: {counts}"
    # No partial writes: the complaints store holds one event per acknowledged complaint, and nothing more.
    assert report.audit is not None
    assert report.audit.services["complaints"].store_events == counts.acknowledged


async def _provisioner(stack):
    return await connect_nats(
        f"nats://127.0.0.1:{stack.nats_port}",
        name="fault-suite-operator",
        creds=stack.var_dir / "nats-auth" / "provisioner.nk",
        first_connect_timeout=10,
    )


async def test_stream_max_bytes_keeps_commands_in_the_outbox_until_raised(stacks, workload_on, client, figures) -> None:
    stack = stacks()
    workload = await workload_on(stack, pause=0.1)
    await workload.run_count(10, clients=2)
    await check_after_healing(stack, workload, client)  # everything published so far: the limit is what stops it
    operator = await _provisioner(stack)
    try:
        js = operator.jetstream()
        info = await js.stream_info("COMPLAINTS")
        limit = info.state.bytes + SPARE_STREAM_BYTES
        config: StreamConfig = info.config
        config.max_bytes = limit
        await js.update_stream(config)

        async with Load(workload, clients=CLIENTS) as load:
            lag = 0.0

            async def lag_grows() -> bool:
                nonlocal lag
                lag = (await plumbing(client, stack.url("complaints"))).relay_lag
                return lag >= 30

            await eventually(lag_grows, timeout=60, what="the complaints relay reporting a growing lag")
            await load.acknowledged_beyond(20, timeout=30, what="while the stream is full")
            # A restart runs the relay's ensure_stream again: it must leave the operator's limit alone.
            await asyncio.to_thread(stack.stop_service, "complaints")
            await asyncio.to_thread(stack.start_service, "complaints")
            await asyncio.to_thread(stack.wait_service_ready, "complaints")
            await load.acknowledged_beyond(
                10, timeout=30, what="after a restart, the stream still full", kind="complaint"
            )
            full = await js.stream_info("COMPLAINTS")
            stuck_at = full.state.messages
            kept_limit = full.config.max_bytes
            # The operator raises the limit again (unlimited): only then may the relay drain.
            full.config.max_bytes = -1
            await js.update_stream(full.config)
            await load.acknowledged_beyond(10, timeout=30, what="after the limit was raised")
    finally:
        await operator.close()
    report = await check_after_healing(stack, workload, client)
    figures(f"stream max_bytes {limit}, highest relay lag seen", lag)
    figures("stream max_bytes, messages the stream stopped at", stuck_at)
    for kind in workload.history.kinds():
        figures(f"stream max_bytes, whole run, {kind}", workload.history.counts(kind))
    report.assert_valid()
    assert kept_limit == limit, f"the relay put the stream's max_bytes back from {limit} to {kept_limit}"
    assert full.state.bytes <= limit
    counts = workload.history.counts()
    assert counts.failed == counts.unknown == 0, f"a full stream must not fail a command: {counts}"
    # "none": the connections the deliberate restart broke; those commands were retried to an answer.
    assert unexplained_answers(workload.history, allowed=("503 ", "none ")) == {}
