"""The money flow over HTTP: an account opened at the notary office, payments from households, a payment out
requested (reserved), co-signed by finance and the notary, executed; balances now and as of earlier dates."""

from datetime import timedelta

from sqlalchemy import select

from billing_escrow.application.read_model import ReadModels

from ..conftest import COMPOUND, Desk, FakeClock, Running, as_role, event_types, ok, problem


async def test_an_account_is_requested_opened_by_the_notary_and_activated(service: Running, desk: Desk) -> None:
    client, _context = service
    requested = ok(
        await client.post(
            "/accounts",
            json={"account_id": "acc-prop", "compound_id": COMPOUND, "purpose": "property_fee"},
            headers=as_role("finance"),
        ),
        201,
    )
    assert (requested["status"], requested["notary"], requested["version"]) == ("requested", None, 1)
    assert requested["required_roles"] == ["center_finance", "notary"]
    # The same request again is the same account; another compound under the same id is not.
    again = await client.post(
        "/accounts",
        json={"account_id": "acc-prop", "compound_id": COMPOUND, "purpose": "property_fee"},
        headers=as_role("finance"),
    )
    assert again.status_code == 200 and again.json()["version"] == 1
    other = await client.post(
        "/accounts",
        json={"account_id": "acc-prop", "compound_id": "another", "purpose": "property_fee"},
        headers=as_role("finance"),
    )
    assert problem(other, 409)["type"].endswith("/id-already-used")

    opened_body = {
        "notary_reference": "(2026)皖滁天证字第0301号",
        "supervising_notary_name": "赵公证员",
        "bank_account": {"bank_name": "工行", "account_number": "1313-01", "account_name": "监管户"},
    }
    problem(await client.post("/accounts/acc-prop/open", json=opened_body, headers=as_role("finance")), 403)
    opened = ok(await client.post("/accounts/acc-prop/open", json=opened_body, headers=as_role("notary")))
    assert opened["status"] == "opened"
    assert opened["notary"]["supervising_notary_id"] == "notary-1"  # the notary who recorded it, by default
    assert opened["notary"]["bank_account"]["account_number"] == "1313-01"
    active = ok(await client.post("/accounts/acc-prop/activate", headers=as_role("finance")))
    assert (active["status"], active["version"]) == ("active", 3)
    refused = await client.post("/accounts/acc-prop/activate", headers=as_role("finance"))
    assert problem(refused, 409)["type"].endswith("/invalid-transition")

    listed = ok(await client.get("/accounts", params={"compound_id": COMPOUND}, headers=as_role("notary")))
    assert [a["account_id"] for a in listed] == ["acc-prop"]
    assert ok(await client.get("/accounts", params={"status": "closed"}, headers=as_role("auditor"))) == []


