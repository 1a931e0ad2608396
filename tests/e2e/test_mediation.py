"""Events of a service the console has never seen running reach it once its stream appears: here the mediation
service's events (published by a stand-in, hash-chained exactly as a service's relay publishes its log) make the
board, the case page and the cross-service case timeline, without restarting or reloading anything.

The stand-in publishes what the mediation service publishes when it opens a case from a complaints escalation:
``CaseOpened`` caused by the complaints service's ``ComplaintEscalatedToMediation`` and carrying its case id.
"""

import asyncio
import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from jinlin.events.chain import GENESIS_HASH, event_hash
from jinlin.events.envelope import CONTENT_TYPE
from jinlin.messaging.connection import connect_nats
from jinlin.messaging.streams import ensure_stream

LIVE = 15_000  # the consumer of a stream that did not exist retries every few seconds
CASE = "m-jyht-2026-01"
PARTIES = [
    {"party_id": "party-1", "kind": "owners_committee", "organisation": "金园华庭业主委员会"},
    {"party_id": "party-2", "kind": "property_company", "organisation": "天长市金园物业服务有限公司"},
    {"party_id": "party-3", "kind": "utility", "organisation": "国网天长市供电公司"},
]


def mediation_log(case_id: str, escalation_id: str, complaint_id: str) -> list[tuple[str, dict[str, Any], str]]:
    """``(event name, data, causationid)`` of the case, in log order."""
    start = datetime.now(UTC)
    iso = lambda minutes: (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")  # noqa: E731
    meeting = {"meeting_id": "tea-1"}
    terms = [
        {
            "term_id": "1",
            "obligor": "party-2",
            "what": "物业公司将代收电费全部移交监管账户，用于结清总表欠费",
            "due_at": iso(60 * 24 * 10),
            "evidence_required": "监管账户入账凭证",
        },
        {
            "term_id": "2",
            "obligor": "party-3",
            "what": "欠费结清后十五日内完成一户一表改造并直供到户",
            "due_at": iso(60 * 24 * 30),
            "evidence_required": "供电公司切换确认单",
        },
        {
            "term_id": "3",
            "obligor": "party-1",
            "what": "在小区公告栏公示协商结果",
            "due_at": iso(60 * 24 * 3),
            "evidence_required": "公示照片",
        },
    ]
    command = uuid.uuid4().hex
    return [
        (
            "CaseOpened",
            {
                "origin": "complaint_referral",
                "reason": "物业拖欠电费，影响一户一表直供电改造",
                "parties": PARTIES,
                "compound_id": "jinyuan-huating",
                "category_code": "electricity",
                "complaint_ids": [complaint_id],
                "escalation_event_id": escalation_id,
            },
            escalation_id,
        ),
        ("CaseAccepted", {"due_at": iso(60 * 24 * 30)}, command),
        ("MediatorAssigned", {"mediator": {"id": "dev-mediator", "name": "陈静"}}, command),
        (
            "MeetingScheduled",
            meeting
            | {
                "place": "金园华庭党群服务站",
                "starts_at": iso(60),
                "ends_at": iso(150),
                "agenda": ["欠费金额核对", "监管账户收缴", "改造时间表"],
            },
            command,
        ),
        ("PartiesInvited", meeting | {"party_ids": ["party-1", "party-2", "party-3"]}, command),
        *[
            ("AttendanceRecorded", meeting | {"party_id": p, "attended": True}, command)
            for p in ("party-1", "party-2", "party-3")
        ],
        ("MinutesRecorded", meeting | {"minutes": "近邻茶话会：三方确认欠费金额，同意设立监管账户。"}, command),
        (
            "AgreementDrafted",
            {
                "agreement_id": "agr-1",
                "revision": 1,
                "party_ids": ["party-1", "party-2", "party-3"],
                "facts": "金园华庭物业公司未按期缴纳总表电费，导致直供电改造受阻。",
                "issues": ["欠费结清", "改造时间"],
                "terms": terms,
            },
            command,
        ),
        *[
            ("AgreementSigned", {"agreement_id": "agr-1", "revision": 1, "party_id": p}, command)
            for p in ("party-1", "party-2", "party-3")
        ],
        (
            "AgreementTookEffect",
            {
                "agreement_id": "agr-1",
                "complaint_ids": [complaint_id],
                "confirmation_window_ends_at": iso(60 * 24 * 30),
            },
            command,
        ),
        ("ObligationFulfilled", {"term_id": "3", "evidence": "公告栏公示照片已存档"}, command),
    ]


async def publish_as_mediation_service(
    nats_url: str, creds: Path, case_id: str, caseid: str, events: list[Any]
) -> None:
    """What the mediation service's relay does: its log, hash-chained, onto its own stream, as its NATS user."""
    nc = await connect_nats(nats_url, name="mediation-stand-in", creds=creds, first_connect_timeout=15)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "MEDIATION", "jinlin.mediation.>")
        prevhash, clock = GENESIS_HASH, datetime.now(UTC)
        for sequence, (name, data, cause) in enumerate(events, start=1):
            clock += timedelta(seconds=1)
            fields: dict[str, Any] = {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "/jinlin/mediation",
                "type": f"jinlin.mediation.{name}.v1",
                "subject": case_id,
                "time": clock.isoformat(timespec="microseconds"),
                "datacontenttype": "application/json",
                "data": {"case_id": case_id, "occurred_at": clock.isoformat().replace("+00:00", "Z"), **data},
                "caseid": caseid,
                "causationid": cause,
                "actor": "staff:dev-mediator" if sequence > 1 else "consumer:mediation-escalations",
                "streamversion": sequence,
                "sequence": sequence,
                "prevhash": prevhash,
            }
            fields["hash"] = prevhash = event_hash(fields)
            body = json.dumps(fields, ensure_ascii=False).encode()
            headers = {"Nats-Msg-Id": fields["id"], "Content-Type": CONTENT_TYPE}
            await js.publish(
                f"jinlin.mediation.case.{case_id}.{name.lower()}", body, headers=headers, stream="MEDIATION"
            )
    finally:
        await nc.close()


