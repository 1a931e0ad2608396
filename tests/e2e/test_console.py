"""The staff console in a real browser against a real stack: sign-in, live updates without a reload, a handler's
action through the complaints API, roles, and the verified case timeline with its evidence file.

Each test leaves screenshots of the screen it exercised in docs/screenshots/ (the README shows them).
"""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from playwright.sync_api import Page, expect

from staff_console.cli import verify_export

LIVE = 8_000  # ms: an event reaches the page within a second or two; this is the bound, not the expectation


def mark_page(page: Page) -> None:
    page.evaluate("window.__stillTheSamePage = true")


def never_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.__stillTheSamePage === true"))


def test_sign_in_page(browser: Any, stack: Any, shoot: Callable[..., None]) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=stack.console)
    page = context.new_page()
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard"))
    page.fill("#username", "handler")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_be_visible()
    shoot(page, "sign-in")
    context.close()


def test_a_complaint_filed_through_the_api_appears_in_the_live_feed(
    signed_in: Callable[[str], Page], stack: Any, shoot: Callable[..., None]
) -> None:
    page = signed_in("handler")
    expect(page.get_by_test_id("who")).to_have_text("王强")
    page.goto("/feed")
    expect(page.locator("#live-dot.on")).to_be_visible()
    mark_page(page)
    filed = stack.file("3栋2单元楼道灯坏了一个月，晚上看不见路", category="repairs")
    row = page.locator(f'#feed-rows tr:has-text("{filed["complaint_id"]}")')
    expect(row).to_be_visible(timeout=LIVE)
    expect(row).to_contain_text("登记投诉")
    assert never_reloaded(page), "the event arrived by the live stream, not a reload"
    for category, text in (("water", "5号楼停水两天"), ("electricity", "小区整体停电，物业拖欠电费")):
        stack.file(text, category=category)
    expect(page.locator("#feed-rows tr")).to_have_count(3, timeout=LIVE)
    shoot(page, "live-feed")


def test_a_handler_acknowledges_a_complaint_and_the_queue_follows(
    signed_in: Callable[[str], Page], stack: Any, shoot: Callable[..., None]
) -> None:
    page = signed_in("handler")
    page.goto("/complaints?view=open")
    mark_page(page)
    filed = stack.file(
        "物业拖欠电费，供电公司要求统一结清后才能一户一表改造", category="electricity", priority="urgent"
    )
    complaint_id = filed["complaint_id"]
    queue_row = page.locator(f'#live-rows tr[data-complaint="{complaint_id}"]')
    expect(queue_row).to_be_visible(timeout=LIVE)
    expect(queue_row.locator("[data-status]")).to_have_text("待受理")
    count = page.locator("#live-rows tr[data-complaint]").count()
    expect(page.locator("#live-count")).to_have_text(f"共 {count} 件")
    assert never_reloaded(page)
    shoot(page, "complaints-queue")

    queue_row.locator("a").click()
    expect(page.get_by_test_id("status")).to_have_text("待受理")
    page.locator("form[data-action=acknowledge] button").click()
    expect(page.get_by_test_id("flash")).to_contain_text("受理")
    expect(page.get_by_test_id("status")).to_have_text("已受理", timeout=LIVE)
    page.locator("form[data-action=note] textarea").fill("已联系供电公司核对欠费金额")
    page.locator("form[data-action=note] button").click()
    expect(page.locator("#complaint-history")).to_contain_text("已联系供电公司核对欠费金额", timeout=LIVE)

    # A change made elsewhere (the intake desk, through the API) reaches the open page without a reload.
    mark_page(page)
    current = stack.command("handler", "GET", f"/complaints/{complaint_id}").headers["etag"]
    answer = stack.command(
        "handler",
        "POST",
        f"/complaints/{complaint_id}/assign",
        {"assignee": {"kind": "utility", "id": "state-grid-tianchang", "name": "国网天长市供电公司"}},
        **{"If-Match": current},
    )
    assert answer.status_code == 200, answer.text
    expect(page.get_by_test_id("status")).to_have_text("办理中", timeout=LIVE)
    expect(page.locator("#complaint-facts")).to_contain_text("国网天长市供电公司")
    assert never_reloaded(page)
    shoot(page, "complaint")