async def test_money_in_reserved_co_signed_and_paid_out(service: Running, desk: Desk, clock: FakeClock) -> None:
    client, context = service
    await desk.active_account("acc-water", purpose="water")
    for household in ("h-301", "h-302", "h-303"):
        await desk.household(household)
    opened_on = clock.today
    clock.advance(days=2)
    yesterday = clock.today - timedelta(days=1)
    for household, amount in (("h-301", 30_000), ("h-302", 20_000), ("h-303", 50_000)):
        answer = await desk.pay("acc-water", household, amount, booked_on=yesterday)
        assert answer["recorded"] is True
    account = await desk.account("acc-water")
    assert (account["held_fen"], account["reserved_fen"], account["available_fen"]) == (100_000, 0, 100_000)

    requested = await desk.request_disbursement("acc-water", "d-water-1", 60_000)
    answer = ok(requested, 201)
    assert answer["disbursement"]["status"] == "pending"
    assert answer["disbursement"]["missing_roles"] == ["center_finance", "notary"]
    assert answer["disbursement"]["requested_by"] == "finance-1"
    # Reserved at once, charged pro rata to what each household has free.
    charges = {c["household_id"]: c["amount_fen"] for c in answer["disbursement"]["charges"]}
    assert charges == {"h-301": 18_000, "h-302": 12_000, "h-303": 30_000}
    assert (answer["account"]["reserved_fen"], answer["account"]["available_fen"]) == (60_000, 40_000)

    notary_queue = ok(await client.get("/disbursements", params={"awaiting": "notary"}, headers=as_role("notary")))
    assert [d["disbursement_id"] for d in notary_queue] == ["d-water-1"]

    ok(await desk.sign("acc-water", "d-water-1", "center_finance", "finance-2"))
    refused = await desk.execute("acc-water", "d-water-1")
    assert "notary" in problem(refused, 409)["detail"]  # not yet co-signed by the notary
    finance_queue = ok(await client.get("/disbursements?awaiting=center_finance", headers=as_role("finance")))
    assert finance_queue == []
    assert len(ok(await client.get("/disbursements?awaiting=notary", headers=as_role("finance")))) == 1

    signed = ok(await desk.sign("acc-water", "d-water-1", "notary", "notary"))["disbursement"]
    assert signed["fully_signed"] is True and signed["missing_roles"] == []
    assert [(s["role"], s["signer_id"]) for s in signed["signatures"]] == [
        ("center_finance", "finance-2"),
        ("notary", "notary-1"),
    ]
    assert ok(await client.get("/disbursements?awaiting=notary", headers=as_role("notary"))) == []

    executed = ok(await desk.execute("acc-water", "d-water-1"))
    assert executed["disbursement"]["status"] == "executed"
    assert executed["disbursement"]["executed_on"] == clock.today.isoformat()
    assert (executed["account"]["held_fen"], executed["account"]["reserved_fen"]) == (40_000, 0)

    now = await desk.balances("acc-water")
    assert (now["held_fen"], now["reserved_fen"], now["available_fen"], now["difference_fen"]) == (40_000, 0, 40_000, 0)
    lines = {line["household_id"]: line for line in now["households"]}
    assert lines["h-301"] | {"household_id": "h-301"} == {
        "household_id": "h-301",
        "paid_in_fen": 30_000,
        "reallocated_fen": 0,
        "paid_out_fen": 18_000,
        "free_fen": 12_000,
        "reserved_fen": 0,
        "balance_fen": 12_000,
        "reconciled": True,
    }
    assert all(line["reconciled"] for line in now["households"])
    # As of yesterday: the payments had come in, nothing had gone out; before that, nothing at all.
    then = await desk.balances("acc-water", as_of=yesterday)
    assert (then["held_fen"], then["available_fen"]) == (100_000, 100_000)
    assert (await desk.balances("acc-water", as_of=opened_on))["held_fen"] == 0

    ledger = ok(await client.get("/accounts/acc-water/households/h-303", headers=as_role("notary")))
    assert [(e["kind"], e["effect_fen"]) for e in ledger["entries"]] == [
        ("payment_in", 50_000),
        ("reservation", 0),
        ("payment_out", -30_000),
    ]
    journal = ok(await client.get("/accounts/acc-water/journal", headers=as_role("auditor")))
    assert [(j["kind"], j["bank_change_fen"]) for j in journal] == [
        ("payment_in", 30_000),
        ("payment_in", 20_000),
        ("payment_in", 50_000),
        ("reservation", 0),
        ("payment_out", -60_000),
    ]
    assert (await event_types(context, "account.acc-water"))[-4:] == [
        "DisbursementRequested",
        "DisbursementSigned",
        "DisbursementSigned",
        "DisbursementExecuted",
    ]


