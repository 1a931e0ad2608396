"""The mediation service's outcomes, consumed from a real MEDIATION stream by their documented contract."""

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from complaints.application.mediation_outcomes import DURABLE
from jinlin.messaging import DEADLETTER_STREAM, DLQ_REASON, ensure_stream

from ..conftest import FileBody, as_role
from .conftest import Eventually, StartService

MEDIATION = "MEDIATION"


def mediation_event(event_type: str, case_id: str, data: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """A CloudEvent as the mediation service's relay publishes it."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": "/jinlin/mediation",
            "type": f"jinlin.mediation.{event_type}.v1",
            "subject": case_id,
            "time": "2026-11-20T08:00:00.000000+00:00",
            "datacontenttype": "application/json",
            "data": data,
            "caseid": case_id,
            "causationid": "request-of-the-mediator",
            "actor": "staff:mediator-1",
            "streamversion": 7,
            "sequence": 42,
            "hash": "a" * 64,
            "prevhash": "b" * 64,
        }
    ).encode()


async def test_outcomes_move_the_complaints_once_and_bad_messages_are_dead_lettered(
    start_service: StartService,
    database_url: str,
    nc: Client,
    complaint_body: FileBody,
    escalated_case: Callable[..., Awaitable[list[str]]],
    eventually: Eventually,
    stream_messages: Callable[[JetStreamContext, str], Awaitable[list[RawStreamMsg]]],
) -> None:
    js = nc.jetstream()
    await ensure_stream(js, MEDIATION, "jinlin.mediation.>")

    async def publish(subject: str, body: bytes, msg_id: str | None = None) -> int:
        ack = await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id or str(uuid.uuid4())})
        return int(ack.seq)

    async def handled_up_to(sequence: int) -> bool:
        info = await js.consumer_info(MEDIATION, DURABLE)
        return info.ack_floor.stream_seq >= sequence and not info.num_ack_pending and not info.num_pending

    async with start_service(database_url) as live:
        client, store = live.client, live.context.store

        async def statuses(ids: list[str]) -> list[str]:
            return [(await client.get(f"/complaints/{i}", headers=as_role("auditor"))).json()["status"] for i in ids]

        agreed = await escalated_case(live, complaint_body(), "case-agreed")
        failed = await escalated_case(live, complaint_body(), "case-failed")

        # An agreement takes effect: both complaints of the case are resolved by agreement, the call-back due.
        agreement = mediation_event(
            "AgreementTookEffect", "case-agreed", {"agreement_id": "agr-1", "complaint_ids": agreed, "extra": 1}
        )
        first = await publish("jinlin.mediation.case.case-agreed.agreement_took_effect", agreement)
        await eventually(lambda: handled_up_to(first), what="the agreement consumed")
        assert await statuses(agreed) == ["resolved_by_agreement"] * 2
        detail = (await client.get(f"/complaints/{agreed[0]}", headers=as_role("auditor"))).json()
        resolved = detail["history"][-1]
        assert resolved["type"] == "jinlin.complaints.ComplaintResolvedByAgreement.v1"
        assert (resolved["caseid"], resolved["data"]["agreement_id"]) == ("case-agreed", "agr-1")
        assert resolved["causationid"] == json.loads(agreement)["id"]
        assert resolved["actor"] == f"consumer:{DURABLE}"
        assert detail["agreement_id"] == "agr-1"
        log_after_agreement = await store.last_sequence()

        # The same event delivered again (another message, same CloudEvent): nothing more happens.
        again = await publish("jinlin.mediation.case.case-agreed.agreement_took_effect", agreement)
        await eventually(lambda: handled_up_to(again), what="the repeated agreement consumed")
        assert await store.last_sequence() == log_after_agreement
        assert await statuses(agreed) == ["resolved_by_agreement"] * 2

        # A malformed message and an outcome without complaints are dead-lettered; later outcomes still count.
        garbage = await publish("jinlin.mediation.case.case-failed.ended_without_agreement", b"{not json")
        no_ids = await publish(
            "jinlin.mediation.case.case-failed.agreement_took_effect",
            mediation_event("AgreementTookEffect", "case-failed", {"agreement_id": "agr-2"}),
        )
        ended = await publish(
            "jinlin.mediation.case.case-failed.ended_without_agreement",
            mediation_event(
                "CaseEndedWithoutAgreement", "case-failed", {"complaint_ids": failed, "reason": "物业拒绝调解"}
            ),
        )
        assert garbage < no_ids < ended
        await eventually(lambda: handled_up_to(ended), what="the outcomes after the bad ones consumed")
        back = [(await client.get(f"/complaints/{i}", headers=as_role("auditor"))).json() for i in failed]
        assert [complaint["status"] for complaint in back] == ["acknowledged"] * 2  # back on the handler's desk
        assert {complaint["deadline_number"] for complaint in back} == {2}  # with a fresh deadline
        assert back[0]["history"][-1]["data"]["reason"] == "物业拒绝调解"
        assert await statuses(agreed) == ["resolved_by_agreement"] * 2

        letters = [m for m in await stream_messages(js, DEADLETTER_STREAM) if m.subject.endswith(DURABLE)]
        assert [m.subject for m in letters] == [f"jinlin.dlq.complaints.{DURABLE}"] * 2
        assert letters[0].data == b"{not json"  # byte for byte, as it came
        reasons = [(m.headers or {})[DLQ_REASON] for m in letters]
        assert "not a CloudEvent" in reasons[0]
        assert "complaint_ids" in reasons[1]
        assert json.loads(letters[1].data)["data"] == {"agreement_id": "agr-2"}
