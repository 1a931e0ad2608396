"""nats-server killed (SIGKILL) and restarted, again and again, while clients file complaints and book escrow payments.

What it proves: the services go on taking commands while NATS is gone (the store is the outbox) and answer none of
them with an error for it; the relay lag grows and ``/metrics`` says so; after the last restart every relay drains
to 0, JetStream holds every store's chain message for message (``jinlin audit verify``), the staff console (a
durable consumer of every stream) holds every event once and every payment once, and the checker finds nothing
lost, duplicated, unexpected, resurrected or altered.
"""

import asyncio
import time

from tests.faults.checker import plumbing
from tests.faults.harness import check_after_healing, scaled, unexplained_answers
from tests.faults.workload import Load

KILLS = int(scaled(3, 15))
CLIENTS = int(scaled(2, 6))
DOWN = scaled(1.5, 5.0)
"""Seconds nats-server stays dead each time."""


async def test_nats_server_killed_repeatedly_under_load_loses_nothing(stacks, workload_on, client, figures) -> None:
    stack = stacks()
    workload = await workload_on(stack, pause=0.1)
    relay_lag_seen = 0.0
    async with Load(workload, clients=CLIENTS) as load:
        await load.acknowledged_beyond(20, timeout=30, what="before any fault")
        for kill in range(1, KILLS + 1):
            await asyncio.to_thread(stack.kill_nats)
            down_since = time.monotonic()
            await load.acknowledged_beyond(5, timeout=30, what=f"with nats-server dead (kill {kill})")
            relay_lag_seen = max(relay_lag_seen, (await plumbing(client, stack.url("complaints"))).relay_lag)
            # Held dead a while: the fault's length, not a wait for something to happen.
            await asyncio.sleep(max(0.0, DOWN - (time.monotonic() - down_since)))
            await asyncio.to_thread(stack.start_nats)
            await load.acknowledged_beyond(10, timeout=30, what=f"after restart {kill}")
    report = await check_after_healing(stack, workload, client)
    for kind in workload.history.kinds():
        figures(f"nats-server SIGKILL ×{KILLS}, {kind}", workload.history.counts(kind))
    figures("nats-server SIGKILL, highest relay lag seen while down", relay_lag_seen)
    report.assert_valid()
    counts = workload.history.counts()
    assert counts.failed == counts.unknown == 0, f"a NATS outage must not fail a command: {counts}"
    assert unexplained_answers(workload.history) == {}
    assert relay_lag_seen > 0, "with nats-server dead and commands taken, /metrics never showed a relay lag"
