"""The overdue watcher marks each obligation's due instant once: across a restart (a new process on the same
database), with two replicas running at once, and again once for a new due instant the parties agreed."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from jinlin.runtime.service_runtime import PeriodicJob
from mediation.application.context import MediationContext
from mediation.bootstrap import build_store, create_app

from ..conftest import Desk, FakeClock, as_role, settings_for

Running = tuple[httpx.AsyncClient, MediationContext, PeriodicJob]


@pytest.fixture
def run_service(
    database_url: str, staff_env: None, clock: FakeClock
) -> Callable[[], AbstractAsyncContextManager[Running]]:
    """One "process" of the service: a fresh context and store on the same database, its runtime's watcher job."""

    @asynccontextmanager
    async def run() -> AsyncIterator[Running]:
        context = MediationContext(store=build_store(database_url), clock=clock)
        app = create_app(settings_for(database_url), context)
        (watcher,) = [job for job in app.state.runtime.jobs if job.name == "overdue-watcher"]
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mediation.test") as client:
                yield client, context, watcher

    return run


async def overdue_marks(client: httpx.AsyncClient, case_id: str) -> list[dict[str, Any]]:
    detail = (await client.get(f"/cases/{case_id}", headers=as_role("auditor"))).json()
    return [entry for entry in detail["history"] if entry["type"].endswith(".ObligationMarkedOverdue.v1")]


async def test_each_due_instant_is_marked_once_across_restarts(
    run_service: Callable[[], AbstractAsyncContextManager[Running]], clock: FakeClock
) -> None:
    async with run_service() as (client, context, watcher):
        desk = Desk(client, context, clock)
        await desk.agreed("case-late")  # arrears due in 10 days, meters in 40
        await desk.agreed("case-settled")
        await desk.post("case-settled", "/obligations/t-arrears/fulfil", {"evidence": "结清证明"})
        assert await watcher.run_once() == 0
        clock.advance(days=10)
        assert await watcher.run_once() == 0  # due at this very instant is not late yet
        clock.advance(seconds=1)
        assert await watcher.run_once() == 1
        assert await watcher.run_once() == 0
        marks = await overdue_marks(client, "case-late")
        assert [(m["data"]["term_id"], m["data"]["obligor"], m["actor"]) for m in marks] == [
            ("t-arrears", "party-1", "system:overdue-watcher")
        ]
        assert marks[0]["causationid"].startswith("overdue:case-late:t-arrears:")
        assert await overdue_marks(client, "case-settled") == []
        board = (await client.get("/cases", headers=as_role("mediator"))).json()["items"]
        assert (board[0]["case_id"], board[0]["overdue_obligations"]) == ("case-late", 1)
    arrears_due = clock.now - timedelta(seconds=1)

    async with run_service() as (client, _context, watcher):  # a restart: a new process, the same database
        assert await watcher.run_once() == 0
        new_due = clock.now + timedelta(days=5)
        extended = await client.post(
            "/cases/case-late/obligations/t-arrears/extend",
            json={"due_at": new_due.isoformat(), "reason": "监管账户资金到位延迟"},
            headers=as_role("mediator"),
        )
        assert extended.status_code == 200, extended.text
        assert await watcher.run_once() == 0
        clock.advance(days=5, seconds=1)
        assert await watcher.run_once() == 1

    async with run_service() as (client, _context, watcher):
        assert await watcher.run_once() == 0
        marks = await overdue_marks(client, "case-late")
        assert [datetime.fromisoformat(m["data"]["due_at"]) for m in marks] == [arrears_due, new_due]


async def test_two_replicas_running_at_once_mark_each_obligation_once(
    run_service: Callable[[], AbstractAsyncContextManager[Running]], clock: FakeClock
) -> None:
    async with run_service() as (client, context, first):
        desk = Desk(client, context, clock)
        for number in range(4):
            await desk.agreed(f"case-{number}")
        clock.advance(days=41)  # both obligations of every case are late
        # A second replica starts (its runtime runs a pass at once, in the background) while this one runs two
        # passes at once: a pass that meets another's change skips it, and a later pass picks it up.
        async with run_service() as (_other_client, _other_context, second):
            await asyncio.gather(first.run_once(), second.run_once(), first.run_once())
            for _ in range(5):
                if not await second.run_once() + await first.run_once():
                    break
        assert await first.run_once() == 0
        log = await context.store.read_log()
        assert sum(event.type.endswith(".ObligationMarkedOverdue.v1") for event in log) == 8
        for number in range(4):
            marks = await overdue_marks(client, f"case-{number}")
            assert sorted(m["data"]["term_id"] for m in marks) == ["t-arrears", "t-meters"]
