"""Fixtures for the complaints service: the real app on a real store, with staff of every role."""

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from complaints.application.context import ComplaintsContext
from complaints.bootstrap import build_store, create_app
from complaints.domain import default_catalogue
from complaints.settings import ComplaintsSettings

ROLES = ["intake", "handler", "mediator", "finance", "supervisor", "notary", "auditor"]
STAFF = [{"token": f"test-token-of-{role}", "id": f"{role}-1", "roles": [role]} for role in ROLES]


class FakeClock:
    """A clock the test moves forward (deadlines are days long)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def staff_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = tmp_path / "staff.json"
    tokens.write_text(json.dumps(STAFF))
    monkeypatch.setenv("JINLIN_STAFF_TOKENS_FILE", str(tokens))


def as_role(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer test-token-of-{role}"}


@pytest.fixture
async def service(
    database_url: str, staff_env: None, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, ComplaintsContext]]:
    """The complaints app with its lifespan run, without NATS (commands still land in the store, the outbox)."""
    settings = ComplaintsSettings(
        database_url=database_url,
        nats_url="nats://127.0.0.1:1",
        relay_enabled=False,
        consumers_enabled=False,
        overdue_check_interval=3600,
        log_format="json",
    )
    context = ComplaintsContext(store=build_store(database_url), catalogue=default_catalogue(), clock=clock)
    app = create_app(settings, context)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://complaints.test") as client:
            yield client, context


FileBody = Callable[..., dict[str, Any]]


@pytest.fixture
def complaint_body() -> FileBody:
    def body(**overrides: Any) -> dict[str, Any]:
        return {
            "category_code": "hallway_cleaning",
            "description": "楼道垃圾三天没人清理",
            "channel": "walk_in",
            "compound_id": "jinyuan-huating",
            "building": "3栋",
            "unit": "2单元",
            "answers": {"location": "stairwell", "problem": ["rubbish"]},
            "reporter": {"name": "张三", "phone": "13800138000"},
        } | overrides

    return body
