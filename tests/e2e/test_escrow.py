"""The notary co-signs a payment out of escrow in the console, and the balance changes once it is executed.

Everything the finance desk and the notary's office do before and after goes through the escrow service's HTTP
API; the notary's co-signature goes through the console, which calls the same API with the notary's credential.
"""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

LIVE = 8_000
ACCOUNT = "acc-jyht-electricity"
HOUSEHOLDS = {"jyht-3-2-301": ("3栋2单元301", 120_000), "jyht-3-2-302": ("3栋2单元302", 95_050)}


def ok(answer: Any) -> Any:
    assert answer.status_code in (200, 201), answer.text
    return answer


def test_the_notary_co_signs_in_the_console_and_the_balance_changes(
    signed_in: Callable[[str], Page], stack: Any, shoot: Callable[..., None]
) -> None:
    if stack.escrow is None:
        pytest.skip("the billing-escrow service is not installed")
    escrow = stack.escrow_call
    account = {"account_id": ACCOUNT, "compound_id": "jinyuan-huating", "purpose": "electricity"}
    ok(escrow("finance", "POST", "/accounts", account))
    bank = {"bank_name": "天长农商银行", "account_number": "6228-0000-1234", "account_name": "金园华庭电费监管户"}
    opened = {"notary_reference": "(2026)皖天证监字第18号", "supervising_notary_name": "孙悦", "bank_account": bank}
    ok(escrow("notary", "POST", f"/accounts/{ACCOUNT}/open", opened))
    ok(escrow("finance", "POST", f"/accounts/{ACCOUNT}/activate"))
    for number, (household, (label, fen)) in enumerate(HOUSEHOLDS.items()):
        home = {"household_id": household, "compound_id": "jinyuan-huating", "label": label, "floor_area_dm2": 8937}
        ok(escrow("finance", "POST", "/households", home))
        payment = {
            "movement_id": f"pay-{number}",
            "household_id": household,
            "amount_fen": fen,
            "channel": "wechat_pay",
            "reference": f"WX2026112900{number}",
        }
        ok(escrow("finance", "POST", f"/accounts/{ACCOUNT}/payments", payment))
    order = {
        "disbursement_id": "d-repair-1",
        "payee": {"payee_id": "tianchang-power-works", "name": "天长市电力安装公司"},
        "amount_fen": 150_000,
        "condition": {"code": "distribution_room_repair", "text": "配电房维修，业主委员会决议同意"},
        "evidence": ["业委会决议〔2026〕第3号", "维修合同 TC-2026-118"],
    }
    ok(escrow("finance", "POST", f"/accounts/{ACCOUNT}/disbursements", order))
    ok(
        escrow(
            "finance-2", "POST", f"/accounts/{ACCOUNT}/disbursements/d-repair-1/signatures", {"role": "center_finance"}
        )
    )

    notary = signed_in("notary")
    notary.goto("/escrow/signatures")
    card = notary.locator('[data-testid=to-sign][data-disbursement="d-repair-1"]')
    expect(card).to_be_visible(timeout=LIVE)
    expect(card).to_contain_text("¥1,500.00")
    shoot(notary, "signatures")
    card.get_by_role("button").click()
    expect(notary.get_by_test_id("flash")).to_contain_text("会签")
    expect(notary.locator('[data-testid=to-sign][data-disbursement="d-repair-1"]')).to_have_count(0, timeout=LIVE)

    notary.goto(f"/escrow/accounts/{ACCOUNT}")
    expect(notary.locator(".kpi .value").first).to_have_text("¥2,150.50", timeout=LIVE)
    ok(escrow("finance", "POST", f"/accounts/{ACCOUNT}/disbursements/d-repair-1/execute", {"bank_reference": "B-7731"}))
    expect(notary.locator(".kpi .value").first).to_have_text("¥650.50", timeout=LIVE)
    shoot(notary, "escrow-account")

    supervisor = signed_in("supervisor")
    supervisor.goto("/escrow")
    expect(supervisor.locator("[data-testid=accounts] tbody tr")).to_have_count(1)
    shoot(supervisor, "escrow")


def test_the_handover_of_a_compound_household_by_household(
    signed_in: Callable[[str], Page], stack: Any, shoot: Callable[..., None]
) -> None:
    if stack.escrow is None:
        pytest.skip("the billing-escrow service is not installed")
    escrow = stack.escrow_call
    compound = "jinyuan-huating"
    homes = {f"jyht-5-1-{n}": f"5栋1单元{n}" for n in (101, 102, 201, 202)}
    for household, label in homes.items():
        ok(
            escrow(
                "finance",
                "POST",
                "/households",
                {"household_id": household, "compound_id": compound, "label": label, "floor_area_dm2": 9012},
            )
        )
    ok(escrow("finance", "POST", "/handovers", {"compound_id": compound, "household_ids": list(homes)}))
    vote = {
        "held_on": "2026-11-20",
        "eligible": 4,
        "in_favour": 4,
        "against": 0,
        "abstained": 0,
        "passed": True,
        "resolution_reference": "业主大会决议〔2026〕第2号",
    }
    ok(escrow("finance", "POST", f"/handovers/{compound}/owners-vote", vote))

    page = signed_in("supervisor")
    page.goto(f"/handover/{compound}")
    expect(page.locator(".steps li.done")).to_have_count(2, timeout=LIVE)
    expect(page.locator("#handover table tbody tr")).to_have_count(len(homes))
    shoot(page, "handover")
