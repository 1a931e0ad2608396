"""A caller may name the case a command belongs to; its events then carry that case id."""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, Request, Response

from jinlin.events import DomainEvent, EventRegistry
from jinlin.store import EventStore, Stream, Transaction, create_engines
from jinlin.web import CommandResult, Staff, StaffDirectory, create_service_app, require_roles, run_command

registry = EventRegistry("testing")


@registry.register
class PaymentNoted(DomainEvent):
    n: int


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, EventStore]]:
    store = EventStore(create_engines(sqlite_url), registry)
    await store.create_schema()
    staff = StaffDirectory.from_json('[{"token": "finance-token-0123456789", "id": "f", "roles": ["finance"]}]')
    app = create_service_app(title="t", version="1", staff=staff)

    @app.post("/payments/{n}")
    async def pay(n: int, request: Request, who: Annotated[Staff, Depends(require_roles("finance"))]) -> Response:
        async def handle(tx: Transaction) -> CommandResult:
            await tx.append(Stream("account", "a1"), -1, [PaymentNoted(n=n)])
            return CommandResult({"n": n})

        return await run_command(request, store, handle, actor=who, scope="pay")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http, store
    await store.close()


AUTH = {"Authorization": "Bearer finance-token-0123456789"}


async def test_the_named_case_is_the_events_caseid(client: tuple[httpx.AsyncClient, EventStore]) -> None:
    http, store = client
    assert (await http.post("/payments/1", headers=AUTH | {"Jinlin-Case-Id": "case-jinyuan"})).status_code == 201
    assert (await http.post("/payments/2", headers=AUTH)).status_code == 201
    assert [e.envelope.caseid for e in await store.read_log()] == ["case-jinyuan", "a1"]


async def test_a_malformed_case_id_is_a_400_and_changes_nothing(client: tuple[httpx.AsyncClient, EventStore]) -> None:
    http, store = client
    response = await http.post("/payments/1", headers=AUTH | {"Jinlin-Case-Id": "Not A Case!"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await store.read_log() == []
