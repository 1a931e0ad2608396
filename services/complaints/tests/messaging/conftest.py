"""The complaints service running for real: its relay publishing to a real nats-server, its consumers reading from it.

Test modules cannot import each other (pytest's importlib mode), so helpers are handed out as fixtures.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from complaints.application.context import ComplaintsContext
from complaints.bootstrap import build_store, create_app
from complaints.domain import default_catalogue
from complaints.settings import ComplaintsSettings
from jinlin.messaging import connect_nats
from jinlin.runtime.nats_server import NatsServer

from ..conftest import FakeClock, as_role

COMPLAINTS_STREAM = "COMPLAINTS"


@dataclass
class Live:
    client: httpx.AsyncClient
    context: ComplaintsContext
    js: JetStreamContext


StartService = Callable[..., AbstractAsyncContextManager[Live]]
Eventually = Callable[..., Awaitable[None]]


async def _eventually(condition: Callable[[], Awaitable[bool]], *, timeout: float = 20.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


@pytest.fixture
def eventually() -> Eventually:
    """``await eventually(condition, timeout=..., what=...)``: poll until true, fail after the timeout."""
    return _eventually


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await connect_nats(nats_server.url, name="complaints-test", first_connect_timeout=10)
    yield client
    await client.close()


@pytest.fixture
def start_service(nats_server: NatsServer, nc: Client, staff_env: None, clock: FakeClock) -> StartService:
    """``async with start_service(database_url) as live``: the app with its relay and consumers, on a real NATS."""

    @asynccontextmanager
    async def start(database_url: str, *, consumers: bool = True) -> AsyncIterator[Live]:
        settings = ComplaintsSettings(
            database_url=database_url,
            nats_url=nats_server.url,
            relay_enabled=True,
            consumers_enabled=consumers,
            overdue_check_interval=3600,
            log_format="json",
            log_level="debug",
        )
        context = ComplaintsContext(store=build_store(database_url), catalogue=default_catalogue(), clock=clock)
        app = create_app(settings, context)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test") as client:
                yield Live(client, context, nc.jetstream())

    return start


async def _stream_messages(js: JetStreamContext, stream: str) -> list[RawStreamMsg]:
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    return [await js.get_msg(stream, seq=seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]


@pytest.fixture
def stream_messages() -> Callable[[JetStreamContext, str], Awaitable[list[RawStreamMsg]]]:
    """``await stream_messages(js, name)``: every message of a stream, in order."""
    return _stream_messages


async def _published(live: Live) -> bool:
    """Whether the COMPLAINTS stream holds every committed event."""
    try:
        info = await live.js.stream_info(COMPLAINTS_STREAM)
    except Exception:
        return False
    return bool(info.state.last_seq == await live.context.store.last_sequence())


@pytest.fixture
def all_published(eventually: Eventually) -> Callable[[Live], Awaitable[None]]:
    async def wait(live: Live) -> None:
        await eventually(lambda: _published(live), what="the relay publishing every committed event")

    return wait


async def _escalated_case(live: Live, body: dict[str, Any], case_id: str, count: int = 2) -> list[str]:
    """File ``count`` complaints, acknowledge them, link them into ``case_id`` and escalate the case."""
    client = live.client
    ids = []
    for _ in range(count):
        response = await client.post("/complaints", json=body, headers=as_role("intake"))
        assert response.status_code == 201, response.text
        complaint_id = response.json()["complaint_id"]
        for command, payload in (("acknowledge", {}), ("case", {"case_id": case_id})):
            answer = await client.post(
                f"/complaints/{complaint_id}/{command}", json=payload, headers=as_role("handler")
            )
            assert answer.status_code == 200, answer.text
        ids.append(complaint_id)
    parties = [
        {"role": "property_company", "organisation": "金园物业"},
        {"role": "resident", "person_name": "李四"},
    ]
    escalated = await client.post(
        f"/complaints/{ids[0]}/escalate",
        json={"reason": "物业与业主对电费分摊有争议", "parties": parties},
        headers=as_role("handler"),
    )
    assert escalated.status_code == 200, escalated.text
    assert sorted(view["complaint_id"] for view in escalated.json()["escalated"]) == sorted(ids)
    return ids


@pytest.fixture
def escalated_case() -> Callable[..., Awaitable[list[str]]]:
    """``await escalated_case(live, complaint_body(), case_id, count=2)``: the ids of the escalated complaints."""
    return _escalated_case
