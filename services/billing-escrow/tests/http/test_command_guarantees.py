"""What the money commands guarantee over HTTP: idempotent payments under retries, conditional writes, roles and
the four-eyes rule, and problem answers that change nothing."""

import asyncio
from typing import Any

import pytest

from ..conftest import COMPOUND, Desk, Running, as_role, event_types, money, ok, problem


def _payment(**overrides: Any) -> dict[str, Any]:
    return {
        "movement_id": "pay-0001",
        "household_id": "h-301",
        "amount_fen": 25_000,
        "channel": "wechat_pay",
        "reference": "4200001234202611020001",
        "booked_on": "2026-11-02",
    } | overrides


@pytest.fixture
async def account(desk: Desk) -> str:
    await desk.active_account("acc-elec")
    await desk.household("h-301")
    await desk.household("h-302")
    return "acc-elec"


async def test_a_retried_payment_is_answered_once(service: Running, account: str) -> None:
    client, context = service
    headers = money(key="pay-key-1")
    first = await client.post(f"/accounts/{account}/payments", json=_payment(), headers=headers)
    assert first.status_code == 201, first.text
    log = await context.store.last_sequence()
    retry = await client.post(f"/accounts/{account}/payments", json=_payment(), headers=headers)
    assert (retry.status_code, retry.content, retry.headers["etag"]) == (201, first.content, first.headers["etag"])
    assert retry.headers["idempotent-replayed"] == "true"
    assert await context.store.last_sequence() == log
    # The same key for another payment is refused and changes nothing.
    other = await client.post(f"/accounts/{account}/payments", json=_payment(amount_fen=1), headers=headers)
    assert problem(other, 422)["type"].endswith("/idempotency-key-reused")
    assert await context.store.last_sequence() == log


async def test_the_same_bank_reference_is_one_payment_whatever_the_key(service: Running, account: str) -> None:
    client, context = service
    ok(await client.post(f"/accounts/{account}/payments", json=_payment(), headers=money()), 201)
    # The bank's file imported again: new key, new movement id, same payment.
    again = await client.post(f"/accounts/{account}/payments", json=_payment(movement_id="pay-0002"), headers=money())
    answer = ok(again, 200)
    assert answer["recorded"] is False and answer["account"]["held_fen"] == 25_000
    # The same reference for a different payment is a conflict, not a second payment.
    clash = await client.post(
        f"/accounts/{account}/payments", json=_payment(movement_id="pay-0003", amount_fen=99), headers=money()
    )
    assert problem(clash, 409)["type"].endswith("/id-already-used")
    # The same movement id for a different payment, too.
    reused = await client.post(f"/accounts/{account}/payments", json=_payment(reference="OTHER-REF"), headers=money())
    problem(reused, 409)
    assert (await event_types(context, f"account.{account}")).count("PaymentReceived") == 1
    assert (await client.get(f"/accounts/{account}", headers=as_role("finance"))).json()["held_fen"] == 25_000


async def test_concurrent_retries_record_one_payment(service: Running, account: str) -> None:
    client, context = service
    headers = money(key="storm-1")
    answers = await asyncio.gather(
        *(client.post(f"/accounts/{account}/payments", json=_payment(), headers=headers) for _ in range(8))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    for answer in answers:
        if answer.status_code == 409:
            assert problem(answer, 409)["type"].endswith("/idempotency-key-in-flight")
    # Retries with new keys (a client that lost its key) are still the same payment.
    retried = await asyncio.gather(
        *(client.post(f"/accounts/{account}/payments", json=_payment(), headers=money()) for _ in range(4))
    )
    assert {a.status_code for a in retried} == {200}
    assert (await event_types(context, f"account.{account}")).count("PaymentReceived") == 1
    final = await client.post(f"/accounts/{account}/payments", json=_payment(), headers=headers)
    assert final.status_code == 201 and final.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/accounts/{a}/payments", _payment()),
        (
            "/accounts/{a}/reallocations",
            {"movement_id": "m", "from_household_id": "h-301", "to_household_id": "h-302", "amount_fen": 1,
             "reason": "r"},
        ),
        ("/accounts/{a}/reversals", {"movement_id": "m", "reverses": "pay-0001", "reason": "r"}),
        (
            "/accounts/{a}/disbursements",
            {"disbursement_id": "d-1", "payee": {"payee_id": "p", "name": "P"}, "amount_fen": 1,
             "condition": {"code": "c", "text": "t"}, "evidence": ["e"]},
        ),
        ("/accounts/{a}/disbursements/d-1/signatures", {"role": "center_finance"}),
        ("/accounts/{a}/disbursements/d-1/execute", {"bank_reference": "b"}),
        ("/accounts/{a}/disbursements/d-1/void", {"reason": "r"}),
    ],
)  # fmt: skip
async def test_money_endpoints_require_an_idempotency_key(
    service: Running, account: str, path: str, body: dict[str, Any]
) -> None:
    client, context = service
    log = await context.store.last_sequence()
    response = await client.post(path.format(a=account), json=body, headers=as_role("finance"))
    assert problem(response, 400)["type"].endswith("/idempotency-key-missing")
    assert await context.store.last_sequence() == log


