"""Bugs the fault suite found, each shown by a test of its own.

Open ones are marked ``xfail(strict=True)`` with the place and the fix: when the fix lands the test passes, pytest
reports the strict xfail as a failure, and the marker comes off. Fixed ones stay, as regression tests.

1. Open: the group commit acknowledges appends that SQLite rolled back (a full disk): acknowledged writes are lost.
2. Fixed (6092eab): a service read its clock before its command waited for the store's write lock, so a valid command
   that queued behind another one on the same aggregate was refused with ``422`` ("at is before the ... last
   recorded event").
3. Fixed (e711d47): ``GET /metrics`` waited on NATS: while NATS was out of reach a scrape of the console took 15 s
   (three consumers' samplers, one after the other, each waiting for a 5 s JetStream request), beyond Prometheus'
   10 s default, so the lag figures vanished exactly when they were needed.
4. Open: billing-escrow's creating ``POST``s answer ``200`` when the same thing exists already (as its README says),
   but their OpenAPI documents ``201`` only, so a client generated from the document, or Schemathesis (ST103, found
   by ``make soak``), sees an undocumented answer.
5. Open, no test here (it takes thousands of filings or a patched random source): a new complaint's id has 24
   random bits per day (``complaints.application.intake.new_complaint_id``), so two filings collide now and then and
   the second is refused with ``409 version-conflict``; the fault tests tolerate that refusal (``KNOWN_REFUSALS``).
"""

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event

from jinlin.cli.dev_staff import dev_token
from jinlin.events import DomainEvent, EventRegistry
from jinlin.store import CommandContext, EventStore, Stream, create_engines
from tests.faults.checker import History, eventually
from tests.faults.harness import FaultStack
from tests.faults.proxy import ChaosProxy
from tests.faults.workload import ACCOUNT, HOUSEHOLDS, Workload

registry = EventRegistry("faults")


@registry.register
class ThingFiled(DomainEvent):
    text: str


async def test_group_commit_never_acknowledges_what_a_full_disk_rolled_back(tmp_path) -> None:
    engines = create_engines(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
    store = EventStore(engines, registry)
    await store.create_schema()

    @event.listens_for(engines.writer.sync_engine, "connect")
    def disk_nearly_full(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA max_page_count=40")  # a few dozen small events' worth
        cursor.close()

    await engines.writer.dispose()  # the writer connects again, with the limit
    acknowledged: list[str] = []

    async def append(n: int) -> None:
        thing = f"t{n}"
        text = "x" * (3000 if n % 2 else 10)  # big ones stop fitting before small ones do
        context = CommandContext(actor="staff:test", causationid=thing)
        try:
            await store.append(Stream("thing", thing), 0, [ThingFiled(text=text)], context)
        except Exception:  # the full disk: a failure the caller is told about is fine
            return
        acknowledged.append(thing)

    try:
        for burst in range(30):
            await asyncio.gather(*(append(burst * 8 + n) for n in range(8)))
        stored = {stored.envelope.subject for stored in await store.read_log(limit=100_000)}
    finally:
        stranded = store._committer._open  # the bug leaves a group open, holding the writer connection
        if stranded is not None:
            await stranded.connection.close()
        await store.close()
    assert len(acknowledged) > 20, "the disk filled before the test got going"
    lost = [thing for thing in acknowledged if thing not in stored]
    assert lost == [], f"acknowledged as durable, then missing from the store: {lost}"


@pytest.fixture(scope="module")
def stack_behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultStack, ChaosProxy]]:
    stack = FaultStack(tmp_path_factory.mktemp("known-bugs") / "stack")
    proxy = ChaosProxy(stack.nats_port)
    proxy.start()
    stack.env.update({f"{spec.env_prefix}NATS_URL": proxy.url for spec in stack.specs})
    try:
        stack.start()
        yield stack, proxy
    finally:
        stack.stop()
        proxy.stop()


def _as(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(role)}", "Idempotency-Key": uuid.uuid4().hex}


