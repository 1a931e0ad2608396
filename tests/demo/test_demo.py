"""`jinlin demo` on a real stack (nats-server and every service as processes on free ports, a fresh var directory):
the story leaves a complete trail in the three services, every store verifies against JetStream, neither lost answers
nor a crash half-way nor a second playing (the ``jinlin demo`` command) duplicate any event, and the console's timeline
of the case shows the three services' events in causal order, all verified, in Debian's Chromium.

The story is played with 40 households here (``jinlin demo`` plays 320 by default), to keep the module near a minute.
"""

import json
import os
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect, sync_playwright

from jinlin.cli.layout import Layout
from jinlin.cli.stack import Stack
from jinlin.demo import story
from jinlin.demo.client import DemoError, Endpoints
from jinlin.demo.script import ARREARS_PAID, DISBURSEMENT_ID, ELECTRICITY_ACCOUNT, PROPERTY_FEE_ACCOUNT, play
from jinlin.demo.staff import SECOND_FINANCE_ID, demo_tokens, write_demo_staff
from jinlin.runtime.ports import free_port
from jinlin.service import registered_services
from staff_console.cli import verify_export

ROOT = Path(__file__).resolve().parents[2]
JINLIN = ROOT / ".venv" / "bin" / "jinlin"
SCREENSHOT = ROOT / "docs" / "screenshots" / "demo-timeline.png"
HOUSEHOLDS = 40
CASE = story.CASE_ID
AUDITOR = {"Authorization": "Bearer dev-auditor-token-jinlin"}
# As tests/e2e: Debian's Chromium, never Playwright's own download.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SERVICES = ("complaints", "mediation", "billing-escrow")
TRAIL_SERVICES = ("complaints", "mediation", "escrow")
"""The services as the console's timeline names them (by their NATS subject token)."""

# What each service records for the case, by event type (the escrow's bulk household business carries no case id,
# and is counted through its API below).
COMPLAINT_TRAIL = [
    "ComplaintFiled",
    "ComplaintAcknowledged",
    "ComplaintLinkedToCase",
    "ComplaintEscalatedToMediation",
    "ComplaintResolvedByAgreement",
    "CallBackRecorded",
    "ComplaintClosed",
]
PARTLY_FIXED_TRAIL = [
    *COMPLAINT_TRAIL[:-1],
    "ComplaintReopened",
    "ComplaintResolved",
    "CallBackRecorded",
    "ComplaintClosed",
]
MEDIATION_TRAIL = {
    "CaseOpened": 1,
    "CaseAccepted": 1,
    "MediatorAssigned": 1,
    "PartyAdded": 1,
    "PartyInformedOfRights": 6,
    "MeetingScheduled": 1,
    "PartiesInvited": 1,
    "RsvpRecorded": 6,
    "AttendanceRecorded": 6,
    "MinutesRecorded": 1,
    "AgreementDrafted": 1,
    "AgreementSigned": 6,
    "AgreementTookEffect": 1,
    "AgreementPosted": 1,
    "ObligationFulfilled": 4,
    "ObligationWaived": 1,
    "FollowUpVisitRecorded": 1,
    "CaseClosed": 1,
}
ESCROW_CASE_TRAIL = {
    "EscrowAccountRequested": 2,
    "EscrowAccountOpened": 2,
    "EscrowAccountActivated": 2,
    "HandoverStarted": 1,
    "OwnersVoteRecorded": 1,
    "HandoverEscrowOpened": 1,
    "ArrearsConfirmed": 1,
    "ArrearsAllocated": 1,
    "DisbursementRequested": 1,
    "DisbursementSigned": 2,
    "DisbursementExecuted": 1,
    "ArrearsPaid": 1,
    "FacilitiesTransferred": 1,
    "HandoverCompleted": 1,
    "StatementIssued": 1,
}


class Unreliable(httpx.HTTPTransport):
    """Loses the answer to every 20th command (the service acted; the connection dropped before its answer came),
    and fails every connection after ``crash_after`` commands, as if the machine playing the demo crashed."""

    def __init__(self, crash_after: int) -> None:
        super().__init__()
        self.crash_after = crash_after
        self.commands = 0
        self.lost = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return super().handle_request(request)
        with self._lock:
            self.commands += 1
            number = self.commands
        if number > self.crash_after:
            raise httpx.ConnectError("the demo's machine crashed", request=request)
        response = super().handle_request(request)
        if number % 20 == 0:
            response.read()
            response.close()
            with self._lock:
                self.lost += 1
            raise httpx.ReadError("connection reset before the answer arrived", request=request)
        return response


