"""Obligations fulfilled by another service's event (the consumer's handler, on a real store, without NATS): found
through the index of open terms, matched on type and data, each fulfilled once; bad events refused for good."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from jinlin.events import CloudEvent
from jinlin.events.chain import GENESIS_HASH
from jinlin.messaging import PermanentError
from jinlin.store import CommandContext
from mediation.application.fulfilments import DURABLE, Fulfilments
from mediation.application.read_model import obligation_view

from ..conftest import ARREARS_PAID, COMPOUND, Desk, FakeClock, Service, as_role


def arrears_paid(at: datetime, *, compound_id: str = COMPOUND, fully_paid: bool = True, **extra: Any) -> dict[str, Any]:
    """A CloudEvent as the escrow service's relay publishes ArrearsPaid."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/jinlin/escrow",
        "type": ARREARS_PAID,
        "subject": compound_id,
        "time": at.isoformat(timespec="microseconds"),
        "datacontenttype": "application/json",
        "data": {
            "compound_id": compound_id,
            "occurred_at": at.isoformat(),
            "account_id": "esc-jyht-power",
            "disbursement_id": "d-1",
            "payee": {"payee_id": "state-grid-tianchang", "name": "国网天长市供电公司"},
            "amount_fen": 12_000_000,
            "paid_on": at.date().isoformat(),
            "bank_reference": "BK-118",
            "arrears_total_fen": 12_000_000,
            "paid_to_date_fen": 12_000_000,
            "fully_paid": fully_paid,
        }
        | extra,
        "caseid": compound_id,
        "causationid": "finance-request",
        "actor": "staff:finance-1",
        "streamversion": 6,
        "sequence": 40,
        "hash": "a" * 64,
        "prevhash": GENESIS_HASH,
    }


async def consume(service: Service, event: dict[str, Any]) -> None:
    _client, context = service
    cloud_event = CloudEvent.model_validate(event)
    command = CommandContext(f"consumer:{DURABLE}", cloud_event.id, cloud_event.caseid)
    async with context.store.transaction(command) as tx:
        if await tx.claim_message(DURABLE, cloud_event.id):
            await Fulfilments(context)(tx, cloud_event)


async def obligation(service: Service, case_id: str, term_id: str) -> dict[str, Any]:
    client, _ = service
    detail = (await client.get(f"/cases/{case_id}", headers=as_role("mediator"))).json()
    found: dict[str, Any] = next(o for o in detail["obligations"] if o["term_id"] == term_id)
    return found


async def test_an_arrears_payment_fulfils_the_matching_terms_once(
    service: Service, desk: Desk, clock: FakeClock
) -> None:
    _client, context = service
    await desk.agreed("case-jyht")
    other_compound = desk.terms()
    other_compound[0]["fulfilled_by"]["match"] = {"compound_id": "another-compound", "fully_paid": True}
    await desk.agreed("case-elsewhere", terms=other_compound)
    clock.advance(days=2)

    partial = arrears_paid(clock.now - timedelta(hours=1), fully_paid=False, paid_to_date_fen=6_000_000)
    await consume(service, partial)
    assert (await obligation(service, "case-jyht", "t-arrears"))["status"] == "open"

    paid_at = clock.now - timedelta(minutes=30)
    full = arrears_paid(paid_at)
    log = await context.store.last_sequence()
    await consume(service, full)
    fulfilled = await obligation(service, "case-jyht", "t-arrears")
    assert fulfilled["status"] == "fulfilled"
    assert fulfilled["fulfilling_event"] == {"service": "escrow", "event_type": ARREARS_PAID, "event_id": full["id"]}
    assert datetime.fromisoformat(fulfilled["settled_at"]) == paid_at  # when escrow recorded it
    assert (await obligation(service, "case-jyht", "t-meters"))["status"] == "open"
    assert (await obligation(service, "case-elsewhere", "t-arrears"))["status"] == "open"
    (recorded,) = (await context.store.read_log())[log:]
    assert (recorded.envelope.caseid, recorded.envelope.causationid) == ("case-jyht", full["id"])

    # Delivered again (the consumer's record lost, or another copy): nothing more.
    again = dict(full)
    async with context.store.transaction(CommandContext("consumer:x", full["id"])) as tx:
        await Fulfilments(context)(tx, CloudEvent.model_validate(again))
    assert await context.store.last_sequence() == log + 1
    # The index no longer lists the settled term.
    async with context.store.engines.reader.connect() as conn:
        open_terms = (
            await conn.execute(
                select(obligation_view.c.case_id, obligation_view.c.term_id).where(
                    obligation_view.c.fulfilled_by_type == ARREARS_PAID, obligation_view.c.status == "open"
                )
            )
        ).all()
    assert [tuple(row) for row in open_terms] == [("case-elsewhere", "t-arrears")]


async def test_a_payment_recorded_before_the_agreement_fulfils_nothing(
    service: Service, desk: Desk, clock: FakeClock
) -> None:
    _client, context = service
    old_payment = arrears_paid(clock.now - timedelta(days=300))
    await desk.agreed("case-jyht")
    log = await context.store.last_sequence()
    await consume(service, old_payment)
    assert await context.store.last_sequence() == log
    assert (await obligation(service, "case-jyht", "t-arrears"))["status"] == "open"


async def test_events_that_cannot_fulfil_are_refused_for_good(service: Service, desk: Desk, clock: FakeClock) -> None:
    _client, context = service
    await desk.agreed("case-jyht")
    log = await context.store.last_sequence()
    good = arrears_paid(clock.now)
    for bad, why in (
        (good | {"type": "jinlin.escrow.ArrearsPaid.v2"}, "not an event that fulfils"),
        (good | {"source": "/jinlin/complaints"}, "from source"),
        (good | {"data": {"fully_paid": True}}, "compound_id"),
        (good | {"time": "yesterday"}, "RFC 3339"),
    ):
        with pytest.raises(PermanentError, match=why):
            await consume(service, bad | {"id": str(uuid.uuid4())})
    assert await context.store.last_sequence() == log
