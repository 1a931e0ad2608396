"""Schemathesis over the billing-escrow OpenAPI document, through ASGI: no answer is a 5xx, every answer is documented.

Every operation is called with examples generated from its schema (valid and invalid) by a staff member holding the
finance, supervisor and notary roles, on a store that already holds an account, households, a payment out, a
handover and a statement, so that generated calls meet real state as well as unknown ids. ``/readyz`` is left out:
with no NATS server here its documented ``503`` is the right answer.
"""

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis.python.asgi import shutdown_lifespans

from billing_escrow.application.context import EscrowContext
from billing_escrow.bootstrap import build_store, create_app
from jinlin.testing.fuzz import fuzz_every_operation, report
from jinlin.web.staff import STAFF_TOKENS_ENV

from ..conftest import STAFF, Desk, FakeClock, as_role, ok, settings_for

EXAMPLES = 6


def _seed(database_url: str, key_file: Path) -> None:
    """Real state for the fuzzer to meet: written by the service itself, in a thread of its own."""

    async def seed() -> None:
        clock = FakeClock()
        context = EscrowContext(store=build_store(database_url), clock=clock, signing_key_file=key_file)
        app = create_app(settings_for(database_url), context)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://escrow.test") as client:
                desk = Desk(client, clock)
                await desk.active_account("acc-elec")
                await desk.household("h-301")
                await desk.pay("acc-elec", "h-301", 10_000)
                ok(await desk.request_disbursement("acc-elec", "d-1", 1_000), 201)
                ok(
                    await client.post(
                        "/handovers", json={"compound_id": "jinyuan-huating"}, headers=as_role("finance")
                    ),
                    201,
                )
                clock.advance(days=1)
                statement = {"kind": "on_demand", "period_start": "2026-11-02", "period_end": "2026-11-02"}
                ok(await client.post("/accounts/acc-elec/statements", json=statement, headers=as_role("notary")), 201)

    thread = threading.Thread(target=asyncio.run, args=(seed(),))
    thread.start()
    thread.join()


@pytest.fixture(scope="module")
def escrow_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.schemas.BaseSchema]:
    folder = tmp_path_factory.mktemp("fuzz")
    database_url = f"sqlite+aiosqlite:///{folder / 'store.sqlite3'}"
    previous = os.environ.get(STAFF_TOKENS_ENV)
    os.environ[STAFF_TOKENS_ENV] = json.dumps(STAFF)
    try:
        _seed(database_url, folder / "key.pem")
        clock = FakeClock()
        clock.now = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
        context = EscrowContext(store=build_store(database_url), clock=clock, signing_key_file=folder / "key.pem")
        app = create_app(settings_for(database_url), context)
    finally:
        if previous is None:
            del os.environ[STAFF_TOKENS_ENV]
        else:
            os.environ[STAFF_TOKENS_ENV] = previous
    yield schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/readyz")
    shutdown_lifespans()  # schemathesis runs the app's lifespan; stop it (and close its store) now


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


def test_every_answer_is_documented_and_none_is_a_server_error(escrow_api: schemathesis.schemas.BaseSchema) -> None:
    count, failures = fuzz_every_operation(escrow_api, headers=as_role("everything"), checks=CHECKS, examples=EXAMPLES)
    assert count >= 40
    assert failures == {}, report(failures)


def test_the_fuzzed_document_has_every_part_of_the_api(tmp_path: Path) -> None:
    """Guards the fuzz test against passing vacuously on an empty or truncated document."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}"
    app = create_app(settings_for(database_url), EscrowContext(store=build_store(database_url)))
    paths = app.openapi()["paths"]
    assert {
        "/accounts/{account_id}/payments",
        "/accounts/{account_id}/disbursements/{disbursement_id}/signatures",
        "/households/{household_id}/bills",
        "/handovers/{compound_id}/allocation",
        "/statements/{statement_id}.{form}",
        "/disbursements",
    } <= set(paths)
    money_operation = paths["/accounts/{account_id}/payments"]["post"]
    key = next(p for p in money_operation["parameters"] if p["name"] == "Idempotency-Key")
    assert "Required" in key["description"]
