"""The escalation-to-case path end to end through a real nats-server: the complaints desk's escalation events,
published into a COMPLAINTS stream as its relay publishes them (checked against its published schemas), open
exactly one case here, even when delivered twice; the case's events go out on the MEDIATION stream with the same
caseid; a message that cannot be an escalation is dead-lettered with its reason and the consumer goes on."""

import json

from nats.aio.client import Client

from jinlin.messaging import DEADLETTER_STREAM, DLQ_REASON, ensure_stream
from mediation.application.escalations import DURABLE

from ..conftest import ComplaintsRelay, as_role
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

COMPLAINTS = "COMPLAINTS"


def subject_of(event: dict[str, object]) -> str:
    return f"jinlin.complaints.complaint.{event['subject']}.escalated_to_mediation"


async def test_a_group_escalation_delivered_twice_opens_exactly_one_case(
    start_service: StartService, database_url: str, nc: Client, complaints_relay: ComplaintsRelay
) -> None:
    js = nc.jetstream()
    await ensure_stream(js, COMPLAINTS, "jinlin.complaints.>")
    case_id = "case-jyht-power"
    first, second = complaints_relay.group(case_id, ["c-20261101-aaa111", "c-20261101-bbb222"])
    # Another complaints event the filter must keep away (it would not be an escalation).
    await publish(js, "jinlin.complaints.complaint.c-20261101-aaa111.filed", first | {"id": "filed-1"})
    await publish(js, subject_of(first), first)
    await publish(js, subject_of(second), second)
    # The same CloudEvent once more, as a new message (after the duplicate window, or from a replayed stream).
    last = await publish(js, subject_of(first), first, msg_id="republished-after-the-window")

    async with start_service(database_url) as live:
        await eventually(lambda: consumed_up_to(js, COMPLAINTS, DURABLE, last), what="the escalations consumed")
        await all_published(live)
        log = await live.context.store.read_log()
        assert [event.type for event in log] == ["jinlin.mediation.CaseOpened.v1"]
        case = (await live.client.get(f"/cases/{case_id}", headers=as_role("mediator"))).json()
        assert case["complaint_ids"] == ["c-20261101-aaa111", "c-20261101-bbb222"]
        assert (
            case["status"] == "opened" and case["parties"][3]["person_ref"] == first["data"]["parties"][3]["person_ref"]
        )

        # On the MEDIATION stream: the case's opening, caused by the escalation, with the complaints' case id.
        (message,) = await stream_messages(js, MEDIATION_STREAM)
        event = json.loads(message.data)
        assert message.subject == f"jinlin.mediation.case.{case_id}.opened"
        assert (message.headers or {})["Content-Type"] == "application/cloudevents+json"
        assert (message.headers or {})["Nats-Msg-Id"] == event["id"]
        assert (event["caseid"], event["subject"], event["causationid"]) == (case_id, case_id, first["id"])
        assert event["actor"] == f"consumer:{DURABLE}"
        envelope, data = mediation_validators("CaseOpened")
        assert list(envelope.iter_errors(event)) == [] and list(data.iter_errors(event["data"])) == []
        # The resident's name stays as the complaints desk sealed it.
        assert event["data"]["parties"][3]["person_name_enc"] == first["data"]["parties"][3]["person_name_enc"]

        # A broken message and an invalid escalation are dead-lettered; the next escalation still opens its case.
        garbage = await publish(js, subject_of(first), b"{not json", msg_id="garbage-1")
        broken = complaints_relay.escalation("case-broken", "c-9", ["c-9"])
        broken["data"]["parties"] = [{"role": "resident", "organisation": "张三"}]
        await publish(js, subject_of(broken), broken)
        (later,) = complaints_relay.group("case-later", ["c-20261102-ccc333"])
        after = await publish(js, subject_of(later), later)
        assert garbage < after
        await eventually(lambda: consumed_up_to(js, COMPLAINTS, DURABLE, after), what="the consumer going on")
        assert [e.envelope.caseid for e in await live.context.store.read_log()] == [case_id, "case-later"]
        letters = [m for m in await stream_messages(js, DEADLETTER_STREAM) if m.subject.endswith(DURABLE)]
        assert [m.subject for m in letters] == [f"jinlin.dlq.mediation.{DURABLE}"] * 2
        assert letters[0].data == b"{not json"
        reasons = [(m.headers or {})[DLQ_REASON] for m in letters]
        assert "not a CloudEvent" in reasons[0]
        assert "a party of the escalation is not valid" in reasons[1] and "张三" not in reasons[1]
