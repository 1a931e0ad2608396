"""A real stack for the browser tests: nats-server, the complaints service, the billing-escrow service (when it is
installed) and the staff console as processes on free ports (``jinlin.cli.stack.Stack``, as ``jinlin up`` runs
them), and Debian's Chromium driven by Playwright.

Chromium comes from Debian (``apt-get install -y chromium``); Playwright's own browser download is never used.
"""

import json
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from jinlin.cli.dev_staff import DEV_ROLES, dev_token
from jinlin.cli.layout import Layout
from jinlin.cli.stack import Stack
from jinlin.natsauth.generate import init_auth
from jinlin.runtime.ports import free_port
from jinlin.service import ServiceSpec, registered_services

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
SECOND_FINANCE_TOKEN = "finance-2-token-for-the-e2e-tests"
"""A second finance desk member: the escrow service lets nobody co-sign a payment out they requested."""

ANSWERS = {
    "electricity": {"issue": "power_cut"},
    "water": {"issue": "no_water"},
    "hallway_cleaning": {"location": "stairwell", "problem": ["not_cleaned"]},
    "noise": {"source": "renovation"},
    "repairs": {"what": "lift"},
}


def call(base: str, token: str, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
    all_headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex, **headers}
    return httpx.request(method, base + path, json=body, headers=all_headers, timeout=10)


@dataclass
class RunningStack:
    console: str
    complaints: str
    escrow: str | None
    nats_url: str
    processes: Stack

    def stand_in_credentials(self, name: str, token: str) -> Path:
        """A NATS user for a service that is not running here (its key and permissions, the server reloaded), so
        that a test can publish that service's events as the service itself would."""
        stand_in = ServiceSpec(name=name, token=token, default_port=0, app_factory="none:none")
        assert self.processes.auth is not None and self.processes.nats is not None
        setup = init_auth(self.processes.auth.directory, [*self.processes.specs, stand_in])
        assert self.processes.nats.process is not None
        self.processes.nats.process.send_signal(signal.SIGHUP)  # nats-server reloads its configuration
        return setup.seed_path(name)

    def command(self, role: str, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
        """A call to the complaints API as the development staff member of ``role``."""
        return call(self.complaints, dev_token(role), method, path, body, **headers)

    def escrow_call(self, who: str, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
        """A call to the escrow API as ``who``: a development role, or ``finance-2``."""
        assert self.escrow is not None
        token = SECOND_FINANCE_TOKEN if who == "finance-2" else dev_token(who)
        return call(self.escrow, token, method, path, body, **headers)

    def file(self, description: str, category: str = "electricity", **extra: Any) -> dict[str, Any]:
        body = {
            "category_code": category,
            "channel": "phone",
            "compound_id": "jinyuan-huating",
            "building": "3栋",
            "unit": "2单元",
            "description": description,
            "answers": ANSWERS[category],
            "reporter": {"name": "测试居民", "phone": "13900001111"},
            **extra,
        }
        answer = self.command("intake", "POST", "/complaints", body)
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    wanted = ("complaints", "staff-console", "billing-escrow")
    specs = [spec for spec in registered_services() if spec.name in wanted]
    assert {"complaints", "staff-console"} <= {spec.name for spec in specs}
    ports = {spec.name: free_port() for spec in specs}
    var = tmp_path_factory.mktemp("stack")
    staff = [{"token": dev_token(role), "id": f"dev-{role}", "roles": [role]} for role in DEV_ROLES]
    staff.append({"token": SECOND_FINANCE_TOKEN, "id": "finance-2", "roles": ["finance"]})
    (var / "staff-tokens.json").write_text(json.dumps(staff))
    with pytest.MonkeyPatch.context() as env:
        env.delenv("JINLIN_STAFF_TOKENS", raising=False)
        env.setenv("JINLIN_STAFF_TOKENS_FILE", str(var / "staff-tokens.json"))
        for spec in registered_services():
            env.delenv(f"{spec.env_prefix}DATABASE_URL", raising=False)
            env.delenv(f"{spec.env_prefix}NATS_URL", raising=False)
            if spec.name in ports:  # so that the console finds each service's API where the stack puts it
                env.setenv(f"{spec.env_prefix}PORT", str(ports[spec.name]))
        layout = Layout(var_dir=var, nats_port=free_port())
        running = Stack(layout, specs, ports)
        try:
            running.start()
            running.wait_ready(timeout=60)
            yield RunningStack(
                console=f"http://127.0.0.1:{ports['staff-console']}",
                complaints=f"http://127.0.0.1:{ports['complaints']}",
                escrow=f"http://127.0.0.1:{ports['billing-escrow']}" if "billing-escrow" in ports else None,
                nats_url=layout.nats_url,
                processes=running,
            )
        finally:
            running.stop()


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread while it lives,
# and the asyncio tests that share the worker process afterwards could not start theirs.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def signed_in(browser: Browser, stack: RunningStack) -> Iterator[Callable[[str], Page]]:
    """``signed_in("handler")``: a fresh browser context, signed in as that demo account, on the dashboard."""
    contexts = []

    def sign_in(username: str) -> Page:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=stack.console)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", f"{username}-jinlin")
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Save a screen for the README (docs/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def shoot() -> Callable[..., None]:
    return screenshot
