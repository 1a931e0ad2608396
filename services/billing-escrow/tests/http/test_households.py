"""Households, their fee schedules, meter readings and bills, and what they owe: bills settled oldest first by what
they paid into escrow, aged by days overdue, as of any date."""

from typing import Any

import httpx

from ..conftest import COMPOUND, POWER_COMPANY, Desk, Running, as_role, ok, problem


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return dict(ok(await client.post(path, json=body, headers=as_role("finance")), status))


async def _arrears(client: httpx.AsyncClient, household: str, purpose: str, as_of: str) -> dict[str, Any]:
    params = {"purpose": purpose, "as_of": as_of}
    return dict(ok(await client.get(f"/households/{household}/arrears", params=params, headers=as_role("auditor"))))


async def test_bills_and_arrears_with_ageing(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-prop", purpose="property_fee")
    await desk.household("h-301", floor_area_dm2=8937)  # 89.37 m²
    await desk.household("h-302", floor_area_dm2=10_000)
    again = await client.post(
        "/households",
        json={"household_id": "h-301", "compound_id": COMPOUND, "label": "3栋2单元301", "floor_area_dm2": 8937},
        headers=as_role("finance"),
    )
    assert again.status_code == 200
    moved = {"household_id": "h-301", "compound_id": "elsewhere", "label": "1栋", "floor_area_dm2": 1}
    problem(await client.post("/households", json=moved, headers=as_role("finance")), 409)

    schedule = {"purpose": "property_fee", "unit_price": {"fen": 150, "per_units": 1}, "effective_from": "2026-09"}
    await _post(client, "/households/h-301/fee-schedules", schedule)
    for period in ("2026-09", "2026-10"):
        await _post(client, "/households/h-301/bills", {"bill_id": f"pf-{period}", "purpose": "property_fee",
                                                       "period": period})  # fmt: skip
    electricity = {"purpose": "electricity", "unit_price": {"fen": 5653, "per_units": 100}, "effective_from": "2026-01"}
    await _post(client, "/households/h-301/fee-schedules", electricity)
    await _post(
        client, "/households/h-301/meter-readings", {"purpose": "electricity", "period": "2026-09", "reading": 1000}
    )
    await _post(
        client, "/households/h-301/meter-readings", {"purpose": "electricity", "period": "2026-10", "reading": 1180}
    )
    await _post(
        client, "/households/h-301/bills", {"bill_id": "el-2026-10", "purpose": "electricity", "period": "2026-10"}
    )
    no_schedule = await client.post(
        "/households/h-302/bills", json={"bill_id": "b1", "purpose": "water", "period": "2026-10"},
        headers=as_role("finance"),
    )  # fmt: skip
    problem(no_schedule, 422)

    detail = ok(await client.get("/households/h-301", headers=as_role("notary")))
    bills = {b["bill_id"]: b for b in detail["bills"]}
    assert bills["pf-2026-09"]["amount_fen"] == 13_406  # 89.37 m² × 1.50 yuan = 134.055 → 134.06
    assert (bills["el-2026-10"]["quantity"], bills["el-2026-10"]["amount_fen"]) == (180, 10_175)  # 180 kWh × 0.5653
    assert [r["reading"] for r in detail["readings"]] == [1000, 1180]
    assert len(detail["schedules"]) == 2

    await desk.pay("acc-prop", "h-301", 15_000)  # booked on 2 November
    today = await _arrears(client, "h-301", "property_fee", "2026-11-02")
    assert (today["billed_fen"], today["paid_fen"], today["outstanding_fen"]) == (26_812, 15_000, 11_812)
    assert [(line["bill_id"], line["paid_fen"]) for line in today["lines"]] == [
        ("pf-2026-09", 13_406),
        ("pf-2026-10", 1_594),
    ]
    assert today["buckets"]["0-30"] == 11_812 and today["arrears_fen"] == 11_812  # October's was due on the 31st
    later = await _arrears(client, "h-301", "property_fee", "2026-12-15")
    assert later["buckets"]["31-90"] == 11_812
    # As of mid-October: only September's bill existed (bills are issued on 2 November), and nothing was paid yet.
    earlier = await _arrears(client, "h-301", "property_fee", "2026-10-15")
    assert [line["bill_id"] for line in earlier["lines"]] == []  # issued later: not yet a bill then
    assert earlier["paid_fen"] == 0
    # The electricity bill is paid from the electricity account, not from the property fee one.
    assert (await _arrears(client, "h-301", "electricity", "2026-11-02"))["outstanding_fen"] == 10_175

    await _post(client, "/households/h-301/bills/pf-2026-10/cancel", {"reason": "面积登记有误"})
    corrected = await _arrears(client, "h-301", "property_fee", "2026-11-02")
    assert (corrected["billed_fen"], corrected["credit_fen"], corrected["arrears_fen"]) == (13_406, 1_594, 0)
    compound = ok(await client.get(f"/compounds/{COMPOUND}/arrears", params={"purpose": "property_fee"},
                                   headers=as_role("finance")))  # fmt: skip
    assert [a["household_id"] for a in compound] == ["h-301", "h-302"]
    listed = ok(await client.get("/households", params={"compound_id": COMPOUND}, headers=as_role("auditor")))
    assert [h["household_id"] for h in listed] == ["h-301", "h-302"]
    problem(await client.get("/households/h-999/arrears?purpose=water", headers=as_role("auditor")), 404)


async def test_arrears_allocated_by_meter_readings(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-elec")
    for household, (september, october) in {"h-301": (1_000, 1_300), "h-302": (500, 600)}.items():
        await desk.household(household)
        for period, reading in (("2026-09", september), ("2026-10", october)):
            body = {"purpose": "electricity", "period": period, "reading": reading}
            await _post(client, f"/households/{household}/meter-readings", body)
    await _post(client, "/handovers", {"compound_id": COMPOUND}, 201)
    vote = {"held_on": "2026-10-25", "eligible": 2, "in_favour": 2, "against": 0, "abstained": 0, "passed": True,
            "resolution_reference": "决议1"}  # fmt: skip
    await _post(client, f"/handovers/{COMPOUND}/owners-vote", vote)
    confirmed = {"amount_fen": 40_000, "creditor": POWER_COMPANY, "master_meter_number": "M0",
                 "confirmation_reference": "确认17", "as_of": "2026-10-31"}  # fmt: skip
    await _post(client, f"/handovers/{COMPOUND}/arrears", confirmed)
    missing = await client.post(
        f"/handovers/{COMPOUND}/allocation", json={"rule": "by_meter_reading"}, headers=as_role("finance")
    )
    problem(missing, 422)  # which readings?
    allocated = await _post(
        client,
        f"/handovers/{COMPOUND}/allocation",
        {"rule": "by_meter_reading", "readings_from": "2026-09", "readings_to": "2026-10"},
    )
    breakdown = {h["household_id"]: (h["basis"], h["share_fen"]) for h in allocated["household_breakdown"]}
    assert breakdown == {"h-301": (300, 30_000), "h-302": (100, 10_000)}
    assert allocated["allocation_rule"] == "by_meter_reading"