async def test_if_match_guards_against_lost_updates(service: Running, account: str) -> None:
    client, context = service
    url = f"/accounts/{account}/payments"
    version = (await client.get(f"/accounts/{account}", headers=as_role("finance"))).headers["etag"]
    assert version == '"3"'
    stale = await client.post(url, json=_payment(), headers=money() | {"If-Match": '"2"'})
    body = problem(stale, 412)
    assert body["current_version"] == 3 and stale.headers["etag"] == '"3"'
    problem(await client.post(url, json=_payment(), headers=money() | {"If-Match": "3"}), 400)  # unquoted
    assert (await event_types(context, f"account.{account}")).count("PaymentReceived") == 0
    fresh = await client.post(url, json=_payment(), headers=money() | {"If-Match": version})
    assert fresh.status_code == 201 and fresh.headers["etag"] == '"4"'

    # Changing who must co-sign, and closing, need the ETag of what was read.
    terms = {"owners_committee_signs": True, "reason": "业主大会决议要求业委会会签"}
    missing = await client.post(f"/accounts/{account}/terms", json=terms, headers=as_role("supervisor"))
    assert problem(missing, 428)["type"].endswith("/if-match-required")
    stale_terms = await client.post(
        f"/accounts/{account}/terms", json=terms, headers=as_role("supervisor") | {"If-Match": '"3"'}
    )
    problem(stale_terms, 412)
    changed = await client.post(
        f"/accounts/{account}/terms", json=terms, headers=as_role("supervisor") | {"If-Match": '"4"'}
    )
    assert ok(changed)["required_roles"] == ["center_finance", "notary", "owners_committee"]
    closing = await client.post(f"/accounts/{account}/close", json={"reason": "x"}, headers=as_role("finance"))
    problem(closing, 428)


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("auditor", "post", "/accounts/{a}/payments", "payment", 403),
        ("notary", "post", "/accounts/{a}/payments", "payment", 403),
        ("supervisor", "post", "/accounts/{a}/payments", "payment", 403),
        ("intake", "get", "/accounts/{a}", None, 403),
        ("auditor", "post", "/accounts", {"account_id": "x", "compound_id": "y", "purpose": "water"}, 403),
        ("finance", "post", "/accounts/{a}/reopen", {"reason": "x"}, 403),
        ("auditor", "post", "/households", "household", 403),
        ("notary", "post", "/handovers", {"compound_id": COMPOUND}, 403),
        ("auditor", "get", "/accounts/{a}", None, 200),
        ("notary", "get", "/accounts/{a}/balances", None, 200),
        ("auditor", "get", "/disbursements", None, 200),
        (None, "get", "/accounts", None, 401),
    ],
)
async def test_roles(
    service: Running, account: str, role: str | None, method: str, path: str, body: Any, status: int
) -> None:
    client, context = service
    log = await context.store.last_sequence()
    payloads = {
        "payment": _payment(),
        "household": {"household_id": "h-9", "compound_id": COMPOUND, "label": "9栋", "floor_area_dm2": 100},
    }
    headers = money(role) if role else {"Idempotency-Key": "k"}
    response = await client.request(
        method.upper(), path.format(a=account), json=payloads[body] if isinstance(body, str) else body, headers=headers
    )
    if status == 200:
        assert response.status_code == 200, response.text
        return
    answer = problem(response, status)
    if status == 403:
        assert answer["type"].endswith("/role-required") and answer["required_roles"]
    assert await context.store.last_sequence() == log


