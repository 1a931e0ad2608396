"""The overdue watcher marks each deadline once, and a restart (a new process on the same database) changes nothing."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from complaints.application.context import ComplaintsContext
from complaints.bootstrap import build_store, create_app
from complaints.domain import default_catalogue
from complaints.settings import ComplaintsSettings
from jinlin.runtime.service_runtime import PeriodicJob

from ..conftest import FakeClock, FileBody, as_role

Running = tuple[httpx.AsyncClient, PeriodicJob]


@pytest.fixture
def run_service(
    database_url: str, staff_env: None, clock: FakeClock
) -> Callable[[], AbstractAsyncContextManager[Running]]:
    """One "process" of the service: a fresh context and store on the same database, its runtime's watcher job."""

    @asynccontextmanager
    async def run() -> AsyncIterator[Running]:
        settings = ComplaintsSettings(
            database_url=database_url,
            nats_url="nats://127.0.0.1:1",
            relay_enabled=False,
            consumers_enabled=False,
            overdue_check_interval=3600,  # the job's own loop stays asleep: the test runs the passes
            log_format="json",
        )
        context = ComplaintsContext(store=build_store(database_url), catalogue=default_catalogue(), clock=clock)
        app = create_app(settings, context)
        (watcher,) = [job for job in app.state.runtime.jobs if job.name == "overdue-watcher"]
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test") as client:
                yield client, watcher

    return run


async def overdue_marks(client: httpx.AsyncClient, complaint_id: str) -> list[dict[str, Any]]:
    detail = (await client.get(f"/complaints/{complaint_id}", headers=as_role("supervisor"))).json()
    return [entry["data"] for entry in detail["history"] if entry["type"].endswith(".ComplaintMarkedOverdue.v1")]


async def test_overdue_is_marked_once_per_deadline_across_a_restart(
    run_service: Callable[[], AbstractAsyncContextManager[Running]], clock: FakeClock, complaint_body: FileBody
) -> None:
    async with run_service() as (client, watcher):
        complaint_id = (await client.post("/complaints", json=complaint_body(), headers=as_role("intake"))).json()[
            "complaint_id"
        ]
        also_late = (await client.post("/complaints", json=complaint_body(), headers=as_role("intake"))).json()
        assert await client.post(f"/complaints/{complaint_id}/acknowledge", headers=as_role("intake"))
        assert await watcher.run_once() == 0  # nothing is late yet
        clock.advance(days=7, minutes=1)  # the general rule: 7 days
        filed_later = (await client.post("/complaints", json=complaint_body(), headers=as_role("intake"))).json()
        assert await watcher.run_once() == 2  # the two filed at the start
        assert await watcher.run_once() == 0
        marks = await overdue_marks(client, complaint_id)
        assert [mark["deadline_number"] for mark in marks] == [1]
        assert len(await overdue_marks(client, also_late["complaint_id"])) == 1
        assert await overdue_marks(client, filed_later["complaint_id"]) == []

    filed_at = clock.now - timedelta(days=7, minutes=1)

    async with run_service() as (client, watcher):  # a restart: new process, same database
        assert await watcher.run_once() == 0
        assert len(await overdue_marks(client, complaint_id)) == 1
        # An approved extension is a new deadline, which may be marked once in its turn.
        new_due = clock.now + timedelta(days=3)
        asked = await client.post(
            f"/complaints/{complaint_id}/extension-requests",
            json={"reason": "等待配件", "requested_due_at": new_due.isoformat()},
            headers=as_role("handler"),
        )
        assert asked.status_code == 200, asked.text
        approved = await client.post(
            f"/complaints/{complaint_id}/extension-requests/approve", json={}, headers=as_role("supervisor")
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["deadline_number"] == 2 and approved.json()["overdue"] is False
        assert await watcher.run_once() == 0
        clock.advance(days=3, seconds=1)
        assert await watcher.run_once() == 1
        assert await watcher.run_once() == 0

    async with run_service() as (client, watcher):
        assert await watcher.run_once() == 0
        marks = await overdue_marks(client, complaint_id)
        assert [(mark["deadline_number"], datetime.fromisoformat(mark["due_at"])) for mark in marks] == [
            (1, filed_at + timedelta(days=7)),
            (2, new_due),
        ]
        stats = (await client.get("/statistics", headers=as_role("supervisor"))).json()["total"]
        assert (stats["received"], stats["overdue"]) == (3, 2)
