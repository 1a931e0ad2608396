"""What every desk command guarantees over HTTP: idempotent retries, conditional writes, roles, problem answers."""

from typing import Any

import httpx
import pytest

from complaints.application.context import ComplaintsContext

from ..conftest import FileBody, as_role

Service = tuple[httpx.AsyncClient, ComplaintsContext]
PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = dict(response.json())
    assert body["status"] == status and body["title"] and body["type"]
    return body


async def filed(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await client.post("/complaints", json=body, headers=as_role("intake"))
    assert response.status_code == 201, response.text
    return str(response.json()["complaint_id"])


async def test_a_retried_filing_returns_the_first_answer_and_files_nothing_more(
    service: Service, complaint_body: FileBody
) -> None:
    client, context = service
    headers = as_role("intake") | {"Idempotency-Key": "file-0001"}
    first = await client.post("/complaints", json=complaint_body(), headers=headers)
    assert first.status_code == 201
    log_after_first = await context.store.last_sequence()
    retry = await client.post("/complaints", json=complaint_body(), headers=headers)
    assert retry.status_code == 201
    assert retry.content == first.content
    assert (retry.headers["etag"], retry.headers["location"]) == (first.headers["etag"], first.headers["location"])
    assert retry.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await context.store.last_sequence() == log_after_first == 1
    # Key order and spacing are not a different request.
    reordered = dict(reversed(list(complaint_body().items())))
    assert (await client.post("/complaints", json=reordered, headers=headers)).content == first.content


async def test_the_same_key_for_another_request_is_a_422_and_changes_nothing(
    service: Service, complaint_body: FileBody
) -> None:
    client, context = service
    headers = as_role("intake") | {"Idempotency-Key": "file-0002"}
    assert (await client.post("/complaints", json=complaint_body(), headers=headers)).status_code == 201
    other = await client.post("/complaints", json=complaint_body(description="另一件事"), headers=headers)
    assert problem(other, 422)["type"].endswith("/idempotency-key-reused")
    assert await context.store.last_sequence() == 1
    # Keys belong to their caller: another desk member's identical key is a new command.
    theirs = as_role("handler") | {"Idempotency-Key": "file-0002"}
    assert (await client.post("/complaints", json=complaint_body(), headers=theirs)).status_code == 201
    assert await context.store.last_sequence() == 2


async def test_a_retried_change_is_answered_once(service: Service, complaint_body: FileBody) -> None:
    client, context = service
    complaint_id = await filed(client, complaint_body())
    headers = as_role("intake") | {"Idempotency-Key": "ack-1", "If-Match": '"1"'}
    first = await client.post(f"/complaints/{complaint_id}/acknowledge", headers=headers)
    # The retry carries the same (now stale) If-Match: it must still get the first answer, not a 412.
    retry = await client.post(f"/complaints/{complaint_id}/acknowledge", headers=headers)
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.content == first.content and retry.headers["etag"] == '"2"'
    assert await context.store.last_sequence() == 2


async def test_a_failed_command_leaves_its_key_free_for_the_corrected_retry(
    service: Service, complaint_body: FileBody
) -> None:
    client, context = service
    headers = as_role("intake") | {"Idempotency-Key": "file-0003"}
    refused = await client.post("/complaints", json=complaint_body(category_code="nope"), headers=headers)
    problem(refused, 422)
    corrected = await client.post("/complaints", json=complaint_body(), headers=headers)
    assert corrected.status_code == 201
    assert await context.store.last_sequence() == 1


async def test_conditional_commands(service: Service, complaint_body: FileBody) -> None:
    client, context = service
    complaint_id = await filed(client, complaint_body())
    url = f"/complaints/{complaint_id}/notes"
    stale = await client.post(url, json={"text": "x"}, headers=as_role("intake") | {"If-Match": '"7"'})
    body = problem(stale, 412)
    assert body["current_version"] == 1 and stale.headers["etag"] == '"1"'
    assert "version 1" in body["detail"]
    malformed = await client.post(url, json={"text": "x"}, headers=as_role("intake") | {"If-Match": "1"})
    assert problem(malformed, 400)["type"].endswith("/malformed-if-match")
    weak = await client.post(url, json={"text": "x"}, headers=as_role("intake") | {"If-Match": 'W/"1"'})
    problem(weak, 412)  # a weak tag never matches a write
    assert await context.store.last_sequence() == 1
    current = await client.post(url, json={"text": "x"}, headers=as_role("intake") | {"If-Match": '"1"'})
    assert current.status_code == 200 and current.headers["etag"] == '"2"'
    anything = await client.post(url, json={"text": "y"}, headers=as_role("intake") | {"If-Match": "*"})
    assert anything.status_code == 200 and anything.headers["etag"] == '"3"'


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("auditor", "post", "/complaints", "file", 403),
        ("mediator", "post", "/complaints", "file", 403),
        ("finance", "get", "/complaints", None, 403),
        ("notary", "get", "/statistics", None, 403),
        ("intake", "post", "/complaints/{id}/assign", {"assignee": {"kind": "team", "id": "t-1", "name": "一组"}}, 403),
        ("intake", "post", "/complaints/{id}/resolve", {"resolution_note": "done"}, 403),
        ("handler", "post", "/complaints/{id}/extension-requests/approve", {}, 403),
        ("handler", "delete", "/people/{ref}", None, 403),
        ("auditor", "get", "/complaints/{id}/reporter", None, 403),
        ("mediator", "get", "/complaints/{id}", None, 200),
        ("auditor", "get", "/statistics", None, 200),
        (None, "get", "/complaints", None, 401),
    ],
)
async def test_roles(
    service: Service,
    complaint_body: FileBody,
    role: str | None,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    client, context = service
    complaint_id = await filed(client, complaint_body())
    reporter_ref = (await client.get(f"/complaints/{complaint_id}", headers=as_role("handler"))).json()["reporter_ref"]
    before = await context.store.last_sequence()
    headers = as_role(role) if role else {}
    url = path.format(id=complaint_id, ref=reporter_ref)
    payload = complaint_body() if body == "file" else body
    response = await client.request(method.upper(), url, json=payload, headers=headers)
    if status == 200:
        assert response.status_code == 200, response.text
        return
    answer = problem(response, status)
    if status == 403:
        assert answer["type"].endswith("/role-required") and answer["required_roles"]
        assert role in answer["detail"]
    else:
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert await context.store.last_sequence() == before


async def test_problem_bodies_say_what_is_wrong_without_echoing_input(
    service: Service, complaint_body: FileBody
) -> None:
    client, context = service
    unknown = await client.post("/complaints/c-20261102-abcdef/acknowledge", headers=as_role("intake"))
    assert "c-20261102-abcdef" in problem(unknown, 404)["detail"]
    bad_id = await client.post("/complaints/NOT AN ID/acknowledge", headers=as_role("intake"))
    assert {error["location"] for error in problem(bad_id, 422)["errors"]} == {"path"}
    missing = await client.post("/complaints", json={"description": "x"}, headers=as_role("intake"))
    fields = {error["field"] for error in problem(missing, 422)["errors"]}
    assert {"category_code", "channel", "compound_id"} <= fields
    not_json = await client.post(
        "/complaints", content=b"{not json", headers=as_role("intake") | {"Content-Type": "application/json"}
    )
    problem(not_json, 422)
    secret_phone = "13999999999x"
    leaky = await client.post(
        "/complaints", json=complaint_body(reporter={"phone": secret_phone}), headers=as_role("intake")
    )
    assert secret_phone not in leaky.text and "reporter.phone" in str(problem(leaky, 422)["errors"])
    complaint_id = await filed(client, complaint_body())
    twice = await client.post(
        f"/complaints/{complaint_id}/call-back", json={"outcome": "fixed"}, headers=as_role("intake")
    )
    refusal = problem(twice, 409)
    assert (refusal["status_now"], refusal["type"].rsplit("/", 1)[1]) == ("filed", "invalid-transition")
    assert "call-back" in refusal["command"]
    assert await context.store.last_sequence() == 1
