"""Schemathesis over the mediation OpenAPI document, through ASGI: no answer is a 5xx, every answer is documented.

Every operation is called with examples generated from its schema (valid and invalid), as a supervisor (who may run
every command). Random case ids would only ever meet "no such case", so part of the calls are steered at two seeded
cases (one being mediated with a meeting, one whose agreement is in effect) and at their meeting, terms and parties,
to reach the domain's own refusals. ``/readyz`` is left out: with no NATS server here its ``503`` is the right answer.
A supervisor's token only meets ``403`` on a party's routes, so those are fuzzed again with a party's token (of a
party invited to the seeded meeting).
"""

import asyncio
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis.python.asgi import shutdown_lifespans

from jinlin.testing.fuzz import fuzz_every_operation, report
from jinlin.web.staff import STAFF_TOKENS_ENV
from mediation.application.context import MediationContext
from mediation.bootstrap import build_store, create_app

from ..conftest import STAFF, Desk, FakeClock, as_role, settings_for

SEEDED = {"case_id": ("fuzz-mediating", "fuzz-agreed"), "meeting_id": ("meeting-1",),
          "term_id": ("t-arrears", "t-meters"), "party_id": ("party-1", "party-4")}  # fmt: skip


async def _seed(database_url: str, clock: FakeClock) -> str:
    """The seeded cases; returns the token of party-1 of the case being mediated."""
    context = MediationContext(store=build_store(database_url), clock=clock)
    app = create_app(settings_for(database_url, log_level="warning"), context)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        desk = Desk(client, context, clock)
        await desk.accepted("fuzz-mediating")
        starts = clock.now + timedelta(days=1)
        ends = starts + timedelta(hours=1)
        meeting = {"place": "服务站", "starts_at": starts.isoformat(), "ends_at": ends.isoformat(), "agenda": ["议程"]}
        await desk.post("fuzz-mediating", "/meetings", meeting)
        await desk.post("fuzz-mediating", "/meetings/meeting-1/invitations", {"party_ids": ["party-1"]})
        await desk.agreed("fuzz-agreed")
        access = "/cases/fuzz-mediating/parties/party-1/access"
        granted = await client.post(access, json={}, headers=as_role("mediator"))
        token: str = granted.json()["token"]
        return token


@dataclass(frozen=True)
class Seeded:
    database_url: str
    clock: FakeClock
    party_token: str


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'store.sqlite3'}"
    clock = FakeClock()
    previous = os.environ.get(STAFF_TOKENS_ENV)
    os.environ[STAFF_TOKENS_ENV] = json.dumps(STAFF)
    try:
        return Seeded(database_url, clock, asyncio.run(_seed(database_url, clock)))
    finally:
        if previous is None:
            del os.environ[STAFF_TOKENS_ENV]
        else:
            os.environ[STAFF_TOKENS_ENV] = previous


@pytest.fixture
def mediation_api(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> Iterator[schemathesis.schemas.BaseSchema]:
    """A fresh app on the seeded store for each test: schemathesis ends an app's lifespan with the test that
    started it, and an app's lifespan runs once."""
    monkeypatch.setenv(STAFF_TOKENS_ENV, json.dumps(STAFF))
    context = MediationContext(store=build_store(seeded.database_url), clock=seeded.clock)
    app = create_app(settings_for(seeded.database_url, log_level="warning"), context)
    yield schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/readyz")
    shutdown_lifespans()  # schemathesis runs the app's lifespan; stop it (and close its store) now


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]
EXAMPLES = 6


def _steer(case: schemathesis.Case) -> None:
    """Two calls in three go to the seeded case and its items, chosen from the generated input (deterministic)."""
    parameters = case.path_parameters or {}
    if not set(parameters) & set(SEEDED):
        return
    pick = zlib.crc32(repr((case.operation.label, parameters, case.body)).encode())
    if pick % 3 == 0:
        return
    for name, choices in SEEDED.items():
        if name in parameters:
            parameters[name] = choices[pick % len(choices)]


def test_every_answer_is_documented_and_none_is_a_server_error(mediation_api: schemathesis.schemas.BaseSchema) -> None:
    count, failures = fuzz_every_operation(
        mediation_api, headers=as_role("supervisor"), checks=CHECKS, examples=EXAMPLES, prepare=_steer
    )
    assert count >= 35
    assert failures == {}, report(failures)


def test_a_partys_routes_answer_a_party_as_documented(
    mediation_api: schemathesis.schemas.BaseSchema, seeded: Seeded
) -> None:
    count, failures = fuzz_every_operation(
        mediation_api.include(path_regex="^/party/"),
        headers={"Authorization": f"Bearer {seeded.party_token}"},
        checks=CHECKS,
        examples=EXAMPLES,
        prepare=_steer,
    )
    assert count == 4
    assert failures == {}, report(failures)


def test_the_fuzzed_document_has_every_command_and_query(tmp_path: Path) -> None:
    """Guards the fuzz test against passing vacuously on an empty or truncated document."""
    url = f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}"
    app = create_app(settings_for(url, log_level="warning"), MediationContext(store=build_store(url)))
    paths = app.openapi()["paths"]
    assert {
        "/cases",
        "/cases/{case_id}/agreement/signatures",
        "/cases/{case_id}/obligations/{term_id}/fulfil",
        "/cases/{case_id}/agreement.html",
        "/cases/{case_id}/agreement.pdf",
        "/cases/{case_id}/record.pdf",
        "/cases/{case_id}/parties/{party_id}/access",
        "/cases/{case_id}/parties/{party_id}/access/{access_id}/revoke",
        "/party/case",
        "/party/case/agreement.pdf",
        "/party/case/meetings/{meeting_id}/rsvp",
        "/meetings/upcoming",
        "/obligations",
        "/statistics",
    } <= set(paths)
    assert len(paths) >= 35
