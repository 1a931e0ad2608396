"""Past one machine, on one machine: a 3-node NATS cluster, PostgreSQL, two replicas of every service.

Clients file complaints, add notes to them and book escrow payments through both replicas of each service (every
attempt goes to the next replica, a retry keeps its ``Idempotency-Key``). Mid-way one NATS node (the one leading
the COMPLAINTS stream) and one replica of every service (for the services that publish, the one relaying) are
SIGKILLed; commands keep being taken, another replica takes the relay over, the streams (3 replicas) keep
accepting with two nodes of three. Then the node and the replicas come back.

After the load stops and the plumbing drains, the checker (``tests.faults.checker``) compares what the clients were
told with what the HTTP APIs return: nothing acknowledged is lost, nothing is applied twice, nothing unexpected;
the escrow balance is the sum of its payments; the console (a shared durable consumer of every stream, itself
two replicas) holds every event once. ``jinlin audit verify`` (as the provisioner) finds every store's hash chain
in JetStream message for message, and every node of the cluster, the restarted one included, holds every stream
up to the store's last event.

``JINLIN_SOAK=1``: more clients, several rounds of kills (each round another node), longer degraded phases.
"""

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from tests.cluster.conftest import Deployment, jinlin
from tests.cluster.fleet import EVERYTHING_TOKEN, Replica, relay_leaders, wait_ready
from tests.cluster.workload import ClusterWorkload
from tests.faults.checker import History, Report, check, eventually, wait_drained
from tests.faults.workload import ACCOUNT, Load

SOAK = os.environ.get("JINLIN_SOAK", "") not in ("", "0")
ROUNDS = 4 if SOAK else 1
CLIENTS = 4 if SOAK else 2
"""Concurrent clients per kind of command (complaint, note, payment)."""
PER_PHASE = 150 if SOAK else 30
"""Commands acknowledged in each phase: before the faults, while degraded, after healing."""
TAKEOVER_WITHIN = 15.0
AUDIT_LINE = re.compile(
    r"^(?P<service>\S+): (?P<verdict>OK|FAILED): (?P<store>\d+) events in store, (?P<stream>\d+) in"
)

pytestmark = pytest.mark.timeout(1800 if SOAK else 300)


async def until(condition: Callable[[], Awaitable[bool]], *, timeout: float, what: str) -> float:
    """Wait for ``condition`` (checker's ``eventually``); return how long it took."""
    began = time.monotonic()
    await eventually(condition, timeout=timeout, what=what, interval=0.1)
    return time.monotonic() - began


async def last_sequences(deployment: Deployment, index: int) -> dict[str, int]:
    states = await asyncio.to_thread(deployment.cluster.stream_states, index)
    return {name: state["last_seq"] for name, state in states.items()}


