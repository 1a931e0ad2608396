"""A case's complaints escalated to mediation: one event per complaint, one case id, published with that caseid, in
the shape the checked-in contract documents."""

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from jsonschema import Draft202012Validator
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from ..conftest import FileBody, as_role
from .conftest import COMPLAINTS_STREAM, Live, StartService

DOCS = next(parent for parent in Path(__file__).parents if (parent / "docs" / "events").is_dir()) / "docs" / "events"


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((DOCS / name).read_text()))


async def test_escalating_a_case_escalates_each_complaint_under_the_case_id(
    start_service: StartService,
    database_url: str,
    complaint_body: FileBody,
    escalated_case: Callable[..., Awaitable[list[str]]],
    all_published: Callable[[Live], Awaitable[None]],
    stream_messages: Callable[[JetStreamContext, str], Awaitable[list[RawStreamMsg]]],
) -> None:
    case_id = "case-lift-2026"
    async with start_service(database_url, consumers=False) as live:
        bystander = (await live.client.post("/complaints", json=complaint_body(), headers=as_role("intake"))).json()
        complaint_ids = await escalated_case(live, complaint_body(), case_id)
        await all_published(live)

        for complaint_id in complaint_ids:
            detail = (await live.client.get(f"/complaints/{complaint_id}", headers=as_role("mediator"))).json()
            assert detail["status"] == "escalated" and detail["case_id"] == case_id
            last = detail["history"][-1]
            assert last["type"] == "jinlin.complaints.ComplaintEscalatedToMediation.v1"
            assert last["caseid"] == case_id
            assert last["data"]["case_id"] == case_id
            assert last["data"]["complaint_ids"] == sorted(complaint_ids)
            assert last["data"]["compound_id"] == "jinyuan-huating"
            roles = [party["role"] for party in last["data"]["parties"]]
            assert roles == ["property_company", "resident"]
        bystander_now = await live.client.get(f"/complaints/{bystander['complaint_id']}", headers=as_role("auditor"))
        assert bystander_now.json()["status"] == "filed"

        messages = await stream_messages(live.js, COMPLAINTS_STREAM)
        escalations = [m for m in messages if m.subject.endswith(".escalated_to_mediation")]
        assert sorted(m.subject for m in escalations) == sorted(
            f"jinlin.complaints.complaint.{complaint_id}.escalated_to_mediation" for complaint_id in complaint_ids
        )
        envelope, data = (
            validator("cloudevent.schema.json"),
            validator("complaints/ComplaintEscalatedToMediation.v1.schema.json"),
        )
        for message in escalations:
            assert (message.headers or {})["Content-Type"] == "application/cloudevents+json"
            event = json.loads(message.data)
            assert event["caseid"] == case_id and event["subject"] in complaint_ids
            assert (message.headers or {})["Nats-Msg-Id"] == event["id"]
            assert list(envelope.iter_errors(event)) == [] and list(data.iter_errors(event["data"])) == []
            party = event["data"]["parties"][1]
            assert "李四" not in message.data.decode() and party["person_name_enc"].startswith("pd1:")
        # Every message of the stream fits the documented envelope and its own event's schema.
        for message in messages:
            event = json.loads(message.data)
            name = event["type"].split(".", 2)[2]
            assert list(envelope.iter_errors(event)) == [], event["type"]
            assert list(validator(f"complaints/{name}.schema.json").iter_errors(event["data"])) == [], event["type"]
