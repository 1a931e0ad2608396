"""A tiny service built with the HTTP kit, on a real SQLite store, for the web tests.

It files "things" (create, rename, read); ``knobs`` lets a test hold a command mid-transaction or make the
domain refuse one.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel, Field

from jinlin.events import DomainEvent, EventRegistry
from jinlin.metrics import ServiceMetrics
from jinlin.store import EventStore, Stream, Transaction, create_engines
from jinlin.web import (
    CommandResult,
    Problem,
    Readiness,
    Role,
    Staff,
    StaffDirectory,
    StaffEntry,
    command_docs,
    create_service_app,
    require_roles,
    run_command,
    store_reachable,
    versioned_response,
)

registry = EventRegistry("testing")


@registry.register
class ThingMade(DomainEvent):
    label: str


@registry.register
class ThingRelabelled(DomainEvent):
    label: str


@registry.register
class ThingNoted(DomainEvent):
    text: str


class NewThing(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    label: str = Field(min_length=1, max_length=40)


class Relabel(BaseModel):
    label: str = Field(min_length=1, max_length=40)


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=200)


class ThingView(BaseModel):
    id: str
    label: str
    receipt: str = Field(description="New on every execution: a replay must return the first one.")


TOKENS = {
    "intake": "intake-token-0000000000",
    "other-intake": "intake-token-1111111111",
    "handler": "handler-token-000000000",
    "auditor": "auditor-token-000000000",
}


@dataclass
class Knobs:
    """What a test can do to the service while it runs."""

    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    refused_labels: set[str] = field(default_factory=set)
    nats_connected: bool = True
    creations_attempted: int = 0


def things_router(store: EventStore, knobs: Knobs) -> APIRouter:
    router = APIRouter()

    @router.post("/things", status_code=201, response_model=ThingView, **command_docs())
    async def create_thing(
        body: NewThing, request: Request, staff: Annotated[Staff, Depends(require_roles(Role.INTAKE))]
    ) -> Response:
        async def handle(tx: Transaction) -> CommandResult:
            knobs.creations_attempted += 1
            await tx.append(Stream("thing", body.id), 0, [ThingMade(label=body.label)])
            if knobs.gate is not None:
                knobs.entered.set()
                await knobs.gate.wait()
            if body.label in knobs.refused_labels:
                raise Problem(409, "Label refused", f"{body.label!r} is not allowed.", slug="label-refused")
            view = ThingView(id=body.id, label=body.label, receipt=uuid.uuid4().hex)
            return CommandResult(view, headers={"Location": f"/things/{body.id}"})

        return await run_command(request, store, handle, actor=staff, scope="things.create", caseid=f"case-{body.id}")

    @router.post(
        "/things/{thing_id}/relabellings",
        status_code=200,
        response_model=ThingView,
        **command_docs(require_if_match=True),
    )
    async def relabel(
        thing_id: str,
        body: Relabel,
        request: Request,
        staff: Annotated[Staff, Depends(require_roles(Role.HANDLER))],
    ) -> Response:
        stream = Stream("thing", thing_id)

        async def handle(tx: Transaction) -> CommandResult:
            history = await tx.read_stream(stream)
            if not history:
                raise Problem(404, "No such thing", slug="thing-not-found")
            await tx.append(stream, len(history), [ThingRelabelled(label=body.label)])
            return CommandResult(ThingView(id=thing_id, label=body.label, receipt=uuid.uuid4().hex))

        return await run_command(
            request,
            store,
            handle,
            actor=staff,
            scope="things.relabel",
            stream=stream,
            require_if_match=True,
            status_code=200,
        )

    @router.post("/things/{thing_id}/notes", status_code=201, **command_docs(require_idempotency_key=True))
    async def note(
        thing_id: str, body: Note, request: Request, staff: Annotated[Staff, Depends(require_roles(Role.HANDLER))]
    ) -> Response:
        stream = Stream("thing", thing_id)

        async def handle(tx: Transaction) -> CommandResult:
            await tx.append(stream, await tx.stream_version(stream), [ThingNoted(text=body.text)])
            return CommandResult({"noted": True})

        return await run_command(
            request, store, handle, actor=staff, scope="things.note", stream=stream, require_idempotency_key=True
        )

    @router.get("/things/{thing_id}", response_model=ThingView)
    async def read_thing(
        thing_id: str, request: Request, _staff: Annotated[Staff, Depends(require_roles())]
    ) -> Response:
        history = await store.read_stream(Stream("thing", thing_id))
        if not history:
            raise Problem(404, "No such thing", slug="thing-not-found")
        view = ThingView(id=thing_id, label=history[-1].data["label"], receipt="-")
        return versioned_response(request, view, history[-1].envelope.streamversion)

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("internal secret: /srv/jinlin/credentials.json")

    return router


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[EventStore]:
    store = EventStore(create_engines(sqlite_url), registry)
    await store.create_schema()
    yield store
    await store.close()


@pytest.fixture
def knobs() -> Knobs:
    return Knobs()


@pytest.fixture
def metrics() -> ServiceMetrics:
    return ServiceMetrics()


@pytest.fixture
def app(store: EventStore, knobs: Knobs, metrics: ServiceMetrics) -> FastAPI:
    readiness = Readiness(timeout=0.2)
    readiness.add("store", store_reachable(store))

    async def nats_connected() -> bool:
        return knobs.nats_connected

    readiness.add("nats", nats_connected)
    staff = StaffDirectory(
        [
            StaffEntry(id="alice", roles=[Role.INTAKE], token=TOKENS["intake"]),
            StaffEntry(id="dave", roles=[Role.INTAKE], token=TOKENS["other-intake"]),
            StaffEntry(id="bob", roles=[Role.HANDLER, Role.SUPERVISOR], token=TOKENS["handler"]),
            StaffEntry(id="carol", roles=[Role.AUDITOR], token=TOKENS["auditor"]),
        ]
    )
    app = create_service_app(title="things", version="0", metrics=metrics, readiness=readiness, staff=staff)
    app.include_router(things_router(store, knobs))
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: like a real server, the client sees only what the app answered.
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://things.test") as client:
        yield client


@pytest.fixture
def auth() -> dict[str, dict[str, str]]:
    """Authorization headers per role: ``auth["intake"]``."""
    return {role: {"Authorization": f"Bearer {token}"} for role, token in TOKENS.items()}
