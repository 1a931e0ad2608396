"""The expiry watcher releases each overdue payment out exactly once, and a restart (a new process on the same
database) changes nothing. It runs as the service runtime's periodic job."""

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import httpx

from billing_escrow.application.context import EscrowContext
from jinlin.runtime.service_runtime import PeriodicJob

from ..conftest import Desk, FakeClock, Running, as_role, event_types, ok

Run = Callable[..., AbstractAsyncContextManager[Running]]


def _watcher(client: httpx.AsyncClient) -> PeriodicJob:
    app = client._transport.app  # type: ignore[attr-defined]
    (job,) = [job for job in app.state.runtime.jobs if job.name == "disbursement-expiry"]
    return job  # type: ignore[no-any-return]


async def _expired(context: EscrowContext) -> int:
    return (await event_types(context, "account.acc-water")).count("DisbursementExpired")


async def test_overdue_payments_out_expire_once_across_a_restart(
    database_url: str, run_service: Run, clock: FakeClock
) -> None:
    async with run_service(database_url) as (client, context):
        desk = Desk(client, clock)
        watcher = _watcher(client)
        await desk.active_account("acc-water", purpose="water")
        await desk.household("h-301")
        await desk.pay("acc-water", "h-301", 50_000)
        soon = clock.now + timedelta(hours=2)
        ok(await desk.request_disbursement("acc-water", "d-soon", 20_000, expires_at=soon), 201)
        ok(await desk.request_disbursement("acc-water", "d-paid", 10_000, expires_at=soon), 201)
        ok(await desk.request_disbursement("acc-water", "d-later", 5_000, expires_at=soon + timedelta(days=3)), 201)
        await desk.signed_and_executed("acc-water", "d-paid")  # executed in time: never expires
        assert await watcher.run_once() == 0  # nothing is due yet
        clock.advance(hours=2)  # exactly at expires_at: due
        assert await watcher.run_once() == 1
        assert await watcher.run_once() == 0
        account = await desk.account("acc-water")
        assert (account["held_fen"], account["reserved_fen"], account["available_fen"]) == (40_000, 5_000, 35_000)
        expired = ok(await client.get("/accounts/acc-water/disbursements/d-soon", headers=as_role("notary")))
        assert expired["status"] == "expired" and expired["missing_roles"] == []
        problem_sign = await desk.sign("acc-water", "d-soon", "notary", "notary")
        assert problem_sign.status_code == 409
        assert await _expired(context) == 1

    async with run_service(database_url) as (client, context):  # a restart: new process, same database
        watcher = _watcher(client)
        assert await watcher.run_once() == 0
        assert await _expired(context) == 1
        clock.advance(days=3)
        assert await watcher.run_once() == 1

    async with run_service(database_url) as (client, context), run_service(database_url) as (other, _):
        # Two replicas running the watcher together find nothing left to do.
        assert await _watcher(client).run_once() + await _watcher(other).run_once() == 0
        assert await _expired(context) == 2
        account = await Desk(client, clock).account("acc-water")
        assert (account["reserved_fen"], account["available_fen"], account["pending_disbursements"]) == (0, 40_000, 0)
        actors = await client.get("/disbursements", params={"status": "expired"}, headers=as_role("auditor"))
        assert [d["disbursement_id"] for d in ok(actors)] == ["d-soon", "d-later"]


async def test_replicas_racing_to_expire_record_one_expiry(
    database_url: str, run_service: Run, clock: FakeClock
) -> None:
    async with run_service(database_url) as (client, context), run_service(database_url) as (other, _):
        desk = Desk(client, clock)
        await desk.active_account("acc-water", purpose="water")
        await desk.household("h-301")
        await desk.pay("acc-water", "h-301", 50_000)
        for n in range(4):
            expires_at = clock.now + timedelta(hours=1)
            ok(await desk.request_disbursement("acc-water", f"d-{n}", 1_000, expires_at=expires_at), 201)
        clock.advance(hours=1)
        counts = await asyncio.gather(_watcher(client).run_once(), _watcher(other).run_once())
        assert sum(counts) == 4
        assert await _expired(context) == 4