def test_an_auditor_can_read_but_not_act(signed_in: Callable[[str], Page], stack: Any) -> None:
    filed = stack.file("夜间装修噪音扰民", category="noise")
    page = signed_in("auditor")
    expect(page.locator('nav [data-nav="complaints"]')).to_be_visible()
    page.goto(f"/complaints/{filed['complaint_id']}")
    expect(page.get_by_test_id("read-only")).to_be_visible(timeout=LIVE)
    expect(page.locator("form.action")).to_have_count(0)
    csrf = page.locator('form[action="/logout"] input[name=csrf]').get_attribute("value")
    refused = page.request.post(
        f"/complaints/{filed['complaint_id']}/act/acknowledge", form={"csrf": csrf or "", "if_match": "1"}
    )
    assert refused.status == 403
    status = stack.command("auditor", "GET", f"/complaints/{filed['complaint_id']}").json()["status"]
    assert status == "filed", "nothing changed"

    notary = signed_in("notary")
    expect(notary.locator('nav [data-nav="complaints"]')).to_have_count(0)
    notary.goto("/complaints")
    expect(notary.get_by_test_id("error-forbidden")).to_be_visible()


def test_the_case_timeline_is_verified_and_its_evidence_checks_offline(
    signed_in: Callable[[str], Page], stack: Any, shoot: Callable[..., None], tmp_path: Path
) -> None:
    filed = stack.file("单元门禁损坏，外来人员随意进出", category="repairs")
    complaint_id = filed["complaint_id"]
    version = '"1"'
    for role, action, body in (
        ("intake", "acknowledge", None),
        ("handler", "resolve", {"resolution_note": "已更换门禁控制器"}),
        ("intake", "call-back", {"outcome": "fixed", "satisfaction": 5}),
    ):
        answer = stack.command(role, "POST", f"/complaints/{complaint_id}/{action}", body, **{"If-Match": version})
        assert answer.status_code == 200, answer.text
        version = answer.headers["etag"]

    page = signed_in("auditor")
    page.goto("/timeline")
    page.fill("input[name=case]", complaint_id)
    page.click("form.filters button[type=submit]")
    expect(page.locator(".tl > li")).to_have_count(
        5, timeout=LIVE
    )  # filed, acknowledged, resolved, called back, closed
    expect(page.get_by_test_id("verdict")).to_contain_text("全部 5 个事件校验通过")
    expect(page.locator('.tl > li[data-verified="false"]')).to_have_count(0)
    shoot(page, "case-timeline", full_page=True)

    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    evidence = tmp_path / "evidence.json"
    download.value.save_as(evidence)
    key = page.request.get("/evidence/public-key").json()["public_key"]
    checked = CliRunner().invoke(verify_export, [str(evidence), "--public-key", key])
    assert checked.exit_code == 0, checked.output
    assert f"OK: case {complaint_id}, 5 events of complaints" in checked.output

    document = json.loads(evidence.read_text())
    document["events"][2]["envelope"]["data"]["resolution_note"] = "从未处理"
    evidence.write_text(json.dumps(document, ensure_ascii=False))
    checked = CliRunner().invoke(verify_export, [str(evidence), "--public-key", key])
    assert checked.exit_code == 1
    assert "FAILED: event 3 (complaints #" in checked.output and "content does not match its hash" in checked.output


def test_the_dashboard_draws_its_charts(
    signed_in: Callable[[str], Page], stack: Any, shoot: Callable[..., None]
) -> None:
    filed = stack.file("楼道堆放杂物，堵塞消防通道", category="hallway_cleaning")
    answer = stack.command("intake", "POST", f"/complaints/{filed['complaint_id']}/acknowledge", None)
    assert answer.status_code == 200
    page = signed_in("supervisor")
    expect(page.locator("svg.chart")).to_have_count(3)
    expect(page.get_by_test_id("kpi-open")).not_to_have_text("0")
    shoot(page, "dashboard")
    page.goto("/lang/en?back=/dashboard")
    expect(page.locator("h1")).to_have_text("Dashboard")
    shoot(page, "dashboard-en")
    page.goto("/lang/zh?back=/dashboard")