async def test_concurrent_valid_commands_on_one_aggregate_are_all_taken(stack_behind_proxy) -> None:
    """Bursts of notes on one complaint and of payments into one account: every one is taken."""
    stack, _proxy = stack_behind_proxy
    refused: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        workload = Workload(History(), client, stack.url("complaints"), stack.url("billing-escrow"))
        await workload.prepare()
        filed = await client.post(
            f"{stack.url('complaints')}/complaints",
            json={
                "category_code": "electricity",
                "channel": "phone",
                "compound_id": "jinyuan-huating",
                "description": "停电",
                "answers": {"issue": "power_cut"},
            },
            headers=_as("intake"),
        )
        assert filed.status_code == 201, filed.text
        complaint = filed.json()["complaint_id"]

        async def note(n: int) -> None:
            answer = await client.post(
                f"{stack.url('complaints')}/complaints/{complaint}/notes",
                json={"text": f"note {n}"},
                headers=_as("intake"),
            )
            if answer.status_code != 200:
                refused.append(f"note {n}: {answer.status_code} {answer.text[:160]}")

        async def pay(n: int) -> None:
            body = {
                "movement_id": f"burst-{n}",
                "household_id": HOUSEHOLDS[n % len(HOUSEHOLDS)],
                "amount_fen": 100,
                "channel": "wechat_pay",
                "reference": f"WX-burst-{n}",
            }
            answer = await client.post(
                f"{stack.url('billing-escrow')}/accounts/{ACCOUNT}/payments", json=body, headers=_as("finance")
            )
            if answer.status_code != 201:
                refused.append(f"payment {n}: {answer.status_code} {answer.text[:160]}")

        for burst in range(5):
            await asyncio.gather(*(note(burst * 16 + n) for n in range(16)), *(pay(burst * 16 + n) for n in range(16)))
    kinds = Counter(refusal.split()[0] for refusal in refused)
    assert refused == [], f"valid commands refused ({dict(kinds)} of 80 notes and 80 payments): {refused[:4]}"


async def test_metrics_answer_promptly_while_nats_is_out_of_reach(stack_behind_proxy) -> None:
    """A scrape of the console (three consumers whose samplers ask JetStream) answers quickly in a black hole."""
    stack, proxy = stack_behind_proxy
    await asyncio.to_thread(proxy.black_hole)
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            began = time.monotonic()
            answer = await client.get(f"{stack.url('staff-console')}/metrics")
            took = time.monotonic() - began
    finally:
        await asyncio.to_thread(proxy.heal)
    assert answer.status_code == 200
    assert took < 5, f"GET /metrics took {took:.1f} s while NATS was out of reach"


async def test_the_stack_behind_the_proxy_heals(stack_behind_proxy) -> None:
    """Not a bug: the module's stack is usable again after the black hole (so the tests above stand alone)."""
    stack, _proxy = stack_behind_proxy

    async def ready() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            answers = [await client.get(f"{url}/readyz") for url in stack.urls().values()]
        return all(answer.status_code == 200 for answer in answers)

    await eventually(ready, timeout=60, what="every service ready again after the black hole")


REPEATABLE_CREATES = (
    "/accounts",
    "/households",
    "/handovers",
    "/accounts/{account_id}/payments",
    "/accounts/{account_id}/reallocations",
    "/accounts/{account_id}/reversals",
    "/accounts/{account_id}/disbursements",
    "/accounts/{account_id}/statements",
)
"""Routes whose handler answers ``201 if created else 200``."""


async def test_escrow_documents_the_200_of_a_repeated_create(stack_behind_proxy) -> None:
    stack, _proxy = stack_behind_proxy
    escrow = stack.url("billing-escrow")
    async with httpx.AsyncClient(timeout=30) as client:
        household = {"household_id": "h-repeat", "compound_id": "c-repeat", "label": "1-101", "floor_area_dm2": 9000}
        first = await client.post(f"{escrow}/households", json=household, headers=_as("finance"))
        again = await client.post(f"{escrow}/households", json=household, headers=_as("finance"))
        document = (await client.get(f"{escrow}/openapi.json")).json()
    assert (first.status_code, again.status_code) == (201, 200), again.text
    undocumented = [path for path in REPEATABLE_CREATES if "200" not in document["paths"][path]["post"]["responses"]]
    assert undocumented == [], f"answer 200 on a repeat, document only 201: {undocumented}"
