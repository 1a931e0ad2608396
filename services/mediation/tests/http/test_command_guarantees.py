"""What every mediation command guarantees over HTTP: idempotent retries, conditional writes, roles, and domain
refusals as problem+json answers that change nothing."""

import uuid
from datetime import timedelta
from typing import Any

import httpx

from ..conftest import Desk, FakeClock, Service, as_role

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = dict(response.json())
    assert body["status"] == status and body["title"] and body["type"]
    return body


async def test_a_retried_command_is_answered_once_and_a_reused_key_is_a_422(service: Service, desk: Desk) -> None:
    client, context = service
    await desk.refer("case-retry")
    log_before = await context.store.last_sequence()
    headers = as_role("mediator", **{"Idempotency-Key": "accept-1", "If-Match": '"1"'})
    first = await client.post("/cases/case-retry/accept", headers=headers)
    # The retry carries the same (now stale) If-Match: it still gets the first answer, not a 412.
    retry = await client.post("/cases/case-retry/accept", headers=headers)
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.content == first.content and retry.headers["etag"] == '"2"'
    assert retry.headers["idempotent-replayed"] == "true"
    assert await context.store.last_sequence() == log_before + 1

    key = as_role("mediator", **{"Idempotency-Key": "schedule-1"})
    starts = desk.clock.now + timedelta(days=1)
    ends = starts + timedelta(hours=1)
    meeting = {
        "place": "党群服务站",
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "agenda": ["核对欠费"],
    }
    assert (await client.post("/cases/case-retry/meetings", json=meeting, headers=key)).status_code == 200
    other = await client.post("/cases/case-retry/meetings", json=meeting | {"place": "会议室"}, headers=key)
    assert problem(other, 422)["type"].endswith("/idempotency-key-reused")
    detail = (await client.get("/cases/case-retry", headers=as_role("auditor"))).json()
    assert [m["place"] for m in detail["meetings"]] == ["党群服务站"]


async def test_a_stale_if_match_is_a_412_and_signing_without_one_a_428(service: Service, desk: Desk) -> None:
    client, context = service
    await desk.accepted("case-412")
    stale = await client.post(
        "/cases/case-412/parties/party-1/rights-informed", json={}, headers=as_role("mediator", **{"If-Match": '"1"'})
    )
    body = problem(stale, 412)
    assert body["current_version"] == 3 and stale.headers["etag"] == '"3"'
    await desk.post(
        "case-412",
        "/agreement",
        {"party_ids": ["party-1", "party-2"], "facts": "事实", "issues": ["欠费"], "terms": desk.terms()[1:]},
    )
    log_before = await context.store.last_sequence()
    unconditional = await client.post(
        "/cases/case-412/agreement/signatures", json={"party_id": "party-1"}, headers=as_role("mediator")
    )
    assert problem(unconditional, 428)["type"].endswith("/if-match-required")
    unconditional_amend = await client.post(
        "/cases/case-412/agreement/amend",
        json={"party_ids": ["party-1", "party-2"], "facts": "新事实", "issues": ["欠费"], "terms": desk.terms()[1:],
              "reason": "改"},
        headers=as_role("mediator"),
    )  # fmt: skip
    assert problem(unconditional_amend, 428)["status"] == 428
    assert await context.store.last_sequence() == log_before
    # With the version read, it is signed.
    signed = await client.post(
        "/cases/case-412/agreement/signatures",
        json={"party_id": "party-1"},
        headers=as_role("mediator", **{"If-Match": '"4"'}),
    )
    assert signed.status_code == 200 and signed.headers["etag"] == '"5"'


async def test_only_the_right_roles_may_act(service: Service, desk: Desk) -> None:
    client, context = service
    await desk.refer("case-roles")
    log_before = await context.store.last_sequence()
    anonymous = await client.post("/cases/case-roles/accept")
    assert problem(anonymous, 401)["type"].endswith("/unauthenticated")
    for role in ("auditor", "handler", "intake", "finance"):
        refused = problem(await client.post("/cases/case-roles/accept", headers=as_role(role)), 403)
        assert refused["required_roles"] == ["mediator", "supervisor"]
    # Only a supervisor assigns the mediator.
    mediator = {"mediator": {"id": "m-chen", "name": "陈静"}}
    assert problem(await client.post("/cases/case-roles/mediator", json=mediator, headers=as_role("mediator")), 403)
    assert await context.store.last_sequence() == log_before
    # Auditors read everything.
    assert (await client.get("/cases/case-roles", headers=as_role("auditor"))).status_code == 200
    assert problem(await client.get("/cases", headers=as_role("handler")), 403)["status"] == 403


