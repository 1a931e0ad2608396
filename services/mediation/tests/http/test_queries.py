"""What the desk reads: the board (overdue obligations first, as the domain orders it), upcoming meetings, who must
do what by when, the parties with names for those entitled, and statistics."""

from datetime import timedelta
from typing import Any

from mediation.application.loading import read_case
from mediation.domain import order_for_board

from ..conftest import Desk, FakeClock, Service, as_role


async def board(service: Service, **params: Any) -> list[dict[str, Any]]:
    client, _ = service
    response = await client.get("/cases", params=params, headers=as_role("mediator"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def draft_and_sign(desk: Desk, case_id: str, terms: list[dict[str, Any]]) -> None:
    parties = ["party-1", "party-2", "party-3"]
    await desk.post(case_id, "/agreement", {"party_ids": parties, "facts": "事实", "issues": ["欠费"], "terms": terms})
    for party_id in parties:
        await desk.post(case_id, "/agreement/signatures", {"party_id": party_id})


async def test_the_board_puts_overdue_obligations_first_in_the_domains_order(
    service: Service, desk: Desk, clock: FakeClock
) -> None:
    _client, context = service
    await desk.accepted("c-month")  # accepted first: past its month at the end
    clock.advance(days=5)
    await desk.agreed("d-overdue")  # arrears due in 10 days: overdue at the end
    await desk.agreed("e-on-time", terms=desk.terms(arrears_in=timedelta(days=40), meters_in=timedelta(days=60)))
    clock.advance(days=1)
    await desk.refer("f-declined")
    await desk.post("f-declined", "/decline", {"reason": "不属于调解范围", "routes_advised": ["litigation"]})
    await desk.refer("a-waiting")
    await desk.accepted("b-mediating")
    await desk.accepted("g-failed")
    clock.advance(hours=1)
    await desk.post("g-failed", "/end-without-agreement", {"reason": "无法达成一致", "routes_advised": ["litigation"]})
    clock.advance(days=25)  # day 31: the first case's month is over, the arrears of d-overdue are late

    rows = await board(service)
    states = [(await read_case(context.store, row["case_id"]))[0] for row in rows]
    expected = [state.case_id for state in order_for_board([s for s in states if s], clock.now)]
    assert [row["case_id"] for row in rows] == expected
    assert expected[:2] == ["d-overdue", "c-month"] and expected[-2:] == ["g-failed", "f-declined"]
    by_id = {row["case_id"]: row for row in rows}
    assert (by_id["d-overdue"]["overdue_obligations"], by_id["e-on-time"]["overdue_obligations"]) == (1, 0)
    assert by_id["c-month"]["past_its_month"] and not by_id["b-mediating"]["past_its_month"]
    assert by_id["d-overdue"]["open_obligations"] == 2

    assert [row["case_id"] for row in await board(service, overdue="true")] == ["d-overdue"]
    assert "d-overdue" not in [row["case_id"] for row in await board(service, overdue="false")]
    accepted = await board(service, status=["accepted"])
    assert [row["case_id"] for row in accepted] == ["c-month", "b-mediating"]
    detail = (await desk.client.get("/cases/d-overdue", headers=as_role("auditor"))).json()
    resident = detail["parties"][3]["person_ref"]
    assert [row["case_id"] for row in await board(service, party=resident)] == ["d-overdue"]
    assert len(await board(service, party="国网天长市供电公司")) == len(rows)
    paged = (await desk.client.get("/cases", params={"page": 2, "page_size": 3}, headers=as_role("auditor"))).json()
    assert paged["total"] == len(rows) and [row["case_id"] for row in paged["items"]] == expected[3:6]


async def test_upcoming_meetings_and_obligations_by_obligor(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await desk.agreed("case-a")
    await desk.agreed("case-b", terms=desk.terms(arrears_in=timedelta(days=3), meters_in=timedelta(days=20)))
    await desk.accepted("case-c")
    await desk.accepted("case-ended")

    def meeting(days: float, place: str) -> dict[str, Any]:
        starts = clock.now + timedelta(days=days)
        return {"place": place, "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "agenda": ["履行情况"]}  # fmt: skip

    await desk.post("case-c", "/meetings", meeting(2, "社区会议室"))
    await desk.post("case-c", "/meetings/meeting-1/invitations", {"party_ids": ["party-1", "party-2"]})
    await desk.post("case-c", "/meetings/meeting-1/rsvps", {"party_id": "party-1", "rsvp": "yes"})
    await desk.post("case-a", "/meetings", meeting(1, "党群服务站"))
    await desk.post("case-a", "/meetings", meeting(3, "物业办公室"))
    await desk.post("case-a", "/meetings/meeting-2/cancel", {"reason": "改为电话沟通"})
    await desk.post("case-ended", "/meetings", meeting(1, "不会召开"))
    await desk.post("case-ended", "/end-without-agreement", {"reason": "拒绝", "routes_advised": ["litigation"]})

    upcoming = (await client.get("/meetings/upcoming", headers=as_role("auditor"))).json()
    assert [(m["case_id"], m["meeting_id"], m["place"]) for m in upcoming] == [
        ("case-a", "meeting-1", "党群服务站"),
        ("case-c", "meeting-1", "社区会议室"),
    ]
    assert upcoming[1]["invited"] == ["party-1", "party-2"] and upcoming[1]["rsvps"] == {"party-1": "yes"}
    assert upcoming[0]["mediator_name"] == "陈静"
    soon = await client.get(
        "/meetings/upcoming", params={"until": (clock.now + timedelta(days=1, hours=12)).isoformat()},
        headers=as_role("mediator"),
    )  # fmt: skip
    assert [m["case_id"] for m in soon.json()] == ["case-a"]
    clock.advance(days=1, hours=1)  # case-a's meeting is under way: still listed until it ends
    under_way = (await client.get("/meetings/upcoming", headers=as_role("mediator"))).json()
    assert [m["case_id"] for m in under_way] == ["case-a", "case-c"]

    clock.advance(days=3)  # case-b's arrears (3 days) are late
    page = (await client.get("/obligations", headers=as_role("mediator"))).json()
    rows = [(row["obligor_organisation"], row["case_id"], row["term_id"]) for row in page["items"]]
    assert rows == [
        ("国网天长市供电公司", "case-b", "t-meters"),
        ("国网天长市供电公司", "case-a", "t-meters"),
        ("天长市金园物业服务有限公司", "case-b", "t-arrears"),
        ("天长市金园物业服务有限公司", "case-a", "t-arrears"),
    ]
    assert page["total"] == 4
    late = (await client.get("/obligations", params={"overdue": "true"}, headers=as_role("auditor"))).json()
    assert [(row["case_id"], row["term_id"], row["overdue"]) for row in late["items"]] == [
        ("case-b", "t-arrears", True)
    ]
    power = (
        await client.get("/obligations", params={"obligor": "国网天长市供电公司"}, headers=as_role("mediator"))
    ).json()
    assert {row["obligor"] for row in power["items"]} == {"party-2"} and power["total"] == 2
    await desk.post("case-a", "/obligations/t-arrears/fulfil", {"evidence": "结清证明"})
    done = (await client.get("/obligations", params={"status": ["fulfilled"]}, headers=as_role("mediator"))).json()
    assert [(row["case_id"], row["term_id"]) for row in done["items"]] == [("case-a", "t-arrears")]
    assert done["items"][0]["fulfilled_by_match"] == {"compound_id": "jinyuan-huating", "fully_paid": True}


async def test_parties_names_are_opened_only_when_sealed_here_and_for_those_entitled(
    service: Service, desk: Desk
) -> None:
    client, _ = service
    await desk.accepted("case-names")
    await desk.post("case-names", "/parties", {"kind": "resident", "person_name": "李桂兰"})

    as_mediator = (await client.get("/cases/case-names/parties", headers=as_role("mediator"))).json()
    assert [p["party_id"] for p in as_mediator] == ["party-1", "party-2", "party-3", "party-4", "party-5"]
    referred, added = as_mediator[3], as_mediator[4]
    assert (referred["name"], referred["name_withheld"]) == (None, True)  # sealed by the complaints desk
    assert (added["name"], added["name_withheld"]) == ("李桂兰", False)
    assert as_mediator[0]["organisation"] == "天长市金园物业服务有限公司" and not as_mediator[0]["name_withheld"]
    as_auditor = (await client.get("/cases/case-names/parties", headers=as_role("auditor"))).json()
    assert (as_auditor[4]["name"], as_auditor[4]["name_withheld"]) == (None, True)
    assert (await client.get("/cases/nobody/parties", headers=as_role("mediator"))).status_code == 404
    # The name is nowhere in clear in what the case shows.
    detail = (await client.get("/cases/case-names", headers=as_role("mediator"))).text
    assert "李桂兰" not in detail


async def test_statistics_count_outcomes_time_to_agreement_and_obligations_on_time(
    service: Service, desk: Desk, clock: FakeClock
) -> None:
    client, _ = service
    await desk.accepted("case-x")
    clock.advance(days=4)
    await draft_and_sign(desk, "case-x", desk.terms(arrears_in=timedelta(days=5), meters_in=timedelta(days=6)))
    clock.advance(days=1)
    await desk.post("case-x", "/obligations/t-arrears/fulfil", {"evidence": "按期结清"})  # due in 5 days: on time
    await desk.accepted("case-y")
    clock.advance(days=10)
    await draft_and_sign(desk, "case-y", desk.terms(arrears_in=timedelta(days=2), meters_in=timedelta(days=30)))
    await desk.refer("case-z")
    await desk.post("case-z", "/decline", {"reason": "不属于调解范围", "routes_advised": ["litigation"]})
    await desk.accepted("case-w")
    await desk.post("case-w", "/end-without-agreement", {"reason": "无法达成一致", "routes_advised": ["arbitration"]})
    clock.advance(days=3)
    await desk.post("case-y", "/obligations/t-arrears/fulfil", {"evidence": "逾期结清"})  # due after 2 days: late
    await desk.post("case-y", "/obligations/t-meters/waive", {"reason": "改由供电公司自行完成"})
    # case-x's meters were due 6 days after its agreement: open and late now.

    answer = (await client.get("/statistics", params={"group_by": "origin"}, headers=as_role("auditor"))).json()
    total = answer["total"]
    assert (total["cases_opened"], total["settled_by_agreement"], total["declined"]) == (4, 2, 1)
    assert (total["ended_without_agreement"], total["being_mediated"], total["closed"]) == (1, 0, 0)
    assert total["median_days_to_agreement"] == 7.0  # 4 and 10 days from acceptance
    assert (total["obligations"], total["obligations_fulfilled"], total["obligations_fulfilled_on_time"]) == (4, 2, 1)
    assert (total["obligations_waived"], total["obligations_overdue"]) == (1, 1)
    assert total["on_time_rate"] == round(1 / 3, 4)
    assert [row["group"] for row in answer["rows"]] == ["complaint_referral"]
    by_month = (await client.get("/statistics", headers=as_role("mediator"))).json()
    assert [row["group"] for row in by_month["rows"]] == ["2026-11"]
    later = await client.get(
        "/statistics", params={"opened_from": (clock.now + timedelta(days=1)).isoformat()}, headers=as_role("auditor")
    )
    assert later.json()["total"]["cases_opened"] == 0
