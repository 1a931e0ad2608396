"""The network between every service and NATS misbehaves (a chaos proxy in between), while clients file complaints and
book escrow payments.

- A black hole: every connection is accepted and nothing is forwarded either way for ~10 s; then the connections
  across it are reset, as a partition that long kills them, and traffic flows again.
- A connection-reset storm: for a few seconds every connection is reset, at once or after a random moment of life.

What it proves: commands go on being stored (the store is the outbox) and acknowledged, or are refused with a
``503``, never acknowledged and lost; the relay lag grows and ``/metrics`` says so; once the network heals, every
relay and consumer drains, JetStream holds every store's chain (``jinlin audit verify``), the console holds every
event and every payment once, and the checker finds nothing lost, duplicated, unexpected, resurrected or altered.
"""

import asyncio
import time

from tests.faults.checker import eventually, plumbing
from tests.faults.harness import check_after_healing, scaled, unexplained_answers
from tests.faults.proxy import ChaosProxy
from tests.faults.workload import Load

CLIENTS = int(scaled(2, 6))
BLACK_HOLE = scaled(10.0, 45.0)
"""Seconds of black hole: 45 s is past the clients' stale-connection detection (two missed 5 s pings)."""
STORM = scaled(4.0, 30.0)


async def _behind_a_proxy(stacks, proxies):
    stack = stacks(start=False)
    proxy = ChaosProxy(stack.nats_port)
    proxies.append(proxy)
    proxy.start()
    stack.env.update({f"{spec.env_prefix}NATS_URL": proxy.url for spec in stack.specs})
    await asyncio.to_thread(stack.start)
    return stack, proxy


async def _relay_lag_grows(client, stack) -> float:
    """Wait until a relay reports a lag (it cannot publish), and return it."""
    seen = 0.0

    async def lagging() -> bool:
        nonlocal seen
        seen = max([(await plumbing(client, url)).relay_lag for url in stack.urls().values()])
        return seen > 0

    await eventually(lagging, timeout=30, what="a relay reporting lag while NATS is out of reach")
    return seen


async def test_black_hole_then_reset_storm_between_services_and_nats(
    stacks, proxies, workload_on, client, figures
) -> None:
    stack, proxy = await _behind_a_proxy(stacks, proxies)
    workload = await workload_on(stack, pause=0.1)
    async with Load(workload, clients=CLIENTS) as load:
        await load.acknowledged_beyond(20, timeout=30, what="before the black hole")

        before = len(workload.history)
        await asyncio.to_thread(proxy.black_hole)
        began = time.monotonic()
        hole_lag = await _relay_lag_grows(client, stack)
        await load.acknowledged_beyond(20, timeout=30, what="inside the black hole")
        await asyncio.sleep(max(0.0, BLACK_HOLE - (time.monotonic() - began)))  # the fault's length
        in_hole = workload.history.counts(since=before)
        await asyncio.to_thread(proxy.heal)
        await load.acknowledged_beyond(20, timeout=30, what="after the black hole")
        swallowed = proxy.stats.swallowed_bytes

        before, resets_before = len(workload.history), proxy.stats.resets
        await asyncio.to_thread(proxy.reset_storm, 0.3)
        began = time.monotonic()
        storm_lag = await _relay_lag_grows(client, stack)
        await load.acknowledged_beyond(20, timeout=30, what="during the storm")
        await asyncio.sleep(max(0.0, STORM - (time.monotonic() - began)))  # the fault's length
        in_storm = workload.history.counts(since=before)
        resets = proxy.stats.resets - resets_before
        await asyncio.to_thread(proxy.heal)
        await load.acknowledged_beyond(20, timeout=30, what="after the storm")
    report = await check_after_healing(stack, workload, client)
    figures(f"black hole {BLACK_HOLE:g} s, while it lasted", in_hole)
    figures("black hole, relay lag reported, bytes swallowed", (hole_lag, swallowed))
    figures(f"reset storm {STORM:g} s, while it lasted", in_storm)
    figures("reset storm, relay lag reported, connections reset", (storm_lag, resets))
    for kind in workload.history.kinds():
        figures(f"black hole + reset storm, whole run, {kind}", workload.history.counts(kind))
    report.assert_valid()
    counts = workload.history.counts()
    assert counts.failed == counts.unknown == 0, f"a network fault to NATS must not fail a command: {counts}"
    assert unexplained_answers(workload.history) == {}
    assert swallowed > 0, "the black hole swallowed nothing: the services were not behind it"
    assert resets > len(stack.specs), "the storm reset hardly any connection"
