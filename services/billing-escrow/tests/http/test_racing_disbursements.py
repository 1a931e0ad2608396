"""Payments out racing for the same money, sent at once to two replicas of the service on one database: as many
succeed as the money covers, every other one gets a clean 409 problem, and no balance ever goes below zero."""

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

from ..conftest import POWER_COMPANY, WATER_CONDITION, Desk, FakeClock, Running, as_role, money, ok, problem


def _request(disbursement_id: str, amount_fen: int) -> dict[str, Any]:
    return {
        "disbursement_id": disbursement_id,
        "payee": POWER_COMPANY,
        "amount_fen": amount_fen,
        "condition": WATER_CONDITION,
        "evidence": ["发票 0001"],
    }


async def _never_negative(client: httpx.AsyncClient, account_id: str) -> dict[str, Any]:
    account = ok(await client.get(f"/accounts/{account_id}", headers=as_role("auditor")))
    balances = ok(await client.get(f"/accounts/{account_id}/balances", headers=as_role("auditor")))
    assert min(account["held_fen"], account["reserved_fen"], account["available_fen"]) >= 0
    assert balances["difference_fen"] == 0
    for line in balances["households"]:
        assert line["free_fen"] >= 0 and line["reserved_fen"] >= 0 and line["reconciled"], line
    return dict(account)


async def test_racing_requests_for_the_same_money(
    database_url: str, run_service: Callable[..., AbstractAsyncContextManager[Running]], clock: FakeClock
) -> None:
    async with run_service(database_url) as (first, _), run_service(database_url) as (second, _):
        desk = Desk(first, clock)
        await desk.active_account("acc-water", purpose="water")
        for household, amount in (("h-301", 40_000), ("h-302", 35_000), ("h-303", 25_000)):
            await desk.household(household)
            await desk.pay("acc-water", household, amount)

        # Seven requests of 30 000 fen for 100 000 fen: three fit, four must fail cleanly.
        replicas = [first, second]
        answers = await asyncio.gather(
            *(
                replicas[n % 2].post(
                    "/accounts/acc-water/disbursements", json=_request(f"d-{n}", 30_000), headers=money()
                )
                for n in range(7)
            )
        )
        won = [a for a in answers if a.status_code == 201]
        lost = [a for a in answers if a.status_code != 201]
        assert len(won) == 3, [a.text for a in answers]
        for answer in lost:
            body = problem(answer, 409)
            assert body["type"].endswith("/insufficient-funds"), body
            assert body["needed_fen"] == 30_000 and 0 <= body["available_fen"] < 30_000
        account = await _never_negative(second, "acc-water")
        assert (account["held_fen"], account["reserved_fen"], account["available_fen"]) == (100_000, 90_000, 10_000)
        pending = ok(await first.get("/disbursements", params={"status": "pending"}, headers=as_role("notary")))
        assert len(pending) == 3

        # Executing and voiding race too: each pending one is resolved exactly once.
        winner = won[0].json()["disbursement"]["disbursement_id"]
        ok(await Desk(second, clock).sign("acc-water", winner, "center_finance", "finance-2"))
        ok(await Desk(first, clock).sign("acc-water", winner, "notary", "notary"))
        url = f"/accounts/acc-water/disbursements/{winner}"
        outcomes = await asyncio.gather(
            first.post(f"{url}/execute", json={"bank_reference": "OUT-1"}, headers=money()),
            second.post(f"{url}/void", json={"reason": "作废"}, headers=money()),
        )
        assert sorted(o.status_code for o in outcomes) == [200, 409], [o.text for o in outcomes]
        [loser] = [o for o in outcomes if o.status_code == 409]
        assert problem(loser, 409)["type"].endswith("/invalid-transition")  # refused by the state, not a retry
        account = await _never_negative(first, "acc-water")
        held = 70_000 if outcomes[0].status_code == 200 else 100_000
        assert (account["held_fen"], account["reserved_fen"]) == (held, 60_000)

        # Each replica in turn acts on what the other just did (its own view of the account must catch up).
        for n in range(6):
            replica = replicas[n % 2]
            desk_n = Desk(replica, clock)
            await desk_n.pay("acc-water", "h-301", 1_000)
            assert (await desk_n.account("acc-water"))["held_fen"] == held + 1_000 * (n + 1)


async def test_the_same_request_sent_twice_at_once_reserves_once(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-water", purpose="water")
    await desk.household("h-301")
    await desk.pay("acc-water", "h-301", 50_000)
    answers = await asyncio.gather(
        *(
            client.post("/accounts/acc-water/disbursements", json=_request("d-1", 40_000), headers=money())
            for _ in range(5)
        )
    )
    assert sorted(a.status_code for a in answers).count(201) == 1, [a.text for a in answers]
    assert {a.status_code for a in answers} <= {200, 201}
    account = await _never_negative(client, "acc-water")
    assert (account["reserved_fen"], account["available_fen"]) == (40_000, 10_000)