async def test_cluster_loses_a_nats_node_and_a_replica_of_each_service_and_loses_nothing(
    deployment: Deployment, client: httpx.AsyncClient, figures
) -> None:
    cluster, fleet = deployment.cluster, deployment.fleet
    assert all(state["replicas"] == 3 for state in (await asyncio.to_thread(cluster.stream_states, 0)).values())
    relaying = [spec.name for spec in deployment.relaying()]
    await assert_one_relay_each(deployment, client, relaying)

    workload = ClusterWorkload(
        History(),
        client,
        None,
        None,
        complaints_replicas=[replica.url for replica in fleet.of("complaints")],
        escrow_replicas=[replica.url for replica in fleet.of("billing-escrow")],
    )
    await workload.prepare()
    started = time.monotonic()
    restarted_nodes: list[int] = []
    async with Load(workload, clients=CLIENTS) as load:
        await load.acknowledged_beyond(PER_PHASE, timeout=90, what="before any fault")
        for round_ in range(1, ROUNDS + 1):
            node = await asyncio.to_thread(cluster.stream_leader, "COMPLAINTS")
            node = node if node is not None and node not in restarted_nodes[-1:] else round_ % cluster.size
            victims: list[Replica] = []
            for name, replicas in fleet.replicas.items():
                holder = await deployment.relay_holder(name) if name in relaying else None
                victims.append(holder or replicas[round_ % len(replicas)])
            survivors = [i for i in range(cluster.size) if i != node]
            before = await last_sequences(deployment, survivors[0])

            await asyncio.to_thread(cluster.nodes[node].kill)
            for victim in victims:
                await asyncio.to_thread(victim.kill)
            killed = time.monotonic()

            async def relays_taken_over(victims: list[Replica] = victims) -> bool:
                holders = [await deployment.relay_holder(victim.spec.name) for victim in victims]
                return all(
                    holder is not None and holder is not victim
                    for victim, holder in zip(victims, holders, strict=True)
                    if victim.spec.name in relaying
                )

            takeover = await until(relays_taken_over, timeout=TAKEOVER_WITHIN, what="another replica holds the relay")
            figures(f"round {round_}: relay lock taken over after SIGKILL", f"{takeover:.1f} s")
            await load.acknowledged_beyond(
                PER_PHASE, timeout=90, what=f"with node {node} and {len(victims)} replicas dead"
            )

            async def streams_grew(before: dict[str, int] = before, survivor: int = survivors[0]) -> bool:
                now = await last_sequences(deployment, survivor)
                return all(now[stream] > before[stream] for stream in ("COMPLAINTS", "ESCROW"))

            await eventually(streams_grew, timeout=60, what="the 2 surviving nodes keep accepting both streams")
            degraded = time.monotonic() - killed

            await asyncio.to_thread(cluster.nodes[node].start)
            restarted = time.monotonic()
            restarted_nodes.append(node)
            for victim in victims:
                victim.start()
            target = await last_sequences(deployment, survivors[0])

            async def caught_up(node: int = node, target: dict[str, int] = target) -> bool:
                now = await last_sequences(deployment, node)
                return all(now.get(stream, -1) >= last for stream, last in target.items())

            catch_up = await until(caught_up, timeout=60, what=f"restarted node {node} catches up")
            await asyncio.gather(*(wait_ready(client, victim, 90) for victim in victims))
            figures(
                f"round {round_}: killed node {node} and {', '.join(v.name for v in victims)}",
                f"degraded {degraded:.1f} s; node caught up {catch_up:.1f} s after restart; "
                f"replicas ready {time.monotonic() - restarted:.1f} s after restart",
            )
            await load.acknowledged_beyond(PER_PHASE, timeout=90, what=f"after round {round_}")
    names = {replica.url.removeprefix("http://"): replica.name for replica in fleet.all()}
    answers = {names.get(address, address): count for address, count in sorted(workload.answered_by.items())}
    figures("load", f"{time.monotonic() - started:.0f} s; answers per replica {answers}")

    # -- after healing --------------------------------------------------------------------------------------
    await wait_drained(client, fleet.urls(), timeout=120)
    await assert_one_relay_each(deployment, client, relaying)

    streams = {spec.name: spec.stream_name for spec in deployment.relaying()}
    audits = await asyncio.gather(
        *(
            asyncio.to_thread(
                jinlin,
                *("audit", "verify", name, "--database-url", deployment.databases[name]),
                *("--nats-url", cluster.urls[restarted_nodes[-1]], "--nats-creds", str(deployment.provisioner_key)),
            )
            for name in relaying
        )
    )
    stored: dict[str, int] = {}
    anomalies: list[str] = []
    for name, done in zip(relaying, audits, strict=True):
        line = next((m for m in map(AUDIT_LINE.match, done.stdout.splitlines()) if m), None)
        if done.returncode != 0 or line is None or line["verdict"] != "OK" or line["store"] != line["stream"]:
            anomalies.append(f"audit verify {name}: exit {done.returncode}: {done.stdout}{done.stderr}")
            continue
        stored[name] = int(line["store"])
    figures("events in the stores", stored)

    async def every_node_holds_every_event() -> bool:
        for index in range(cluster.size):
            last = await last_sequences(deployment, index)
            if any(last.get(streams[name]) != count for name, count in stored.items()):
                return False
        return True

    try:
        await eventually(every_node_holds_every_event, timeout=60, what="every node holds every stream to its end")
    except AssertionError as failure:
        anomalies.append(f"{failure}\n{cluster.describe()}")

    read = await workload.read_back(EVERYTHING_TOKEN)
    verdicts = [check(workload.history, kind, read[kind]) for kind in sorted(read)]
    paid = sum(sum(values) for values in read["payment"].values())
    answer = await client.get(
        f"{fleet.of('billing-escrow')[1].url}/accounts/{ACCOUNT}",
        headers={"Authorization": f"Bearer {EVERYTHING_TOKEN}"},
    )
    answer.raise_for_status()
    if answer.json()["held_fen"] != paid:
        anomalies.append(f"escrow holds {answer.json()['held_fen']} fen; its journal's payments sum to {paid}")
    if "staff-console" in deployment.databases:
        anomalies += await console_caught_up(deployment, stored, paid)

    report = Report(verdicts, None, anomalies)
    for kind in workload.history.kinds():
        figures(kind, workload.history.counts(kind))
    report.assert_valid()
    counts = workload.history.counts()
    # Every command was answered: acknowledged, or refused with a problem (a 4xx that, as the checker confirmed
    # above, changed nothing). A dead replica or NATS node must never leave a client without an answer or fail one.
    assert counts.failed == counts.unknown == 0, f"commands failed or went unanswered: {counts}"


async def assert_one_relay_each(deployment: Deployment, client: httpx.AsyncClient, services: list[str]) -> None:
    """Each service has one relay: the replica holding the lock, and the only one whose ``/metrics`` says so."""
    for name in services:
        holder = await deployment.relay_holder(name)
        assert holder is not None, f"{name}: no replica holds the relay lock"

        async def agree(name: str = name, holder: Replica = holder) -> bool:
            # /metrics may lag (a scrape asks JetStream about consumers while a stream elects its leader).
            return await relay_leaders(client, deployment.fleet.of(name)) == [holder]

        await eventually(agree, timeout=30, what=f"{name}: only {holder.name} says jinlin_relay_leader 1")


async def console_caught_up(deployment: Deployment, stored: dict[str, int], paid: int) -> list[str]:
    """The console (two replicas sharing durable consumers) holds every event of every store once, and every
    payment once."""
    tokens = {spec.name: spec.token for spec in deployment.relaying()}
    wanted = {tokens[name]: count for name, count in stored.items() if count}
    seen: dict[str, int] = {}
    console_paid: int | None = None
    db = await asyncpg.connect(deployment.databases["staff-console"])

    async def caught_up() -> bool:
        nonlocal seen, console_paid
        rows = await db.fetch("SELECT service, count(*) AS n FROM console_events GROUP BY service")
        seen = {row["service"]: row["n"] for row in rows}
        console_paid = await db.fetchval(
            "SELECT paid_in_fen FROM console_escrow_accounts WHERE account_id = $1", ACCOUNT
        )
        return seen == wanted and console_paid == paid

    try:
        await eventually(caught_up, timeout=60, what="the console caught up with every store")
    except AssertionError:
        return [f"the console holds {seen} events (the stores {wanted}); paid in {console_paid} fen, not {paid}"]
    finally:
        with contextlib.suppress(Exception):
            await db.close()
    return []
