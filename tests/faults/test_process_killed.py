"""Each service's process killed (SIGKILL) in the middle of its work, under load, and started again.

Clients file complaints and book payments the whole time; requests in flight when a service dies get no answer, and
the clients retry them with the same ``Idempotency-Key`` until they get one. Some clients are impatient on purpose
(their first attempt gives up after a few milliseconds, while the command goes on and commits), so that retries of
commands that did happen are certain, not left to the timing of a kill.

What it proves: every acknowledged command survives the kill; a retried command has one effect (the checker finds
no duplicate, the retry gets the first answer replayed); a consumer killed mid-batch (the console, mediation) picks
up where it stopped and applies each event once; every store's chain verifies against JetStream afterwards.
"""

import asyncio

from tests.faults.checker import Outcome
from tests.faults.harness import check_after_healing, scaled, unexplained_answers
from tests.faults.workload import Load, Workload

CLIENTS = int(scaled(3, 6))
ROUNDS = int(scaled(1, 5))
"""How many times each service is killed."""


async def test_each_service_killed_mid_command_loses_and_doubles_nothing(stacks, workload_on, client, figures) -> None:
    stack = stacks()
    workload = await workload_on(stack, pause=0.1)
    impatient = Workload(
        workload.history, client, workload.complaints_url, workload.escrow_url, first_attempt_timeout=0.005
    )
    kills: dict[str, int] = {}
    async with Load(workload, clients=CLIENTS) as load, Load(impatient, clients=1):
        await load.acknowledged_beyond(20, timeout=30, what="before any kill")
        for _ in range(ROUNDS):
            for name in stack.names():
                await asyncio.to_thread(stack.kill_service, name)
                kills[name] = kills.get(name, 0) + 1
                await asyncio.to_thread(stack.start_service, name)
                await asyncio.to_thread(stack.wait_service_ready, name)
                await load.acknowledged_beyond(15, timeout=60, what=f"after {name} was killed and restarted")
    report = await check_after_healing(stack, workload, client)
    figures("SIGKILL of each service", kills)
    for kind in workload.history.kinds():
        figures(f"service SIGKILL, {kind}", workload.history.counts(kind))
    report.assert_valid()

    counts = workload.history.counts()
    assert counts.unknown == 0, f"every retried command must end with an answer: {counts}"
    assert counts.failed == 0, f"a restart must not fail a command: {counts}"
    # "none" and the in-flight 409: attempts the kills and the impatience cut short, retried to an answer.
    assert unexplained_answers(workload.history, allowed=("503 ", "none ", "(idempotency-key-in-flight)")) == {}
    for kind in ("complaint", "payment"):
        if kind in workload.history.kinds():
            of_kind = workload.history.counts(kind)
            assert of_kind.interrupted > 0, f"no {kind} was caught in flight: the test proved nothing: {of_kind}"
            assert of_kind.replayed > 0, f"no retried {kind} had happened already: the test proved nothing: {of_kind}"
    retried = [op for op in workload.history.operations.values() if op.interrupted]
    assert all(op.outcome is not Outcome.UNKNOWN for op in retried)
