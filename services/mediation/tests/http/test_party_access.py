"""Parties read their own case: the desk grants a party a token (shown once, kept nowhere in clear), the party reads
their case and its agreement with it and answers their own invitations; nothing else, and not after it was revoked,
expired, or the party left."""

import hashlib
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from mediation.application.loading import read_case

from ..conftest import Desk, FakeClock, Service, agreed_with_a_resident, as_role

CASE = "case-doc"


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


async def grant(desk: Desk, party_id: str, case_id: str = CASE, **body: Any) -> dict[str, Any]:
    """The desk's answer to granting ``party_id`` access (the token in ``["token"]``)."""
    response = await desk.client.post(
        f"/cases/{case_id}/parties/{party_id}/access",
        json=body,
        headers=as_role("mediator", **{"Idempotency-Key": uuid.uuid4().hex}),
    )
    assert response.status_code == 201, response.text
    desk.etags[case_id] = response.headers["etag"]
    answer: dict[str, Any] = response.json()
    return answer


def refused_with(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(f"/{slug}")


async def test_the_desk_grants_a_token_shown_once_and_kept_nowhere(
    service: Service, desk: Desk, clock: FakeClock, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, context = service
    await agreed_with_a_resident(desk, clock)
    key = {"Idempotency-Key": "grant-party-5"}
    first = await client.post(f"/cases/{CASE}/parties/party-5/access", json={}, headers=as_role("mediator", **key))
    assert first.status_code == 201, first.text
    issued = first.json()
    token = issued["token"]
    assert re.fullmatch(rf"jlp_{CASE}\.[A-Za-z0-9_-]{{43}}", token)
    assert first.headers["cache-control"] == "no-store"
    assert (issued["access_id"], issued["party_id"], issued["read_at"]) == ("access-1", "party-5", "/party/case")
    assert issued["expires_at"].startswith(str((clock.now + timedelta(days=90)).date()))
    assert issued["ends_at"] == issued["expires_at"]
    # A retry with the same key replays the answer, without the token: nothing kept it to answer again.
    again = await client.post(f"/cases/{CASE}/parties/party-5/access", json={}, headers=as_role("mediator", **key))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == issued | {"token": None} and again.headers["etag"] == first.headers["etag"]
    # The case keeps the token's digest, and the token is nowhere in the store (events, idempotency records, views).
    detail = (await client.get(f"/cases/{CASE}", headers=as_role("mediator"))).json()
    [granted] = [entry for entry in detail["history"] if entry["type"].endswith("PartyAccessGranted.v1")]
    assert "token_sha256" not in granted["data"]  # not even the digest is shown to readers of the history
    _state, events = await read_case(context.store, CASE)
    stored = [event for event in events if event.type.endswith("PartyAccessGranted.v1")]
    assert stored[0].data["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    # Nor in the logs, also when the party uses it.
    assert (await client.get("/party/case", headers=bearer(token))).status_code == 200
    assert token.split(".", 1)[1] not in caplog.text and "request answered" in caplog.text
    if database_url.startswith("sqlite"):
        database = Path(database_url.split(":///", 1)[1])
        secret = token.split(".", 1)[1].encode()
        for path in database.parent.glob(database.name + "*"):  # the database, its WAL and shared memory
            assert secret not in path.read_bytes(), path.name
    [access] = detail["party_access"]
    assert access == {
        "access_id": "access-1",
        "party_id": "party-5",
        "granted_at": detail["updated_at"],
        "expires_at": issued["expires_at"],
        "ends_at": issued["expires_at"],
        "status": "active",
        "revoked_at": None,
        "revocation_reason": None,
    }


async def test_only_the_desk_grants_and_only_to_a_party(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)
    auditor = await client.post(f"/cases/{CASE}/parties/party-5/access", json={}, headers=as_role("auditor"))
    refused_with(auditor, 403, "role-required")
    stranger = await client.post(f"/cases/{CASE}/parties/party-9/access", json={}, headers=as_role("mediator"))
    refused_with(stranger, 409, "not-a-party")
    for valid_days in (0, 366):
        too_long = await client.post(
            f"/cases/{CASE}/parties/party-5/access", json={"valid_days": valid_days}, headers=as_role("mediator")
        )
        assert too_long.status_code == 422
    nowhere = await client.post("/cases/case-nowhere/parties/party-1/access", json={}, headers=as_role("mediator"))
    refused_with(nowhere, 404, "case-not-found")
    detail = (await client.get(f"/cases/{CASE}", headers=as_role("mediator"))).json()
    assert detail["party_access"] == []


async def test_a_party_reads_their_own_case_without_the_others_personal_data(
    service: Service, desk: Desk, clock: FakeClock
) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)
    resident = (await grant(desk, "party-5"))["token"]
    company = (await grant(desk, "party-1"))["token"]
    staff_view = (await client.get(f"/cases/{CASE}", headers=as_role("mediator"))).json()
    person_refs = [p["person_ref"] for p in staff_view["parties"] if p["person_ref"]]
    assert len(person_refs) == 2  # the residents' representative (sealed by complaints) and the resident

    response = await client.get("/party/case", headers=bearer(resident))
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == desk.etags[CASE] and response.headers["cache-control"] == "no-store"
    mine = response.json()
    assert (mine["case_id"], mine["status"], mine["mediator"]) == (CASE, "accepted", "陈静")
    assert mine["you"] == {"party_id": "party-5", "kind": "resident", "name": "李桂兰", "you": True}
    assert mine["access"]["access_id"] == "access-1"
    names = {party["party_id"]: party["name"] for party in mine["parties"]}
    assert names == {
        "party-1": "天长市金园物业服务有限公司",
        "party-2": "国网天长市供电公司",
        "party-3": "金园华庭业主委员会",
        "party-4": "（已脱敏）",
        "party-5": "李桂兰",
    }
    # The meeting they were invited to (with their answer), the draft they are asked to sign, their terms.
    [meeting] = mine["meetings"]
    assert (meeting["meeting_id"], meeting["place"], meeting["your_rsvp"]) == ("meeting-1", "金园华庭党群服务站", None)
    assert meeting["may_answer"] is False  # it took place
    agreement = mine["agreement"]
    assert (agreement["in_effect"], agreement["unsigned_party_ids"]) == (False, ["party-1", "party-2", "party-5"])
    assert {t["term_id"]: (t["obligor_name"], t["yours"]) for t in agreement["terms"]} == {
        "t-arrears": ("天长市金园物业服务有限公司", False),
        "t-meters": ("李桂兰", True),
    }
    assert agreement["document_pdf"] == "/party/case/agreement.pdf"
    assert mine["obligations"] == []
    # Nothing of the others' personal data, nor what links a person across cases, nor the desk's own record.
    for absent in [*person_refs, "person_ref", "person_name_enc", "complaint_ids", "minutes", "history"]:
        assert absent not in response.text, absent

    theirs = (await client.get("/party/case", headers=bearer(company))).json()
    assert theirs["you"]["party_id"] == "party-1"
    assert {p["party_id"]: p["name"] for p in theirs["parties"]}["party-5"] == "（已脱敏）"
    assert "李桂兰" not in str(theirs)


async def test_a_party_follows_the_agreement_they_signed(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)
    for party in ("party-1", "party-2", "party-5"):
        await desk.post(CASE, "/agreement/signatures", {"party_id": party})
    await desk.post(CASE, "/obligations/t-arrears/fulfil", {"evidence": "结清证明 GD-118"})
    token = (await grant(desk, "party-5"))["token"]
    clock.advance(days=45)  # past the meters' due date
    mine = (await client.get("/party/case", headers=bearer(token))).json()
    assert mine["status"] == "agreement_in_effect"
    assert mine["agreement"]["in_effect"] is True and mine["agreement"]["confirmation_deadline"] is not None
    obligations = {o["term_id"]: (o["status"], o["overdue"], o["yours"]) for o in mine["obligations"]}
    assert obligations == {"t-arrears": ("fulfilled", False, False), "t-meters": ("open", True, True)}

    pdf = await client.get("/party/case/agreement.pdf", headers=bearer(token))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages))
    for phrase in ("人民调解协议书", "李桂兰（party-5）", "天长市金园物业服务有限公司", "改造竣工验收单", "三十日内"):
        assert phrase in text, phrase
    page = await client.get("/party/case/agreement.html", headers=bearer(token))
    assert page.status_code == 200 and "李桂兰（party-5）" in page.text
    # The company's copy of the same agreement withholds the resident's name.
    company = (await grant(desk, "party-1"))["token"]
    theirs = await client.get("/party/case/agreement.html", headers=bearer(company))
    assert "李桂兰" not in theirs.text and "（已脱敏）（party-5）" in theirs.text


