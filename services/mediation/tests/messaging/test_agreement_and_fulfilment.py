"""Through a real nats-server: the agreement taking effect goes out on the MEDIATION stream with every complaint of
the case (what the complaints desk acts on), and the escrow service's ArrearsPaid, published into an ESCROW stream,
fulfils the term that names it, once, however often it is delivered."""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from nats.aio.client import Client

from jinlin.messaging import DEADLETTER_STREAM, DLQ_REASON, ensure_stream
from mediation.application.fulfilments import DURABLE

from ..conftest import ARREARS_PAID, COMPOUND, FakeClock, as_role
from .conftest import (
    MEDIATION_STREAM,
    StartService,
    all_published,
    consumed_up_to,
    eventually,
    mediation_validators,
    publish,
    stream_messages,
)

ESCROW = "ESCROW"


def arrears_paid(at: datetime, *, fully_paid: bool, sequence: int) -> dict[str, Any]:
    """ArrearsPaid as the escrow service's relay publishes it (jinlin.escrow.handover.<compound>.arrears_paid)."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/jinlin/escrow",
        "type": ARREARS_PAID,
        "subject": COMPOUND,
        "time": at.isoformat(timespec="microseconds"),
        "datacontenttype": "application/json",
        "data": {
            "compound_id": COMPOUND,
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
            "account_id": "esc-jyht-electricity",
            "disbursement_id": f"d-{sequence}",
            "payee": {"payee_id": "state-grid-tianchang", "name": "国网天长市供电公司"},
            "amount_fen": 6_000_000,
            "paid_on": at.date().isoformat(),
            "bank_reference": f"BK-{sequence}",
            "arrears_total_fen": 12_000_000,
            "paid_to_date_fen": 6_000_000 * sequence,
            "fully_paid": fully_paid,
        },
        "caseid": COMPOUND,
        "causationid": str(uuid.uuid4()),
        "actor": "staff:finance-1",
        "streamversion": 5 + sequence,
        "sequence": 20 + sequence,
        "hash": f"{sequence:064x}",
        "prevhash": f"{sequence - 1:064x}",
    }


SUBJECT = f"jinlin.escrow.handover.{COMPOUND}.arrears_paid"


async def test_the_agreement_is_published_and_arrears_paid_fulfils_its_term(
    start_service: StartService, database_url: str, nc: Client, clock: FakeClock
) -> None:
    js = nc.jetstream()
    await ensure_stream(js, ESCROW, "jinlin.escrow.>")
    case_id = "case-jyht-power"
    async with start_service(database_url) as live:
        await live.desk.agreed(case_id)
        await all_published(live)
        messages = await stream_messages(js, MEDIATION_STREAM)
        took_effect = [m for m in messages if m.subject.endswith(".agreement_took_effect")]
        assert [m.subject for m in took_effect] == [f"jinlin.mediation.case.{case_id}.agreement_took_effect"]
        event = json.loads(took_effect[0].data)
        assert event["type"] == "jinlin.mediation.AgreementTookEffect.v1" and event["caseid"] == case_id
        assert event["data"]["complaint_ids"] == [f"c-{case_id}-1", f"c-{case_id}-2"]
        assert event["data"]["agreement_id"] == "agreement-1"
        envelope, data = mediation_validators("AgreementTookEffect")
        assert list(envelope.iter_errors(event)) == [] and list(data.iter_errors(event["data"])) == []
        # The stream is the log: every committed event, in order, hash-chained.
        assert [json.loads(m.data)["sequence"] for m in messages] == list(range(1, len(messages) + 1))

        clock.advance(days=3)
        partial = arrears_paid(clock.now - timedelta(days=1), fully_paid=False, sequence=1)
        full = arrears_paid(clock.now - timedelta(hours=2), fully_paid=True, sequence=2)
        await publish(js, SUBJECT, partial)
        await publish(js, SUBJECT, full)
        await publish(js, SUBJECT, full, msg_id="the-same-payment-published-again")
        no_compound = arrears_paid(clock.now, fully_paid=True, sequence=3)
        del no_compound["data"]["compound_id"]
        last = await publish(js, SUBJECT, no_compound)
        await eventually(lambda: consumed_up_to(js, ESCROW, DURABLE, last), what="the payments consumed")

        detail = (await live.client.get(f"/cases/{case_id}", headers=as_role("mediator"))).json()
        arrears, meters = detail["obligations"]
        assert arrears["status"] == "fulfilled" and meters["status"] == "open"
        assert arrears["fulfilling_event"] == {"service": "escrow", "event_type": ARREARS_PAID, "event_id": full["id"]}
        fulfilled = [e for e in detail["history"] if e["type"].endswith(".ObligationFulfilled.v1")]
        assert len(fulfilled) == 1 and fulfilled[0]["causationid"] == full["id"]
        assert fulfilled[0]["actor"] == f"consumer:{DURABLE}"

        await all_published(live)
        published = [
            m for m in await stream_messages(js, MEDIATION_STREAM) if m.subject.endswith(".obligation_fulfilled")
        ]
        assert len(published) == 1
        envelope, data = mediation_validators("ObligationFulfilled")
        assert list(data.iter_errors(json.loads(published[0].data)["data"])) == []
        (letter,) = [m for m in await stream_messages(js, DEADLETTER_STREAM) if m.subject.endswith(DURABLE)]
        assert "compound_id" in (letter.headers or {})[DLQ_REASON]