async def test_four_eyes_and_signing_roles(service: Running, desk: Desk, account: str) -> None:
    client, context = service
    await desk.pay(account, "h-301", 80_000)
    ok(await desk.request_disbursement(account, "d-1", 50_000), 201)  # requested by finance-1
    log = await context.store.last_sequence()

    # A signature's role must be one the caller holds.
    problem(await desk.sign(account, "d-1", "notary", "finance-2"), 403)
    problem(await desk.sign(account, "d-1", "center_finance", "notary"), 403)
    problem(await desk.sign(account, "d-1", "notary", "auditor"), 403)
    # The requester may not co-sign.
    refused = await desk.sign(account, "d-1", "center_finance", "finance")
    assert problem(refused, 409)["type"].endswith("/four-eyes")
    # One person, one role: someone who is both finance and notary signs once only.
    ok(await desk.sign(account, "d-1", "center_finance", "dual"))
    twice = await desk.sign(account, "d-1", "notary", "dual")
    assert problem(twice, 409)["type"].endswith("/four-eyes")
    # A role signed by another person already is not signed again.
    problem(await desk.sign(account, "d-1", "center_finance", "finance-2"), 409)
    assert await context.store.last_sequence() == log + 1

    # The same signature again records nothing.
    ok(await desk.sign(account, "d-1", "notary", "notary"))
    again = ok(await desk.sign(account, "d-1", "notary", "notary"))
    assert len(again["disbursement"]["signatures"]) == 2
    assert await context.store.last_sequence() == log + 2
    # The auditor reads the queue, changes nothing; a finance clerk executes.
    problem(await client.post(
        f"/accounts/{account}/disbursements/d-1/execute", json={"bank_reference": "B1"}, headers=money("auditor")
    ), 403)  # fmt: skip
    assert ok(await desk.execute(account, "d-1"))["disbursement"]["status"] == "executed"


async def test_the_owners_committee_signs_where_the_terms_say_so(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-prop", purpose="property_fee", owners_committee=True)
    await desk.household("h-301")
    await desk.pay("acc-prop", "h-301", 10_000)
    ok(await desk.request_disbursement("acc-prop", "d-1", 10_000), 201)
    await desk.sign("acc-prop", "d-1", "center_finance", "finance-2")
    await desk.sign("acc-prop", "d-1", "notary", "notary")
    problem(await desk.execute("acc-prop", "d-1"), 409)  # the committee has not signed
    url = "/accounts/acc-prop/disbursements/d-1/signatures"
    nobody = await client.post(url, json={"role": "owners_committee"}, headers=money("supervisor"))
    problem(nobody, 422)
    not_theirs = await client.post(
        url, json={"role": "owners_committee", "on_behalf_of": "yw-chen"}, headers=money("finance-2")
    )
    problem(not_theirs, 403)
    signed = await client.post(
        url, json={"role": "owners_committee", "on_behalf_of": "yw-chen"}, headers=money("supervisor")
    )
    assert ok(signed)["disbursement"]["signatures"][-1] == ok(signed)["disbursement"]["signatures"][-1] | {
        "role": "owners_committee",
        "signer_id": "yw-chen",
    }
    assert ok(await desk.execute("acc-prop", "d-1"))["disbursement"]["status"] == "executed"


async def test_bad_input_is_a_clear_4xx_and_changes_nothing(service: Running, account: str) -> None:
    client, context = service
    log = await context.store.last_sequence()
    url = f"/accounts/{account}/payments"
    for bad in (
        _payment(amount_fen=0),
        _payment(amount_fen=1.5),
        _payment(amount_fen="100"),
        _payment(amount_fen=True),
        _payment(household_id="H 301"),
        _payment(channel="cheque"),
        _payment(booked_on="2026-11-03"),  # tomorrow in Tianchang
        _payment(booked_on="2026-10-01"),  # before the account was opened
        _payment(household_id="h-unknown"),
        _payment(extra="field"),
    ):
        response = await client.post(url, json=bad, headers=money())
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    problem(await client.post("/accounts/no-such/payments", json=_payment(), headers=money()), 404)
    problem(await client.post("/accounts/BAD ID/payments", json=_payment(), headers=money()), 422)
    assert await context.store.last_sequence() == log