async def test_corrections_are_new_entries(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-prop", purpose="property_fee")
    await desk.household("h-101")
    await desk.household("h-102")
    paid = await desk.pay("acc-prop", "h-101", 12_000, movement_id="pay-wrong-flat")
    assert paid["account"]["held_fen"] == 12_000
    moved = await client.post(
        "/accounts/acc-prop/reallocations",
        json={
            "movement_id": "move-1",
            "from_household_id": "h-101",
            "to_household_id": "h-102",
            "amount_fen": 12_000,
            "reason": "付款时填错了房号",
        },
        headers=as_role("finance") | {"Idempotency-Key": "move-1"},
    )
    assert ok(moved, 201)["account"]["held_fen"] == 12_000
    # Money can only move to a household of the compound.
    nowhere = await client.post(
        "/accounts/acc-prop/reallocations",
        json={
            "movement_id": "move-2",
            "from_household_id": "h-102",
            "to_household_id": "h-999",
            "amount_fen": 1,
            "reason": "?",
        },
        headers=as_role("finance") | {"Idempotency-Key": "move-2"},
    )
    assert problem(nowhere, 422)["errors"][0]["field"] == "to_household_id"
    # The payment cannot be reversed while its money is no longer free in h-101...
    reverse = {"movement_id": "rev-1", "reverses": "pay-wrong-flat", "reason": "银行退回"}
    blocked = await client.post(
        "/accounts/acc-prop/reversals", json=reverse, headers=as_role("finance") | {"Idempotency-Key": "r1"}
    )
    assert problem(blocked, 409)["type"].endswith("/insufficient-funds")
    # ...until the reallocation is itself reversed.
    undo = {"movement_id": "rev-0", "reverses": "move-1", "reason": "改回"}
    ok(
        await client.post(
            "/accounts/acc-prop/reversals", json=undo, headers=as_role("finance") | {"Idempotency-Key": "r0"}
        ),
        201,
    )
    reversed_ = await client.post(
        "/accounts/acc-prop/reversals", json=reverse, headers=as_role("finance") | {"Idempotency-Key": "r2"}
    )
    assert ok(reversed_, 201)["account"]["held_fen"] == 0
    lines = {line["household_id"]: line for line in (await desk.balances("acc-prop"))["households"]}
    assert (lines["h-101"]["paid_in_fen"], lines["h-101"]["balance_fen"]) == (0, 0)
    assert (lines["h-102"]["reallocated_fen"], lines["h-102"]["balance_fen"]) == (0, 0)
    unknown = {"movement_id": "rev-9", "reverses": "no-such-movement", "reason": "?"}
    problem(
        await client.post(
            "/accounts/acc-prop/reversals", json=unknown, headers=as_role("finance") | {"Idempotency-Key": "r9"}
        ),
        404,
    )


async def test_holds_block_payments_out_not_money_in(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-elec")
    await desk.household("h-301")
    await desk.pay("acc-elec", "h-301", 50_000)
    frozen = ok(
        await client.post(
            "/accounts/acc-elec/holds", json={"hold_id": "court-1", "reason": "法院冻结"}, headers=as_role("supervisor")
        )
    )
    assert frozen["status"] == "frozen" and frozen["holds"][0]["hold_id"] == "court-1"
    problem(await desk.request_disbursement("acc-elec", "d-1", 10_000), 409)
    await desk.pay("acc-elec", "h-301", 1_000)  # money still comes in
    lifted = ok(await client.post("/accounts/acc-elec/holds/court-1/lift", json={}, headers=as_role("supervisor")))
    assert lifted["status"] == "active" and lifted["holds"] == []
    ok(await desk.request_disbursement("acc-elec", "d-1", 10_000), 201)
    # Closing needs a zero balance and nothing pending (and the ETag of what was read).
    etag = (await client.get("/accounts/acc-elec", headers=as_role("finance"))).headers["etag"]
    refused = await client.post(
        "/accounts/acc-elec/close", json={"reason": "移交完成"}, headers=as_role("finance") | {"If-Match": etag}
    )
    assert "it still holds money" in problem(refused, 409)["detail"]


async def test_read_models_rebuilt_from_the_log_are_the_same(service: Running, desk: Desk) -> None:
    """Every read model is a function of the log: rebuilding it from scratch gives the very same rows."""
    client, context = service
    await desk.active_account("acc-elec")
    for household in ("h-301", "h-302"):
        await desk.household(household)
        await desk.pay("acc-elec", household, 40_000)
    ok(await desk.request_disbursement("acc-elec", "d-1", 30_000), 201)
    await desk.signed_and_executed("acc-elec", "d-1")
    ok(await desk.request_disbursement("acc-elec", "d-2", 10_000), 201)
    ok(await client.post("/handovers", json={"compound_id": COMPOUND}, headers=as_role("finance")), 201)

    async def snapshot() -> dict[str, list[tuple[object, ...]]]:
        tables = [table for projection in ReadModels.of(context.store).all() for table in projection.tables]
        async with context.store.engines.reader.connect() as conn:
            return {
                table.name: sorted(tuple(row) for row in (await conn.execute(select(table))).all()) for table in tables
            }

    before = await snapshot()
    assert before["escrow_disbursement_view"] and before["escrow_household_movement_view"]
    assert await context.store.rebuild_projections() == len(await event_types(context))
    assert await snapshot() == before


async def test_closed_at_zero_and_reopened_by_the_notary(service: Running, desk: Desk) -> None:
    client, _context = service
    await desk.active_account("acc-water", purpose="water")
    await desk.household("h-301")
    paid = await desk.pay("acc-water", "h-301", 500, movement_id="pay-1")
    undo = {"movement_id": "rev-1", "reverses": "pay-1", "reason": "银行退票"}
    ok(
        await client.post(
            "/accounts/acc-water/reversals", json=undo, headers=as_role("finance") | {"Idempotency-Key": "u1"}
        ),
        201,
    )
    version = paid["account"]["version"] + 1
    closed = ok(
        await client.post(
            "/accounts/acc-water/close",
            json={"reason": "监管结束"},
            headers=as_role("supervisor") | {"If-Match": f'"{version}"'},
        )
    )
    assert (closed["status"], closed["held_fen"]) == ("closed", 0) and closed["closed_at"]
    problem(await client.post("/accounts/acc-water/payments", json={
        "movement_id": "pay-2", "household_id": "h-301", "amount_fen": 1, "channel": "alipay", "reference": "r2"},
        headers=as_role("finance") | {"Idempotency-Key": "p2"}), 409)  # fmt: skip
    problem(await client.post("/accounts/acc-water/reopen", json={"reason": "补缴"}, headers=as_role("finance")), 403)
    reopened = ok(await client.post("/accounts/acc-water/reopen", json={"reason": "补缴"}, headers=as_role("notary")))
    assert (reopened["status"], reopened["closed_at"]) == ("active", None)