async def test_domain_refusals_are_problems_that_change_nothing(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, context = service
    unknown = await client.post("/cases/no-such-case/accept", headers=as_role("mediator"))
    assert problem(unknown, 404)["type"].endswith("/case-not-found")
    assert problem(await client.get("/cases/no-such-case", headers=as_role("mediator")), 404)
    await desk.refer("case-refusals")
    log_before = await context.store.last_sequence()

    # The state does not allow it: 409, naming the command and the state.
    early = problem(await client.post("/cases/case-refusals/close", json={}, headers=as_role("mediator")), 409)
    assert early["type"].endswith("/invalid-transition") and early["status_now"] == "opened"
    await desk.post("case-refusals", "/accept")
    log_before = await context.store.last_sequence()
    # An unknown meeting: 404 naming it.
    missing = await client.post(
        "/cases/case-refusals/meetings/meeting-9/cancel", json={"reason": "x"}, headers=as_role("mediator")
    )
    assert problem(missing, 404)["type"].endswith("/unknown-meeting")
    # Not a party: 409 of its own type.
    invited = await client.post(
        "/cases/case-refusals/meetings", headers=as_role("mediator"),
        json={"place": "会议室", "starts_at": (clock.now + timedelta(days=1)).isoformat(),
              "ends_at": (clock.now + timedelta(days=1, hours=1)).isoformat(), "agenda": ["议程"]},
    )  # fmt: skip
    assert invited.status_code == 200
    log_before = await context.store.last_sequence()
    stranger = await client.post(
        "/cases/case-refusals/meetings/meeting-1/invitations",
        json={"party_ids": ["party-9"]},
        headers=as_role("mediator"),
    )
    assert problem(stranger, 409)["type"].endswith("/not-a-party")
    # Input the domain finds wrong: 422 listing every problem, without echoing the input.
    terms = desk.terms()
    terms[0]["due_at"] = (clock.now - timedelta(days=1)).isoformat()
    terms[1]["obligor"] = "party-4"
    bad = await client.post(
        "/cases/case-refusals/agreement",
        json={"party_ids": ["party-1", "party-2", "party-9"], "facts": "事实", "issues": ["欠费"], "terms": terms},
        headers=as_role("mediator"),
    )
    fields = {error["field"] for error in problem(bad, 422)["errors"]}
    assert {"party_ids.2", "terms.0.due_at"} <= fields
    # A term may only name an event this service listens for, by fields that event has.
    unheard = desk.terms()
    unheard[0]["fulfilled_by"] = {"service": "escrow", "event_type": "jinlin.escrow.PaymentReceived.v1",
                                  "match": {"compound_id": "jinyuan-huating"}}  # fmt: skip
    typo = desk.terms()
    typo[0]["fulfilled_by"]["match"] = {"compound": "jinyuan-huating"}
    for wrong, field in ((unheard, "terms.0.fulfilled_by.event_type"), (typo, "terms.0.fulfilled_by.match")):
        answer = await client.post(
            "/cases/case-refusals/agreement",
            json={"party_ids": ["party-1", "party-2"], "facts": "事实", "issues": ["欠费"], "terms": wrong},
            headers=as_role("mediator"),
        )
        assert [error["field"] for error in problem(answer, 422)["errors"]] == [field]
    # Malformed input never reaches the domain: 422 from validation (a naive time, an absurd year, a stray field).
    for body in (
        {"due_at": "2026-12-30T10:00:00", "reason": "r"},
        {"due_at": "9999-12-31T23:00:00-05:00", "reason": "r"},
        {"due_at": "2026-12-30T10:00:00+08:00", "reason": "r", "extra": 1},
    ):
        invalid = await client.post("/cases/case-refusals/deadline-extensions", json=body, headers=as_role("mediator"))
        assert problem(invalid, 422)["type"].endswith("/invalid-request")
    assert await context.store.last_sequence() == log_before


async def test_a_failed_command_leaves_its_key_free_for_the_corrected_retry(service: Service, desk: Desk) -> None:
    client, _context = service
    await desk.accepted("case-key")
    key = uuid.uuid4().hex
    wrong = await client.post(
        "/cases/case-key/parties/party-9/rights-informed",
        json={},
        headers=as_role("mediator", **{"Idempotency-Key": key}),
    )
    assert wrong.status_code == 409
    again = await client.post(
        "/cases/case-key/parties/party-9/rights-informed",
        json={},
        headers=as_role("mediator", **{"Idempotency-Key": key}),
    )
    assert again.status_code == 409 and "idempotent-replayed" not in again.headers