@dataclass
class Played:
    stack: Stack
    layout: Layout
    endpoints: Endpoints
    env: dict[str, str]
    complaint_ids: list[str]
    first_seconds: float
    events_after_first: dict[str, int]
    second_output: str
    second_seconds: float
    events_after_second: dict[str, int]

    def get(self, service: str, path: str, **params: Any) -> Any:
        answer = httpx.get(self.endpoints.of(service) + path, params=params, headers=AUDITOR, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()


def _name(event_type: str) -> str:
    return event_type.split(".")[2]


def audit_verify(env: dict[str, str]) -> dict[str, int]:
    """``jinlin audit verify`` of every service: each must pass; the number of events in each store."""
    result = subprocess.run([str(JINLIN), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = {}
    for line in result.stdout.splitlines():
        found = re.match(r"^([\w-]+): OK: (\d+) events in store", line)
        if found:
            counts[found[1]] = int(found[2])
    assert set(SERVICES) <= set(counts), result.stdout
    return counts


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    specs = registered_services()
    assert set(SERVICES) | {"staff-console"} <= {spec.name for spec in specs}
    ports = {spec.name: free_port() for spec in specs}
    var = tmp_path_factory.mktemp("demo")
    staff = write_demo_staff(var)
    layout = Layout(var_dir=var, nats_port=free_port())
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("JINLIN_STAFF_TOKENS", raising=False)
        patch.setenv("JINLIN_STAFF_TOKENS_FILE", str(staff))
        for spec in specs:
            patch.delenv(f"{spec.env_prefix}DATABASE_URL", raising=False)
            patch.delenv(f"{spec.env_prefix}NATS_URL", raising=False)
            patch.setenv(f"{spec.env_prefix}PORT", str(ports[spec.name]))
        env = dict(os.environ, JINLIN_VAR_DIR=str(var), JINLIN_NATS_PORT=str(layout.nats_port))
        stack = Stack(layout, specs, ports)
        try:
            stack.start()
            stack.wait_ready(timeout=90)
            endpoints = Endpoints.on("127.0.0.1", ports)
            # First the demo's machine loses some answers, then crashes half-way through the payments in...
            unreliable = Unreliable(crash_after=130)
            with pytest.raises(DemoError, match="the demo's machine crashed"):
                play(endpoints, demo_tokens(), households=HOUSEHOLDS, retry_for=1.0, transport=unreliable)
            assert unreliable.lost >= 5
            # ...and the story is played again, from the start: what was done is replayed, the rest is done.
            lines: list[str] = []
            started = time.monotonic()
            result = play(endpoints, demo_tokens(), households=HOUSEHOLDS, say=lines.append)
            first_seconds = time.monotonic() - started
            assert result.stats.total().replayed >= 50 and result.stats.total().skipped >= HOUSEHOLDS
            assert result.case_id == CASE
            assert result.timeline_url == f"{endpoints.console}/cases/{CASE}/timeline"
            events_after_first = audit_verify(env)

            # The second playing, as a user runs it: the command, against the running stack (ports from the env).
            started = time.monotonic()
            second = subprocess.run(
                [str(JINLIN), "demo", "--households", str(HOUSEHOLDS)],
                env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            second_seconds = time.monotonic() - started
            assert second.returncode == 0, second.stdout + second.stderr
            # Another compound size on the same stack is refused before anything is recorded.
            other = subprocess.run(
                [str(JINLIN), "demo", "--households", "5"], env=env, capture_output=True, text=True, timeout=120
            )
            assert other.returncode == 1
            assert f"played the story with {HOUSEHOLDS} households, not 5" in other.stderr
            yield Played(
                stack=stack,
                layout=layout,
                endpoints=endpoints,
                env=env,
                complaint_ids=result.complaint_ids,
                first_seconds=first_seconds,
                events_after_first=events_after_first,
                second_output=second.stdout,
                second_seconds=second_seconds,
                events_after_second=audit_verify(env),
            )
        finally:
            stack.stop()


def test_the_complaints_trail_is_complete(played: Played) -> None:
    page = played.get("complaints", "/complaints", case_id=CASE, page_size=200)
    assert page["total"] == len(story.COMPLAINTS) == len(played.complaint_ids)
    assert {item["status"] for item in page["items"]} == {"closed"}
    assert {item["channel"] for item in page["items"]} == {"walk_in", "phone", "hotline_12345"}
    assert all(item["hotline_reference"] for item in page["items"] if item["channel"] == "hotline_12345")
    for complaint, complaint_id in zip(story.COMPLAINTS, played.complaint_ids, strict=True):
        detail = played.get("complaints", f"/complaints/{complaint_id}")
        trail = [_name(entry["type"]) for entry in detail["history"]]
        assert trail == (PARTLY_FIXED_TRAIL if complaint.partly_fixed else COMPLAINT_TRAIL), complaint.key
        assert detail["last_outcome"] == "fixed"
        assert detail["reopen_count"] == (1 if complaint.partly_fixed else 0)
        assert detail["agreement_id"]
    statistics = played.get("complaints", "/statistics", compound_id=story.COMPOUND_ID)["total"]
    assert statistics["really_resolved"] == len(story.COMPLAINTS)


def test_the_mediation_trail_is_complete(played: Played) -> None:
    case = played.get("mediation", f"/cases/{CASE}")
    assert Counter(_name(entry["type"]) for entry in case["history"]) == MEDIATION_TRAIL
    assert {entry["caseid"] for entry in case["history"]} == {CASE}
    assert case["status"] == "closed"
    assert sorted(case["complaint_ids"]) == sorted(played.complaint_ids)
    assert [meeting["status"] for meeting in case["meetings"]] == ["held"]
    assert all(case["meetings"][0]["attendance"].values())
    assert not case["agreement"]["unsigned_party_ids"]
    obligations = {obligation["term_id"]: obligation for obligation in case["obligations"]}
    assert {term: o["status"] for term, o in obligations.items()} == {
        "t-escrow-accounts": "fulfilled",
        "t-records": "fulfilled",
        "t-arrears": "fulfilled",
        "t-meters": "fulfilled",
        "t-refund": "waived",
    }
    by_event = obligations["t-arrears"]["fulfilling_event"]
    assert by_event["service"] == "escrow" and by_event["event_type"] == ARREARS_PAID
    # Each term is owned by a named party.
    organisations = {p["party_id"]: p["organisation"] for p in case["parties"]}
    assert organisations[obligations["t-records"]["obligor"]] == story.PROPERTY_COMPANY
    assert organisations[obligations["t-meters"]["obligor"]] == story.POWER_COMPANY
    assert organisations[obligations["t-arrears"]["obligor"]] == story.COMMUNITY


def test_the_escrow_trail_is_complete(played: Played) -> None:
    flats = story.households(HOUSEHOLDS)
    payers = [flat for flat in flats if flat.pays]
    arrears = story.arrears_fen(HOUSEHOLDS)
    for account_id in (PROPERTY_FEE_ACCOUNT, ELECTRICITY_ACCOUNT):
        account = played.get("billing-escrow", f"/accounts/{account_id}")
        assert account["status"] == "active" and account["notary"]["notary_reference"]
    households = played.get("billing-escrow", "/households", compound_id=story.COMPOUND_ID)
    assert len(households) == HOUSEHOLDS
    balances = played.get("billing-escrow", f"/accounts/{ELECTRICITY_ACCOUNT}/balances")
    assert balances["difference_fen"] == 0 and all(row["reconciled"] for row in balances["households"])
    assert sum(row["paid_in_fen"] > 0 for row in balances["households"]) == len(payers)
    assert balances["held_fen"] == sum(flat.payment_fen for flat in payers) - arrears
    journal = played.get("billing-escrow", f"/accounts/{ELECTRICITY_ACCOUNT}/journal")
    assert Counter(entry["kind"] for entry in journal)["payment_in"] == len(payers), Counter(e["kind"] for e in journal)
    disbursement = played.get("billing-escrow", f"/accounts/{ELECTRICITY_ACCOUNT}/disbursements/{DISBURSEMENT_ID}")
    assert disbursement["status"] == "executed" and disbursement["amount_fen"] == arrears
    assert disbursement["condition"]["code"] == "power_company_confirms_arrears"
    assert {(s["role"], s["signer_id"]) for s in disbursement["signatures"]} == {
        ("center_finance", SECOND_FINANCE_ID.replace(".", "_")),
        ("notary", "dev-notary"),
    }
    assert disbursement["requested_by"] == "dev-finance"
    handover = played.get("billing-escrow", f"/handovers/{story.COMPOUND_ID}")
    assert handover["complete"] and handover["stage"]
    assert handover["households"] == handover["meters_installed"] == handover["supply_switched"] == HOUSEHOLDS
    assert handover["arrears_total_fen"] == handover["arrears_paid_fen"] == arrears
    assert all(row["meter_number"] and row["switched_at"] for row in handover["household_breakdown"])
    statements = played.get("billing-escrow", f"/accounts/{ELECTRICITY_ACCOUNT}/statements")
    assert len(statements) == 1 and statements[0]["kind"] == "on_demand" and statements[0]["balanced"]


def test_every_store_verifies_and_a_second_playing_adds_nothing(played: Played) -> None:
    assert played.events_after_second == played.events_after_first
    assert played.events_after_first["complaints"] == 7 * 11 + 10
    assert played.events_after_first["mediation"] == sum(MEDIATION_TRAIL.values())
    # Escrow: the case's events, the households registered, paid in, metered and switched.
    payers = sum(flat.pays for flat in story.households(HOUSEHOLDS))
    assert played.events_after_first["billing-escrow"] == sum(ESCROW_CASE_TRAIL.values()) + HOUSEHOLDS * 3 + payers
    output = played.second_output
    assert f"case      {CASE} (played before: nothing new)" in output
    assert f"{played.endpoints.console}/cases/{CASE}/timeline" in output
    assert played.second_seconds < 30, f"the second playing took {played.second_seconds:.1f}s"


# --- the console, in a real browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _signed_in(browser: Browser, console: str, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=console)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", f"{username}-jinlin")
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    return page


def _case_evidence(page: Page) -> dict[str, Any]:
    """The console's evidence file of the case, once its consumers have caught up with the last of the story."""
    deadline = time.monotonic() + 60
    while True:
        answer = page.request.get(f"/cases/{CASE}/evidence.json")
        assert answer.status == 200, answer.text()
        evidence: dict[str, Any] = answer.json()
        names = Counter((item["service"], _name(item["envelope"]["type"])) for item in evidence["events"])
        if names[("escrow", "StatementIssued")] and names[("complaints", "ComplaintClosed")] == 12:
            return evidence
        assert time.monotonic() < deadline, f"the console did not catch up: {sorted(names.items())}"
        time.sleep(0.5)


def test_the_console_shows_the_case_across_three_services_in_causal_order_all_verified(
    played: Played, browser: Browser, tmp_path: Path
) -> None:
    page = _signed_in(browser, played.endpoints.console, "auditor")
    evidence = _case_evidence(page)
    events = evidence["events"]
    by_service: dict[str, Counter[str]] = {service: Counter() for service in TRAIL_SERVICES}
    for item in events:
        by_service[item["service"]][_name(item["envelope"]["type"])] += 1
    assert by_service["mediation"] == MEDIATION_TRAIL
    assert by_service["escrow"] == ESCROW_CASE_TRAIL
    # Each complaint's whole trail: what it recorded under its own id before its link into the case comes along.
    complaints_trail = Counter(name for name in COMPLAINT_TRAIL for _ in range(11)) + Counter(PARTLY_FIXED_TRAIL)
    assert by_service["complaints"] == complaints_trail

    # Causal order: every cause before its effect, and each service's events in the order of its log.
    position = {item["envelope"]["id"]: index for index, item in enumerate(events)}
    crossing = 0
    for index, item in enumerate(events):
        cause = item["envelope"]["causationid"]
        if cause in position:
            assert position[cause] < index, item["envelope"]["type"]
            crossing += events[position[cause]]["service"] != item["service"]
    assert crossing >= 3, "escalation → case, agreement → complaints, arrears paid → obligation"
    for service in TRAIL_SERVICES:
        sequences = [item["envelope"]["sequence"] for item in events if item["service"] == service]
        assert sequences == sorted(sequences), service

    evidence_file = tmp_path / "evidence.json"
    evidence_file.write_text(json.dumps(evidence, ensure_ascii=False))
    key = page.request.get("/evidence/public-key").json()["public_key"]
    checked = CliRunner().invoke(verify_export, [str(evidence_file), "--public-key", key])
    assert checked.exit_code == 0, checked.output

    page.goto(f"/cases/{CASE}/timeline")
    entries = page.locator(".tl > li")
    expect(entries).to_have_count(len(events))
    expect(page.get_by_test_id("verdict")).to_contain_text(f"全部 {len(events)} 个事件校验通过")
    expect(page.locator('.tl > li[data-verified="false"]')).to_have_count(0)
    shown = page.eval_on_selector_all(
        ".tl > li",
        """items => items.map(li => ({
            id: li.dataset.eventId,
            service: li.dataset.service,
            cause: (li.querySelector('.why a[href^="#event-"]') || {getAttribute: () => null})
                .getAttribute('href'),
        }))""",
    )
    assert [entry["id"] for entry in shown] == [item["envelope"]["id"] for item in events]
    assert {entry["service"] for entry in shown} == set(TRAIL_SERVICES)
    index = {entry["id"]: n for n, entry in enumerate(shown)}
    for n, entry in enumerate(shown):
        if entry["cause"]:
            assert index[entry["cause"].removeprefix("#event-")] < n

    # The screen for the README: the arrears paid from escrow with the notary's co-signature, the term it fulfilled
    # in mediation, the handover completed, the case closed, and the residents called back at the complaints desk.
    page.set_viewport_size({"width": 1366, "height": 1900})
    page.evaluate(
        """() => {
            const li = [...document.querySelectorAll('.tl > li')].find(el => el.textContent.includes('申请支付'));
            const header = document.querySelector('header');
            const above = (header ? header.getBoundingClientRect().height : 0) + 12;
            window.scrollTo(0, li.getBoundingClientRect().top + window.scrollY - above);
        }"""
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    page.context.close()