def test_a_new_services_events_make_the_board_the_case_and_the_timeline(
    signed_in: Callable[[str], Page], stack: Any, shoot: Callable[..., None]
) -> None:
    mediator = signed_in("mediator")
    mediator.goto("/mediation")
    expect(mediator.get_by_test_id("mediation-board")).to_contain_text("暂无数据")

    filed = stack.file("金园华庭物业拖欠电费，整个小区无法改造直供电", category="electricity")
    complaint_id = filed["complaint_id"]
    acknowledged = stack.command("intake", "POST", f"/complaints/{complaint_id}/acknowledge")
    assert acknowledged.status_code == 200, acknowledged.text
    parties = [{"role": p["kind"], "organisation": p["organisation"]} for p in PARTIES]
    escalation = stack.command(
        "handler", "POST", f"/complaints/{complaint_id}/escalate", {"reason": "需多方协商", "parties": parties}
    )
    assert escalation.status_code == 200, escalation.text
    auditor = signed_in("auditor")
    evidence = auditor.request.get(f"/cases/{complaint_id}/evidence.json")
    escalated = [
        item["envelope"]
        for item in evidence.json()["events"]
        if item["envelope"]["type"] == "jinlin.complaints.ComplaintEscalatedToMediation.v1"
    ]
    assert len(escalated) == 1
    events = mediation_log(CASE, escalated[0]["id"], complaint_id)
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    creds = stack.stand_in_credentials("mediation", "mediation")
    publish = publish_as_mediation_service(stack.nats_url, creds, CASE, escalated[0]["caseid"], events)
    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, publish).result()

    expect(mediator.locator(f'a[href="/mediation/{CASE}"]')).to_be_visible(timeout=LIVE)
    expect(mediator.get_by_test_id("mediation-board")).to_contain_text("陈静", timeout=LIVE)
    shoot(mediator, "mediation-board")
    mediator.goto(f"/mediation/{CASE}")
    expect(mediator.locator("body")).to_contain_text("物业公司将代收电费全部移交监管账户")
    expect(mediator.locator("body")).to_contain_text("已履行")
    shoot(mediator, "mediation-case")

    # The complaints service consumes the agreement too, and records the complaint resolved by it.
    auditor.goto(f"/cases/{escalated[0]['caseid']}/timeline")
    resolved = auditor.locator('.tl > li[data-service="complaints"]:has-text("调解协议解决")')
    expect(resolved).to_have_count(1, timeout=LIVE)
    expect(auditor.locator(".tl > li")).to_have_count(4 + len(events))
    expect(auditor.get_by_test_id("verdict")).to_contain_text(f"全部 {4 + len(events)} 个事件校验通过")
    kinds = auditor.locator(".tl > li .what").all_inner_texts()
    assert kinds[:4] == ["登记投诉", "受理投诉", "提交调解", "立案"], kinds
    assert kinds.index("调解协议解决") == kinds.index("协议生效") + 1, "each effect right after its cause"
    expect(auditor.locator('.tl > li[data-service="mediation"]').first).to_contain_text("起因：投诉 · 提交调解")
    shoot(auditor, "case-timeline-two-services")
