"""A case's whole life over HTTP, as the mediation desk lives it: referred, accepted, parties told their rights, a
consultation meeting with RSVPs, attendance and minutes, the agreement signed by everyone, posted, confirmed by a
court, its obligations fulfilled or waived, a follow-up visit, closed. Every step is an event of the case."""

import json
from datetime import datetime, timedelta
from typing import Any

from ..conftest import Desk, FakeClock, Service, as_role


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def history_types(detail: dict[str, Any]) -> list[str]:
    return [entry["type"].split(".")[2] for entry in detail["history"]]


async def test_the_direct_supply_case_from_referral_to_closure(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _context = service
    case = "case-jyht-power"
    await desk.refer(case, ["c-20261101-aaa111", "c-20261101-bbb222"])
    opened = (await client.get(f"/cases/{case}", headers=as_role("mediator"))).json()
    assert (opened["status"], opened["origin"], opened["compound_id"]) == (
        "opened",
        "complaint_referral",
        "jinyuan-huating",
    )
    assert opened["complaint_ids"] == ["c-20261101-aaa111", "c-20261101-bbb222"]
    assert [p["party_id"] for p in opened["parties"]] == ["party-1", "party-2", "party-3", "party-4"]
    assert opened["parties"][3]["name_sealed"] and opened["parties"][3]["organisation"] is None

    accepted = await desk.post(case, "/accept")
    assert accepted["status"] == "accepted" and when(accepted["due_at"]) == clock.now + timedelta(days=30)
    assert (await desk.post(case, "/mediator", {"mediator": {"id": "m-chen", "name": "陈静"}}, role="supervisor"))[
        "mediator"
    ] == {"id": "m-chen", "name": "陈静"}
    added = await desk.post(case, "/parties", {"kind": "community_committee", "organisation": "城东社区居委会"})
    assert added["parties"][-1]["party_id"] == "party-5"
    for party in ("party-1", "party-2", "party-3", "party-4"):
        await desk.post(case, f"/parties/{party}/rights-informed", {"note": "书面告知书已签收"})
    removed = await desk.post(case, "/parties/party-5/remove", {"reason": "居委会列席，不作为当事人"})
    assert [p["party_id"] for p in removed["parties"]] == ["party-1", "party-2", "party-3", "party-4"]
    assert all(p["rights_informed_at"] for p in removed["parties"])

    # The neighbourhood tea party: scheduled, invitations, answers, moved, held.
    starts = clock.now + timedelta(days=2)
    meeting = {
        "place": "金园华庭党群服务站",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "agenda": ["欠费金额核对", "监管账户收缴", "改造时间表"],
    }
    scheduled = await desk.post(case, "/meetings", meeting)
    assert scheduled["meetings"][0]["meeting_id"] == "meeting-1"
    await desk.post(case, "/meetings/meeting-1/invitations", {"party_ids": ["party-1", "party-2", "party-3"]})
    await desk.post(case, "/meetings/meeting-1/rsvps", {"party_id": "party-1", "rsvp": "yes"})
    await desk.post(case, "/meetings/meeting-1/rsvps", {"party_id": "party-2", "rsvp": "maybe"})
    moved = await desk.post(
        case,
        "/meetings/meeting-1/reschedule",
        {
            "starts_at": (starts + timedelta(days=1)).isoformat(),
            "ends_at": (starts + timedelta(days=1, hours=2)).isoformat(),
            "reason": "供电公司代表出差",
        },
    )
    assert moved["meetings"][0]["rsvps"] == {} and moved["meetings"][0]["times_rescheduled"] == 1
    await desk.post(case, "/meetings/meeting-1/rsvps", {"party_id": "party-2", "rsvp": "yes"})
    second = await desk.post(case, "/meetings", meeting | {"place": "社区会议室"})
    cancelled = await desk.post(case, "/meetings/meeting-2/cancel", {"reason": "与第一次会议合并"})
    assert cancelled["meetings"][1]["status"] == "cancelled" and second["meetings"][1]["status"] == "scheduled"
    clock.advance(days=3, minutes=5)
    for party, came in (("party-1", True), ("party-2", True), ("party-3", False), ("party-4", True)):
        await desk.post(case, "/meetings/meeting-1/attendance", {"party_id": party, "attended": came})
    held = await desk.post(case, "/meetings/meeting-1/minutes", {"minutes": "三方确认欠费金额；同意设立监管账户。"})
    first = held["meetings"][0]
    assert first["status"] == "held" and first["attendance"] == {
        "party-1": True,
        "party-2": True,
        "party-3": False,
        "party-4": True,
    }
    assert first["rsvps"] == {"party-2": "yes"}

    # The agreement: drafted, amended before anyone signed, signed by each party; the last signature makes it.
    body = {
        "party_ids": ["party-1", "party-2", "party-3"],
        "facts": "物业公司未缴纳总表电费。",
        "issues": ["欠费结清"],
        "terms": desk.terms(),
    }
    drafted = await desk.post(case, "/agreement", body)
    assert drafted["agreement"]["revision"] == 1 and drafted["agreement"]["unsigned_party_ids"] == [
        "party-1",
        "party-2",
        "party-3",
    ]
    amended = await desk.post(
        case, "/agreement/amend", body | {"facts": "物业公司拖欠总表电费。", "reason": "事实表述"}
    )
    assert amended["agreement"]["revision"] == 2
    await desk.post(case, "/agreement/signatures", {"party_id": "party-1"})
    await desk.post(case, "/agreement/signatures", {"party_id": "party-3"})
    in_effect = await desk.post(case, "/agreement/signatures", {"party_id": "party-2"})
    assert in_effect["status"] == "agreement_in_effect"
    assert when(in_effect["agreement"]["took_effect_at"]) == clock.now
    assert when(in_effect["agreement"]["confirmation_deadline"]) == clock.now + timedelta(days=30)
    assert [o["term_id"] for o in in_effect["obligations"]] == ["t-arrears", "t-meters"]
    assert {o["status"] for o in in_effect["obligations"]} == {"open"}

    posted = await desk.post(case, "/agreement/postings", {"place": "小区公告栏"})
    assert posted["agreement"]["postings"][0]["place"] == "小区公告栏"
    await desk.post(case, "/judicial-confirmation", {"court": "天长市人民法院", "reference": "(2026)皖1181民特1号"})
    decided = await desk.post(case, "/judicial-confirmation/decision", {"outcome": "confirmed"})
    assert decided["agreement"]["judicial_confirmation"]["outcome"] == "confirmed"

    # Obligations: one fulfilled with evidence, the other's date moved and then waived; closing needs both settled.
    refused = await desk.post(case, "/close", {}, status=409)
    assert refused["type"].endswith("/obligations-outstanding") and refused["term_ids"] == ["t-arrears", "t-meters"]
    await desk.post(case, "/obligations/t-arrears/fulfil", {"evidence": "供电公司结清证明 GD-2026-118"})
    extended = await desk.post(
        case,
        "/obligations/t-meters/extend",
        {"due_at": (clock.now + timedelta(days=60)).isoformat(), "reason": "电表到货推迟"},
    )
    assert extended["obligations"][1]["due_at"] != extended["obligations"][1]["term_due_at"]
    await desk.post(case, "/obligations/t-meters/waive", {"reason": "供电公司已另行完成改造"})
    visited = await desk.post(
        case, "/follow-up-visits", {"performance": "欠费已结清，已直供电", "party_id": "party-4", "satisfaction": 5}
    )
    assert visited["follow_up_visits"][0]["satisfaction"] == 5
    closed = await desk.post(case, "/close", {"summary": "协议全部履行"})
    assert closed["status"] == "closed" and closed["ended_at"]

    detail = (await client.get(f"/cases/{case}", headers=as_role("auditor"))).json()
    kinds = history_types(detail)
    assert kinds[0] == "CaseOpened" and kinds[-1] == "CaseClosed"
    assert kinds.count("AgreementSigned") == 3 and kinds.count("AgreementTookEffect") == 1
    assert kinds.index("AgreementTookEffect") == kinds.index("AgreementSigned") + 3
    assert {entry["caseid"] for entry in detail["history"]} == {case}
    assert {entry["actor"] for entry in detail["history"][1:]} == {"staff:mediator-1", "staff:supervisor-1"}
    assert [entry["version"] for entry in detail["history"]] == list(range(1, len(kinds) + 1))
    # Sealed names are not part of what a reader of the history gets.
    assert "person_name_enc" not in str(detail["history"])


async def test_a_case_can_be_declined_or_end_without_agreement_with_the_routes_advised(desk: Desk) -> None:
    await desk.refer("case-declined")
    declined = await desk.post(
        "case-declined", "/decline", {"reason": "属于行政执法范围", "routes_advised": ["administrative_complaint"]}
    )
    assert (declined["status"], declined["decline_reason"]) == ("declined", "属于行政执法范围")
    assert declined["routes_advised"] == ["administrative_complaint"]

    await desk.accepted("case-failed")
    ended = await desk.post(
        "case-failed",
        "/end-without-agreement",
        {"reason": "物业公司拒绝承担欠费", "routes_advised": ["litigation", "litigation", "arbitration"]},
    )
    assert ended["status"] == "ended_without_agreement" and ended["routes_advised"] == ["litigation", "arbitration"]
    detail = (await desk.client.get("/cases/case-failed", headers=as_role("auditor"))).json()
    last = detail["history"][-1]
    assert last["type"] == "jinlin.mediation.CaseEndedWithoutAgreement.v1"
    assert last["data"]["complaint_ids"] == ["c-case-failed-1", "c-case-failed-2"]


async def test_a_direct_application_opens_a_case_with_the_applicants_name_sealed(service: Service) -> None:
    client, context = service
    body = {
        "origin": "party_application",
        "reason": "楼上漏水，协商未果",
        "parties": [
            {"kind": "resident", "person_name": "王秀英"},
            {"kind": "resident", "person_name": "赵建国"},
            {"kind": "property_company", "organisation": "金园物业"},
        ],
        "applicant": 0,
        "compound_id": "jinyuan-huating",
    }
    response = await client.post("/cases", json=body, headers=as_role("mediator"))
    assert response.status_code == 201, response.text
    case = response.json()
    assert response.headers["location"] == f"/cases/{case['case_id']}" and response.headers["etag"] == '"1"'
    assert case["case_id"].startswith("m-20261102-") and case["origin"] == "party_application"
    assert case["applicant_party_id"] == "party-1"
    assert [p["name_sealed"] for p in case["parties"]] == [True, True, False]
    log = json.dumps([event.data for event in await context.store.read_log()], ensure_ascii=False)
    assert "王秀英" not in log and "赵建国" not in log and "pd1:" in log
    # A street office's referral names the office; a party's application needs the applicant among the parties.
    referral = body | {"origin": "street_office_referral", "referred_by": "天长市千秋街道办事处", "applicant": None}
    referred = await client.post("/cases", json=referral, headers=as_role("supervisor"))
    assert referred.status_code == 201 and referred.json()["referred_by"] == "天长市千秋街道办事处"
    no_applicant = await client.post("/cases", json=body | {"applicant": 7}, headers=as_role("mediator"))
    assert no_applicant.status_code == 422 and no_applicant.json()["errors"][0]["field"] == "applicant"
    assert len(await context.store.read_log()) == 2