async def test_a_party_answers_their_own_invitation(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await desk.accepted(CASE)
    starts = clock.now + timedelta(days=2)
    meeting = {"place": "服务站", "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()}
    await desk.post(CASE, "/meetings", meeting | {"agenda": ["欠费"]})
    await desk.post(CASE, "/meetings", meeting | {"agenda": ["改造"]})
    await desk.post(CASE, "/meetings/meeting-1/invitations", {"party_ids": ["party-2"]})
    token = (await grant(desk, "party-2"))["token"]

    mine = (await client.get("/party/case", headers=bearer(token))).json()
    assert [(m["meeting_id"], m["may_answer"]) for m in mine["meetings"]] == [("meeting-1", True)]
    headers = bearer(token, **{"Idempotency-Key": "rsvp-1", "If-Match": desk.etags[CASE]})
    answered = await client.post("/party/case/meetings/meeting-1/rsvp", json={"rsvp": "yes"}, headers=headers)
    assert answered.status_code == 200, answered.text
    assert answered.json()["meetings"][0]["your_rsvp"] == "yes"
    replay = await client.post("/party/case/meetings/meeting-1/rsvp", json={"rsvp": "yes"}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == answered.json()
    stale = await client.post("/party/case/meetings/meeting-1/rsvp", json={"rsvp": "no"}, headers=bearer(
        token, **{"If-Match": desk.etags[CASE]}))  # fmt: skip
    refused_with(stale, 412, "stale-if-match")
    # The desk sees the answer, recorded by the party through their access.
    detail = (await client.get(f"/cases/{CASE}", headers=as_role("mediator"))).json()
    assert detail["meetings"][0]["rsvps"] == {"party-2": "yes"}
    assert detail["history"][-1]["actor"] == "party:party-2/access-1"
    # Only their own invitation: not a meeting they were not invited to, not one that does not exist.
    not_invited = await client.post("/party/case/meetings/meeting-2/rsvp", json={"rsvp": "no"}, headers=bearer(token))
    refused_with(not_invited, 409, "invalid-transition")
    unknown = await client.post("/party/case/meetings/meeting-9/rsvp", json={"rsvp": "no"}, headers=bearer(token))
    refused_with(unknown, 404, "unknown-meeting")
    # Their party id comes from the access, never from the request.
    sneaky = {"rsvp": "no", "party_id": "party-1"}
    for_another = await client.post("/party/case/meetings/meeting-1/rsvp", json=sneaky, headers=bearer(token))
    assert for_another.status_code == 422
    clock.advance(days=2)
    late = await client.post("/party/case/meetings/meeting-1/rsvp", json={"rsvp": "no"}, headers=bearer(token))
    refused_with(late, 409, "invalid-transition")


async def test_a_party_token_opens_nothing_else(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)
    await desk.accepted("case-other")
    token = (await grant(desk, "party-5"))["token"]
    # Not the desk's routes, for this case or another: reads and commands alike.
    for method, path in (
        ("GET", f"/cases/{CASE}"),
        ("GET", "/cases/case-other"),
        ("GET", "/cases"),
        ("GET", f"/cases/{CASE}/record.pdf"),
        ("GET", f"/cases/{CASE}/parties"),
        ("POST", f"/cases/{CASE}/accept"),
        ("POST", f"/cases/{CASE}/parties/party-5/access"),
    ):
        answer = await client.request(method, path, headers=bearer(token), json={})
        refused_with(answer, 403, "party-token-on-staff-route")
    # Another case through the party's routes: the token's case id changed is another token, which nobody was given.
    forged = token.replace(f"jlp_{CASE}.", "jlp_case-other.")
    refused_with(await client.get("/party/case", headers=bearer(forged)), 401, "invalid-party-token")
    for nonsense in ("jlp_", "jlp_case-doc", "jlp_CASE.x", token[:-1], token + "x"):
        refused_with(await client.get("/party/case", headers=bearer(nonsense)), 401, "invalid-party-token")
    unknown = await client.get("/party/case", headers=bearer("not-a-token-of-anyone"))
    refused_with(unknown, 401, "invalid-party-token")
    assert unknown.headers["www-authenticate"] == 'Bearer realm="jinlin-party", error="invalid_token"'
    refused_with(await client.get("/party/case"), 401, "party-token-required")
    # Staff read cases on the desk's routes, not as a party.
    refused_with(await client.get("/party/case", headers=as_role("mediator")), 403, "staff-token-on-party-route")


async def test_revoked_expired_and_lapsed_access_is_refused(service: Service, desk: Desk, clock: FakeClock) -> None:
    client, _ = service
    await agreed_with_a_resident(desk, clock)
    lost = (await grant(desk, "party-5"))["token"]
    kept = (await grant(desk, "party-5", valid_days=10))["token"]
    leaving = (await grant(desk, "party-4"))["token"]
    assert (await client.get("/party/case", headers=bearer(lost))).status_code == 200

    revoked = await desk.post(CASE, "/parties/party-5/access/access-1/revoke", {"reason": "链接转发到业主群"})
    assert [(a["access_id"], a["status"]) for a in revoked["party_access"]] == [
        ("access-1", "revoked"),
        ("access-2", "active"),
        ("access-3", "active"),
    ]
    answer = await client.get("/party/case", headers=bearer(lost))
    refused_with(answer, 401, "party-access-not-in-force")
    assert answer.json()["reason"] == "revoked" and "mediator" in answer.json()["detail"]
    assert (await client.get("/party/case", headers=bearer(kept))).status_code == 200
    await desk.post(CASE, "/parties/party-5/access/access-1/revoke", {"reason": "再次"}, status=409)
    await desk.post(CASE, "/parties/party-4/access/access-1/revoke", {"reason": "别人的"}, status=404)

    await desk.post(CASE, "/parties/party-4/remove", {"reason": "非争议方"})
    answer = await client.get("/party/case", headers=bearer(leaving))
    refused_with(answer, 401, "party-access-not-in-force")
    assert answer.json()["reason"] == "party_removed"

    clock.advance(days=10)
    answer = await client.get("/party/case/agreement.pdf", headers=bearer(kept))
    refused_with(answer, 401, "party-access-not-in-force")
    assert answer.json()["reason"] == "expired"
