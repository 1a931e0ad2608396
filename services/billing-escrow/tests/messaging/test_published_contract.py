"""What the service publishes, through its relay, to a real nats-server: every event on the ESCROW stream, in log
order, as a CloudEvent; ``ArrearsPaid`` where mediation listens for it, and each statement where the notary's user
may read it."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from billing_escrow.application.context import EscrowContext
from jinlin.messaging import connect_nats
from jinlin.runtime.nats_server import NatsServer

from ..conftest import ARREARS_CONDITION, COMPOUND, POWER_COMPANY, Desk, FakeClock, Running, as_role, ok

STREAM = "ESCROW"
DOCS = next(parent for parent in Path(__file__).parents if (parent / "docs" / "events").is_dir()) / "docs" / "events"


async def _eventually(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


async def _messages(js: JetStreamContext) -> list[RawStreamMsg]:
    info = await js.stream_info(STREAM)
    return [await js.get_msg(STREAM, seq=seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]


async def _all_published(js: JetStreamContext, context: EscrowContext) -> None:
    async def published() -> bool:
        try:
            info = await js.stream_info(STREAM)
        except Exception:
            return False
        return bool(info.state.last_seq == await context.store.last_sequence())

    await _eventually(published, "the relay publishing every committed event")


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await connect_nats(nats_server.url, name="escrow-test", first_connect_timeout=10)
    yield client
    await client.close()


async def _arrears_paid_and_stated(client: Any, clock: FakeClock) -> dict[str, Any]:
    desk = Desk(client, clock)
    await desk.active_account("acc-elec")
    await desk.household("h-301")
    ok(await client.post("/handovers", json={"compound_id": COMPOUND}, headers=as_role("finance")), 201)
    steps = [
        ("owners-vote", {"held_on": "2026-10-25", "eligible": 1, "in_favour": 1, "against": 0, "abstained": 0,
                         "passed": True, "resolution_reference": "决议1"}),
        ("escrow", {"account_id": "acc-elec"}),
        ("arrears", {"amount_fen": 8_000, "creditor": POWER_COMPANY, "master_meter_number": "M0",
                     "confirmation_reference": "确认17", "as_of": "2026-10-31"}),
        ("allocation", {"rule": "by_floor_area"}),
    ]  # fmt: skip
    for path, body in steps:
        ok(await client.post(f"/handovers/{COMPOUND}/{path}", json=body, headers=as_role("finance")))
    await desk.pay("acc-elec", "h-301", 10_000)
    ok(await desk.request_disbursement("acc-elec", "d-arrears", 8_000, condition=ARREARS_CONDITION), 201)
    await desk.signed_and_executed("acc-elec", "d-arrears")
    statement = {"kind": "on_demand", "period_start": clock.today.isoformat(), "period_end": clock.today.isoformat()}
    return dict(ok(await client.post("/accounts/acc-elec/statements", json=statement, headers=as_role("notary")), 201))


async def test_arrears_paid_and_statements_are_published_where_their_readers_listen(
    database_url: str,
    nats_server: NatsServer,
    nc: Client,
    run_service: Callable[..., AbstractAsyncContextManager[Running]],
    clock: FakeClock,
) -> None:
    async with run_service(database_url, nats_url=nats_server.url, relay_enabled=True) as (client, context):
        statement = await _arrears_paid_and_stated(client, clock)
        js = nc.jetstream()
        await _all_published(js, context)
        messages = await _messages(js)

    events = [json.loads(m.data) for m in messages]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))  # the log's order
    envelope = Draft202012Validator(json.loads((DOCS / "cloudevent.schema.json").read_text()))
    for message, event in zip(messages, events, strict=True):
        assert (message.headers or {})["Content-Type"] == "application/cloudevents+json"
        assert (message.headers or {})["Nats-Msg-Id"] == event["id"]
        assert event["source"] == "/jinlin/escrow" and event["type"].startswith("jinlin.escrow.")
        assert list(envelope.iter_errors(event)) == [], event["type"]

    # The contract for mediation: ArrearsPaid on the handover's subject, matched by compound_id.
    [paid_message] = [m for m in messages if m.subject.endswith(".arrears_paid")]
    paid = json.loads(paid_message.data)
    assert paid_message.subject == f"jinlin.escrow.handover.{COMPOUND}.arrears_paid"
    assert (paid["type"], paid["subject"]) == ("jinlin.escrow.ArrearsPaid.v1", COMPOUND)
    assert paid["data"]["compound_id"] == COMPOUND and paid["data"]["fully_paid"] is True
    assert paid["data"]["amount_fen"] == 8_000 and paid["data"]["disbursement_id"] == "d-arrears"
    [executed] = [e for e in events if e["type"] == "jinlin.escrow.DisbursementExecuted.v1"]
    assert paid["causationid"] == executed["id"] and paid["sequence"] == executed["sequence"] + 1

    # The notary's subject: the signed statement, whole.
    [issued_message] = [m for m in messages if m.subject.startswith("jinlin.escrow.statement.")]
    issued = json.loads(issued_message.data)
    assert issued_message.subject == "jinlin.escrow.statement.acc-elec.issued"
    assert issued["type"] == "jinlin.escrow.StatementIssued.v1"
    assert issued["data"]["statement_id"] == statement["statement_id"]
    assert issued["data"]["statement_hash"] == statement["statement_hash"]
    assert issued["data"]["signature"]["alg"] == "Ed25519"
    assert issued["data"]["statement"]["closing_balance_fen"] == 2_000
