"""The mediation service running for real: its relay publishing to a real nats-server, its consumers reading the
COMPLAINTS and ESCROW streams from it.

Test modules cannot import each other (pytest's importlib mode), so helpers are handed out as fixtures or live here.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg

from jinlin.events.envelope import CONTENT_TYPE
from jinlin.messaging import connect_nats
from jinlin.runtime.nats_server import NatsServer
from mediation.application.context import MediationContext
from mediation.bootstrap import build_store, create_app

from ..conftest import DOCS, Desk, FakeClock, settings_for

MEDIATION_STREAM = "MEDIATION"


@dataclass
class Live:
    client: httpx.AsyncClient
    context: MediationContext
    js: JetStreamContext
    desk: Desk


StartService = Callable[..., AbstractAsyncContextManager[Live]]
Eventually = Callable[..., Awaitable[None]]


async def eventually(condition: Callable[[], Awaitable[bool]], *, timeout: float = 20.0, what: str = "it") -> None:
    """Poll until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await connect_nats(nats_server.url, name="mediation-test", first_connect_timeout=10)
    yield client
    await client.close()


@pytest.fixture
def start_service(nats_server: NatsServer, nc: Client, staff_env: None, clock: FakeClock) -> StartService:
    """``async with start_service(database_url) as live``: the app with its relay and consumers, on a real NATS."""

    @asynccontextmanager
    async def start(database_url: str) -> AsyncIterator[Live]:
        settings = settings_for(
            database_url, nats_url=nats_server.url, relay_enabled=True, consumers_enabled=True, log_level="debug"
        )
        context = MediationContext(store=build_store(database_url), clock=clock)
        app = create_app(settings, context)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mediation.test") as client:
                yield Live(client, context, nc.jetstream(), Desk(client, context, clock))

    return start


async def stream_messages(js: JetStreamContext, stream: str) -> list[RawStreamMsg]:
    """Every message of a stream, in order."""
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    return [await js.get_msg(stream, seq=seq) for seq in range(info.state.first_seq, info.state.last_seq + 1)]


async def all_published(live: Live) -> None:
    async def published() -> bool:
        try:
            info = await live.js.stream_info(MEDIATION_STREAM)
        except Exception:
            return False
        return bool(info.state.last_seq == await live.context.store.last_sequence())

    await eventually(published, what="the relay publishing every committed event")


async def publish(js: JetStreamContext, subject: str, event: dict[str, Any] | bytes, msg_id: str | None = None) -> int:
    """Publish as a service's relay does (structured CloudEvent, its id as Nats-Msg-Id); the stream sequence."""
    body = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
    headers = {"Content-Type": CONTENT_TYPE}
    if msg_id or isinstance(event, dict):
        headers["Nats-Msg-Id"] = msg_id or str(event["id"])  # type: ignore[index]
    ack = await js.publish(subject, body, headers=headers)
    return int(ack.seq)


async def consumed_up_to(js: JetStreamContext, stream: str, durable: str, sequence: int) -> bool:
    try:
        info = await js.consumer_info(stream, durable)
    except Exception:
        return False
    return info.ack_floor.stream_seq >= sequence and not info.num_ack_pending and not info.num_pending


def mediation_validators(event_name: str) -> tuple[Draft202012Validator, Draft202012Validator]:
    """The published envelope schema and the schema of one mediation event's data (from docs/events)."""
    envelope = Draft202012Validator(json.loads((DOCS / "cloudevent.schema.json").read_text()))
    data = Draft202012Validator(json.loads((DOCS / "mediation" / f"{event_name}.v1.schema.json").read_text()))
    return envelope, data
