"""Schemathesis over the complaints OpenAPI document, through ASGI: no answer is a 5xx, every answer is documented.

Every operation is called with examples generated from its schema (valid and invalid), as a supervisor (who may run
nearly every command). ``/readyz`` is left out: with no NATS server here its documented ``503`` is the right answer.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.python.asgi import shutdown_lifespans

from complaints.application.context import ComplaintsContext
from complaints.bootstrap import build_store, create_app
from complaints.domain import default_catalogue
from complaints.settings import ComplaintsSettings
from jinlin.testing.fuzz import fuzz_every_operation, report
from jinlin.web.staff import STAFF_TOKENS_ENV

from ..conftest import STAFF, FakeClock, as_role


@pytest.fixture(scope="module")
def complaints_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.schemas.BaseSchema]:
    database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'store.sqlite3'}"
    settings_ = ComplaintsSettings(
        database_url=database_url,
        nats_url="nats://127.0.0.1:1",
        relay_enabled=False,
        consumers_enabled=False,
        overdue_check_interval=3600,
        log_format="json",
        log_level="warning",
    )
    context = ComplaintsContext(store=build_store(database_url), catalogue=default_catalogue(), clock=FakeClock())
    previous = os.environ.get(STAFF_TOKENS_ENV)
    os.environ[STAFF_TOKENS_ENV] = json.dumps(STAFF)
    try:
        app = create_app(settings_, context)
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
EXAMPLES = 8


def test_every_answer_is_documented_and_none_is_a_server_error(complaints_api: schemathesis.schemas.BaseSchema) -> None:
    count, failures = fuzz_every_operation(
        complaints_api, headers=as_role("supervisor"), checks=CHECKS, examples=EXAMPLES
    )
    assert count >= 25
    assert failures == {}, report(failures)


def test_the_fuzzed_document_has_the_desk_and_open311(tmp_path: Path) -> None:
    """Guards the fuzz test against passing vacuously on an empty or truncated document."""
    app = create_app(
        ComplaintsSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}", log_level="warning"),
        ComplaintsContext(
            store=build_store(f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}"), catalogue=default_catalogue()
        ),
    )
    paths = app.openapi()["paths"]
    assert {"/complaints", "/complaints/{complaint_id}/escalate", "/open311/v2/requests.json"} <= set(paths)
    assert len(paths) >= 25
