"""The pages as a browser meets them (no NATS needed): sign-in, sessions, CSRF, and who sees and does what."""

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jinlin.cli.dev_staff import write_dev_staff
from jinlin.runtime.ports import free_port
from jinlin.store.records import CommandContext
from staff_console.application.accounts import load_accounts
from staff_console.application.projector import ConsoleProjector
from staff_console.application.tables import console_metadata
from staff_console.bootstrap import build_store, create_app
from staff_console.settings import ConsoleSettings


@pytest.fixture
def staff_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_dev_staff(tmp_path)
    monkeypatch.setenv("JINLIN_STAFF_TOKENS_FILE", str(path))
    return path


@pytest.fixture
def console(tmp_path: Path, staff_file: Path, service_log: Callable[..., Any]) -> Iterator[TestClient]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}"
    log = service_log("complaints")
    log.add(
        "ComplaintFiled",
        "c-1",
        {
            "complaint_id": "c-1",
            "category_code": "electricity",
            "compound_id": "jinyuan-huating",
            "channel": "phone",
            "priority": "urgent",
            "description": "小区停电",
            "due_at": "2099-01-01T00:00:00Z",
        },
    )

    # Another complaint, filed under its own case and then linked into a group case.
    log.add("ComplaintFiled", "c-7", {"complaint_id": "c-7"}, caseid="c-7")
    log.add("ComplaintLinkedToCase", "c-7", {"case_id": "case-9", "previous_case_id": "c-7"}, caseid="case-9")

    async def seed() -> None:
        store = build_store(database_url)
        await store.create_schema(console_metadata)
        for event in log.events:
            async with store.transaction(CommandContext(actor="test", causationid="seed")) as tx:
                await ConsoleProjector("COMPLAINTS")(tx, event)
        await store.close()

    asyncio.run(seed())
    settings = ConsoleSettings(
        database_url=database_url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        secrets_dir=str(tmp_path / "secrets"),
        complaints_url=f"http://127.0.0.1:{free_port()}",
        log_format="json",
    )
    with TestClient(create_app(settings), base_url="http://console.test") as client:
        yield client


def sign_in(client: TestClient, username: str, password: str | None = None) -> Any:
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/login",
        data={"username": username, "password": password or f"{username}-jinlin", "login_token": token.group(1)},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_signing_in_sets_a_server_side_session_cookie(console: TestClient) -> None:
    assert (
        console.get("/dashboard", headers={"accept": "text/html"}, follow_redirects=False)
        .headers["location"]
        .startswith("/login?next=/dashboard")
    )
    assert sign_in(console, "handler", "wrong-password").status_code == 401
    answer = sign_in(console, "handler")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "jinlin_console_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = console.get("/dashboard")
    assert page.status_code == 200 and "王强" in page.text and "承办人" in page.text


def test_chinese_by_default_and_an_english_switch(console: TestClient) -> None:
    sign_in(console, "intake")
    assert "投诉工单" in console.get("/complaints").text
    console.get("/lang/en?back=/complaints")
    english = console.get("/complaints").text
    assert "Complaints" in english and "投诉工单" not in english


def test_an_auditor_sees_no_action_and_a_post_is_refused(console: TestClient) -> None:
    sign_in(console, "auditor")
    page = console.get("/complaints/c-1")
    assert page.status_code == 200
    assert 'data-testid="read-only"' in page.text and "/act/" not in page.text
    refused = console.post("/complaints/c-1/act/acknowledge", data={"csrf": csrf_of(page.text), "if_match": "1"})
    assert refused.status_code == 403


def test_a_post_without_the_sessions_csrf_token_is_refused(console: TestClient) -> None:
    sign_in(console, "handler")
    page = console.get("/complaints/c-1")
    assert "/act/acknowledge" in page.text
    assert console.post("/complaints/c-1/act/acknowledge", data={"csrf": "forged", "if_match": "1"}).status_code == 403
    assert console.post("/logout", data={"csrf": "forged"}).status_code == 403
    other_site = console.post(
        "/complaints/c-1/act/acknowledge",
        data={"csrf": csrf_of(page.text), "if_match": "1"},
        headers={"origin": "http://evil.example"},
    )
    assert other_site.status_code == 403


def test_screens_follow_roles(console: TestClient) -> None:
    sign_in(console, "notary")
    dashboard = console.get("/dashboard").text
    assert 'data-nav="signatures"' in dashboard and 'data-nav="complaints"' not in dashboard
    assert console.get("/complaints").status_code == 403
    assert console.get("/escrow/signatures").status_code == 200
    assert "暂无" in console.get("/escrow").text, "no escrow service yet: the page says so"


def test_the_service_being_down_is_a_clear_message_not_an_error(console: TestClient) -> None:
    sign_in(console, "handler")
    page = console.get("/complaints/c-1")
    answer = console.post(
        "/complaints/c-1/act/acknowledge",
        data={"csrf": csrf_of(page.text), "if_match": "1", "idem": "k-1"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "投诉 服务暂时无法连接" in answer.text


def test_signing_out_ends_the_session(console: TestClient) -> None:
    sign_in(console, "supervisor")
    page = console.get("/dashboard")
    assert console.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    assert console.get("/dashboard", headers={"accept": "text/html"}, follow_redirects=False).status_code == 303


def test_the_timeline_of_a_group_case_shows_a_linked_complaints_filing(console: TestClient) -> None:
    sign_in(console, "auditor")
    page = console.get("/timeline?case=c-7")
    assert page.url.path == "/cases/case-9/timeline", "a complaint id finds the case it is in now"
    assert page.text.count('data-verified="true"') == 2 and 'data-verified="false"' not in page.text
    assert "记录于案件 c-7" in page.text, "the filing says under which case it was recorded"


def test_demo_accounts_exist_only_for_the_development_staff(tmp_path: Path) -> None:
    staff = tmp_path / "staff.json"
    staff.write_text(
        json.dumps(
            [
                {"token": "dev-intake-token-jinlin", "id": "dev-intake", "roles": ["intake"]},
                {"token": "a-real-secret-token-0001", "id": "dev-handler", "roles": ["handler"]},
            ]
        )
    )
    book = load_accounts(None, demo=True, environ={"JINLIN_STAFF_TOKENS_FILE": str(staff)})
    assert [account.username for account in book.all()] == ["intake"]
    account = book.get("intake")
    assert account is not None and account.password_hash.startswith("scrypt$")
    assert "intake-jinlin" not in account.password_hash
    assert book.authenticate("intake", "intake-jinlin") is account
    assert book.authenticate("intake", "wrong") is None
    assert load_accounts(None, demo=False, environ={"JINLIN_STAFF_TOKENS_FILE": str(staff)}).all() == []
