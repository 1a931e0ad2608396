"""The direct-supply electricity handover of Jinyuan Huating, end to end over HTTP: the owners vote, the escrow
account is opened, the power company confirms the arrears, they are allocated by floor area, residents pay in, the
arrears are paid from escrow (recording ``ArrearsPaid`` in the same transaction), meters are installed and supplies
switched, the facilities transferred, the handover completed."""

import json
from typing import Any

import httpx
from sqlalchemy import select

from billing_escrow.application.context import EscrowContext
from jinlin.store.schema import events

from ..conftest import ARREARS_CONDITION, COMPOUND, POWER_COMPANY, Desk, Running, as_role, event_types, ok, problem

HOUSEHOLDS = {"h-301": 9_000, "h-302": 12_000, "h-401": 9_000}  # floor areas in dm²: 90, 120, 90 m²
ARREARS = 90_001


async def _step(client: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(ok(await client.post(f"/handovers/{COMPOUND}/{path}", json=body, headers=as_role("finance"))))


async def _milestones(client: httpx.AsyncClient) -> dict[str, bool]:
    detail = ok(await client.get(f"/handovers/{COMPOUND}", headers=as_role("notary")))
    return {m["name"]: m["done"] for m in detail["milestones"]}


async def _stored(context: EscrowContext, stream: str, type_suffix: str) -> list[dict[str, Any]]:
    query = select(events.c.id, events.c.type, events.c.data, events.c.causationid).where(events.c.stream == stream)
    async with context.store.engines.reader.connect() as conn:
        rows = (await conn.execute(query.order_by(events.c.sequence))).all()
    return [
        {"id": row.id, "data": json.loads(row.data), "causationid": row.causationid}
        for row in rows
        if row.type.endswith(type_suffix)
    ]


async def _prepared(client: httpx.AsyncClient, desk: Desk) -> None:
    """Households registered, the electricity account active, the handover allocated and the money paid in."""
    await desk.active_account("acc-elec")
    for household, area in HOUSEHOLDS.items():
        await desk.household(household, floor_area_dm2=area)
    started = ok(await client.post("/handovers", json={"compound_id": COMPOUND}, headers=as_role("finance")), 201)
    assert (started["stage"], started["households"]) == ("started", 3)
    vote = {
        "held_on": "2026-10-25",
        "eligible": 3,
        "in_favour": 3,
        "against": 0,
        "abstained": 0,
        "passed": True,
        "resolution_reference": "金园华庭业主大会决议〔2026〕1号",
    }
    assert (await _step(client, "owners-vote", vote))["stage"] == "owners_voted"
    assert (await _step(client, "escrow", {"account_id": "acc-elec"}))["escrow_account_id"] == "acc-elec"
    confirmed = {
        "amount_fen": ARREARS,
        "creditor": POWER_COMPANY,
        "master_meter_number": "TC-0093-MASTER",
        "confirmation_reference": "国网天长〔2026〕欠费确认第17号",
        "as_of": "2026-10-31",
    }
    assert (await _step(client, "arrears", confirmed))["arrears_total_fen"] == ARREARS
    allocated = await _step(client, "allocation", {"rule": "by_floor_area"})  # the registered floor areas
    shares = {h["household_id"]: h["share_fen"] for h in allocated["household_breakdown"]}
    # 90 001 fen by 90:120:90 m²: 27 000.3, 36 000.4, 27 000.3; the one fen left goes to the largest remainder.
    assert shares == {"h-301": 27_000, "h-302": 36_001, "h-401": 27_000}
    assert sum(shares.values()) == ARREARS
    for household, share in shares.items():
        await desk.pay("acc-elec", household, share)


async def test_the_handover_end_to_end(service: Running, desk: Desk) -> None:
    client, context = service
    await _prepared(client, desk)
    assert (await _milestones(client))["arrears_paid"] is False

    # Switching before the arrears are paid is refused.
    await _step(client, "meters", {"household_id": "h-301", "meter_number": "M-301"})
    early = await client.post(
        f"/handovers/{COMPOUND}/switches", json={"household_id": "h-301"}, headers=as_role("finance")
    )
    assert "arrears" in problem(early, 409)["detail"]

    ok(await desk.request_disbursement("acc-elec", "d-arrears", ARREARS, condition=ARREARS_CONDITION), 201)
    executed = await desk.signed_and_executed("acc-elec", "d-arrears")
    assert executed["account"]["held_fen"] == 0

    handover = ok(await client.get(f"/handovers/{COMPOUND}", headers=as_role("auditor")))
    assert (handover["stage"], handover["arrears_paid_fen"], handover["arrears_paid_percent"]) == (
        "arrears_paid",
        ARREARS,
        100,
    )
    assert handover["payments"] == [
        {
            "account_id": "acc-elec",
            "disbursement_id": "d-arrears",
            "amount_fen": ARREARS,
            "paid_on": executed["disbursement"]["executed_on"],
            "bank_reference": "ICBC-OUT-0001",
        }
    ]
    # ArrearsPaid was recorded in the execution's transaction, caused by the DisbursementExecuted event.
    [executed_event] = await _stored(context, "account.acc-elec", ".DisbursementExecuted.v1")
    [paid] = await _stored(context, f"handover.{COMPOUND}", ".ArrearsPaid.v1")
    assert paid["causationid"] == executed_event["id"]
    assert paid["data"] | {"compound_id": COMPOUND, "fully_paid": True} == paid["data"]
    assert (paid["data"]["amount_fen"], paid["data"]["payee"]["payee_id"]) == (ARREARS, POWER_COMPANY["payee_id"])
    types = await event_types(context)
    assert types.index("ArrearsPaid") == types.index("DisbursementExecuted") + 1

    for household in HOUSEHOLDS:
        await _step(client, "meters", {"household_id": household, "meter_number": f"M-{household[-3:]}"})
        progress = await _step(client, "switches", {"household_id": household})
    assert (progress["supply_switched"], progress["supply_switched_percent"]) == (3, 100)
    problem(await client.post(f"/handovers/{COMPOUND}/complete", headers=as_role("finance")), 409)  # no facilities yet
    await _step(client, "facilities", {"transfer_reference": "配电设施移交书 2026-11"})
    completed = await _step(client, "complete")
    assert completed["complete"] is True and completed["stage"] == "completed"
    assert all((await _milestones(client)).values())
    breakdown = {h["household_id"]: h for h in completed["household_breakdown"]}
    assert breakdown["h-302"]["meter_number"] == "M-302" and breakdown["h-302"]["switched_at"]
    assert ok(await client.get("/handovers", headers=as_role("auditor")))[0]["complete"] is True
    # Nothing is recorded after completion.
    problem(await client.post(f"/handovers/{COMPOUND}/meters", json={"household_id": "h-301", "meter_number": "X"},
                              headers=as_role("finance")), 409)  # fmt: skip


async def test_an_arrears_payment_the_handover_cannot_take_is_not_paid_out(service: Running, desk: Desk) -> None:
    client, context = service
    await _prepared(client, desk)
    # Refused at once: another payee, or more than the arrears.
    other_payee = {"payee_id": "jinyuan-property", "name": "金园物业"}
    wrong = await desk.request_disbursement("acc-elec", "d-x", 1_000, condition=ARREARS_CONDITION, payee=other_payee)
    assert "creditor" in problem(wrong, 409)["detail"]
    too_much = await desk.request_disbursement("acc-elec", "d-y", ARREARS + 1, condition=ARREARS_CONDITION)
    problem(too_much, 409)

    # Requests that each fit the arrears but not all together: the last execution is refused as a whole.
    await desk.pay("acc-elec", "h-301", 100)
    ok(await desk.request_disbursement("acc-elec", "d-1", 60_000, condition=ARREARS_CONDITION), 201)
    ok(await desk.request_disbursement("acc-elec", "d-2", 30_001, condition=ARREARS_CONDITION), 201)
    ok(await desk.request_disbursement("acc-elec", "d-3", 1, condition=ARREARS_CONDITION), 201)
    await desk.signed_and_executed("acc-elec", "d-1")
    await desk.signed_and_executed("acc-elec", "d-2")
    for role, staff in (("center_finance", "finance-2"), ("notary", "notary")):
        ok(await desk.sign("acc-elec", "d-3", role, staff))
    before = await desk.account("acc-elec")
    refused = await desk.execute("acc-elec", "d-3")
    assert "outstanding" in problem(refused, 409)["detail"]
    after = await desk.account("acc-elec")
    assert after == before  # nothing was paid out: the account did not move
    d3 = ok(await client.get("/accounts/acc-elec/disbursements/d-3", headers=as_role("finance")))
    assert d3["status"] == "pending"
    assert len(await _stored(context, f"handover.{COMPOUND}", ".ArrearsPaid.v1")) == 2
    ok(await client.post("/accounts/acc-elec/disbursements/d-3/void", json={"reason": "欠费已付清"},
                         headers=as_role("finance") | {"Idempotency-Key": "void-d3"}))  # fmt: skip
    assert (await desk.account("acc-elec"))["available_fen"] == 100


async def test_the_escrow_of_a_handover_is_the_compounds_electricity_account(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-water", purpose="water")
    await desk.household("h-301")
    ok(await client.post("/handovers", json={"compound_id": COMPOUND}, headers=as_role("finance")), 201)
    again = await client.post("/handovers", json={"compound_id": COMPOUND}, headers=as_role("finance"))
    assert again.status_code == 200
    failed_vote = {
        "held_on": "2026-10-25", "eligible": 3, "in_favour": 1, "against": 2, "abstained": 0, "passed": False,
        "resolution_reference": "决议1",
    }  # fmt: skip
    await _step(client, "owners-vote", failed_vote)
    problem(await client.post(f"/handovers/{COMPOUND}/escrow", json={"account_id": "acc-water"},
                              headers=as_role("finance")), 422)  # fmt: skip
    await desk.active_account("acc-elec")
    not_voted = await client.post(
        f"/handovers/{COMPOUND}/escrow", json={"account_id": "acc-elec"}, headers=as_role("finance")
    )
    assert "voted" in problem(not_voted, 409)["detail"]
    problem(await client.get("/handovers/nowhere", headers=as_role("finance")), 404)
