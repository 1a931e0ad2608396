"""The notary's statements over HTTP: a periodic statement for a closed month, an on-demand one, the chain between
them, and the three documents served, which the notary's offline verification accepts."""

from datetime import date, timedelta
from pathlib import Path

from billing_escrow.statements.keys import load_public_key
from billing_escrow.statements.verify import verify_statement_files

from ..conftest import Desk, FakeClock, Running, as_role, event_types, ok, problem

ACCOUNT = "acc-elec"


async def _a_month_of_money(desk: Desk, clock: FakeClock) -> None:
    """November 2026: the account opened on the 2nd, payments in, one payment out executed on the 20th."""
    await desk.active_account(ACCOUNT)
    await desk.household("h-301")
    await desk.household("h-302")
    await desk.pay(ACCOUNT, "h-301", 30_000)
    clock.advance(days=8)
    await desk.pay(ACCOUNT, "h-302", 20_000)
    clock.advance(days=10)
    ok(await desk.request_disbursement(ACCOUNT, "d-1", 15_000), 201)
    await desk.signed_and_executed(ACCOUNT, "d-1")
    clock.advance(days=12)  # Wednesday 2 December 2026
    assert clock.today == date(2026, 12, 2)


async def test_statements_periodic_and_on_demand(
    service: Running, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    client, context = service
    await _a_month_of_money(desk, clock)
    url = f"/accounts/{ACCOUNT}/statements"

    problem(await client.post(url, json={"kind": "periodic", "period": "2026-11"}, headers=as_role("notary")), 403)
    problem(await client.post(url, json={"kind": "periodic", "period": "2026-11"}, headers=as_role("auditor")), 403)
    first = ok(await client.post(url, json={"kind": "periodic", "period": "2026-11"}, headers=as_role("finance")), 201)
    assert (first["sequence"], first["kind"], first["provisional"], first["balanced"]) == (1, "periodic", False, True)
    assert (first["period_start"], first["period_end"]) == ("2026-11-02", "2026-11-30")  # from the day it opened
    assert (first["opening_balance_fen"], first["total_credits_fen"], first["total_debits_fen"]) == (0, 50_000, 15_000)
    assert first["closing_balance_fen"] == 35_000 and first["entries"] == 3
    assert first["previous_statement_hash"] == "0" * 64
    # The month's books are now closed: nothing more may be booked in it.
    assert (await desk.account(ACCOUNT))["books_closed_through"] == "2026-11-30"
    late = await client.post(
        f"/accounts/{ACCOUNT}/payments",
        json={"movement_id": "late", "household_id": "h-301", "amount_fen": 1, "channel": "alipay",
              "reference": "late-1", "booked_on": "2026-11-30"},
        headers=as_role("finance") | {"Idempotency-Key": "late"},
    )  # fmt: skip
    assert "closed" in problem(late, 422)["detail"]

    # Asked again: the same statement, nothing new.
    again = await client.post(url, json={"kind": "periodic", "period": "2026-11"}, headers=as_role("finance"))
    assert again.status_code == 200 and again.json()["statement_id"] == first["statement_id"]
    assert (await event_types(context)).count("StatementIssued") == 1
    # A month that is not over cannot be closed; one after an unstated month waits for it.
    problem(await client.post(url, json={"kind": "periodic", "period": "2026-12"}, headers=as_role("finance")), 422)

    await desk.pay(ACCOUNT, "h-301", 5_000)  # booked today, 2 December
    on_demand = {"kind": "on_demand", "period_start": "2026-12-01", "period_end": "2026-12-02"}
    second = ok(await client.post(url, json=on_demand, headers=as_role("notary")), 201)
    assert (second["sequence"], second["provisional"], second["previous_statement_hash"]) == (
        2,
        True,
        first["statement_hash"],
    )
    assert (second["opening_balance_fen"], second["closing_balance_fen"]) == (35_000, 40_000)
    problem(await client.post(url, json={"kind": "on_demand", "period": "2026-11"}, headers=as_role("notary")), 422)

    listed = ok(await client.get(url, headers=as_role("auditor")))
    assert [s["statement_id"] for s in listed] == [first["statement_id"], second["statement_id"]]
    detail = await client.get(f"/statements/{first['statement_id']}", headers=as_role("notary"))
    body = ok(detail)
    assert detail.headers["etag"] == '"1"'
    assert [e["movement_id"] for e in body["statement"]["entries"]][-1] == "d-1"
    assert body["statement"]["entries"][-1]["co_signatures"][1]["role"] == "notary"
    assert body["signature"]["alg"] == "Ed25519"

    # The three documents, by suffix, by ?format= and by Accept; the notary's offline check accepts them.
    folder = tmp_path / "notary"
    folder.mkdir()
    for statement in (first, second):
        statement_id = statement["statement_id"]
        stem = f"{statement['sequence']:06d}-{statement_id}"
        signed = await client.get(f"/statements/{statement_id}.json", headers=as_role("notary"))
        assert signed.headers["content-type"] == "application/json"
        xml = await client.get(f"/statements/{statement_id}", params={"format": "xml"}, headers=as_role("notary"))
        assert xml.headers["content-type"] == "application/xml" and xml.content.startswith(b"<?xml")
        pdf = await client.get(
            f"/statements/{statement_id}", headers=as_role("auditor") | {"Accept": "application/pdf"}
        )
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        assert (await client.get(f"/statements/{statement_id}.pdf", headers=as_role("notary"))).content[:4] == b"%PDF"
        for suffix, response in ((".json", signed), (".xml", xml), (".pdf", pdf)):
            (folder / f"{stem}{suffix}").write_bytes(response.content)
    # The notary pins the center's public key, as the service publishes it.
    published = ok(await client.get("/statement-signing-key", headers=as_role("notary")))
    pinned = tmp_path / "center.pub.pem"
    pinned.write_text(published["public_key_pem"])
    report = verify_statement_files([folder], trusted_keys=[load_public_key(pinned)])
    assert report.ok, [str(p) for p in report.problems]
    assert [(s.sequence, s.key_id) for s in report.statements] == [(1, published["key_id"]), (2, published["key_id"])]
    # An altered document is caught.
    signed_first = folder / f"000001-{first['statement_id']}.json"
    signed_first.write_bytes(signed_first.read_bytes().replace(b"30000", b"30001"))
    assert not verify_statement_files([folder], trusted_keys=[load_public_key(pinned)]).ok

    problem(await client.get("/statements/st-nothing", headers=as_role("notary")), 404)
    problem(await client.get("/statements/st-nothing.xml", headers=as_role("notary")), 404)
    problem(await client.get(f"/statements/{first['statement_id']}", headers=as_role("intake")), 403)


async def test_periodic_statements_follow_each_other_month_by_month(
    service: Running, desk: Desk, clock: FakeClock
) -> None:
    client, _context = service
    await _a_month_of_money(desk, clock)
    url = f"/accounts/{ACCOUNT}/statements"
    ok(await client.post(url, json={"kind": "periodic", "period": "2026-11"}, headers=as_role("finance")), 201)
    clock.advance(days=62)  # February 2027
    skipped = await client.post(url, json={"kind": "periodic", "period": "2027-01"}, headers=as_role("supervisor"))
    assert "2026-12" in problem(skipped, 409)["detail"]
    december = ok(
        await client.post(url, json={"kind": "periodic", "period": "2026-12"}, headers=as_role("supervisor")), 201
    )
    january = ok(
        await client.post(url, json={"kind": "periodic", "period": "2027-01"}, headers=as_role("supervisor")), 201
    )
    assert (december["period_start"], january["period_start"]) == ("2026-12-01", "2027-01-01")
    assert january["previous_statement_hash"] == december["statement_hash"]
    assert december["opening_balance_fen"] == 35_000 == january["closing_balance_fen"]
    stated_before = await client.post(url, json={"kind": "periodic", "period": "2026-10"}, headers=as_role("finance"))
    problem(stated_before, 422)  # the account was not open then (and its books are closed)
    unopened = await client.post(
        "/accounts",
        json={"account_id": "acc-new", "compound_id": "jinyuan-huating", "purpose": "water"},
        headers=as_role("finance"),
    )
    ok(unopened, 201)
    today = (clock.today - timedelta(days=1)).isoformat()
    problem(
        await client.post(
            "/accounts/acc-new/statements",
            json={"kind": "on_demand", "period_start": today, "period_end": today},
            headers=as_role("notary"),
        ),
        409,
    )
