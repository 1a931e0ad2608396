"""Every error a client sees is an RFC 9457 problem: clear, 4xx for bad input, and never a leak of internals."""

import httpx

from jinlin.store import EventStore

PROBLEM = "application/problem+json"


async def test_invalid_body_is_422_naming_each_field_and_changes_nothing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    canary = "Zhang Sanfeng-canary-" + "x" * 40  # too long, and personal: it must not be echoed back
    response = await client.post("/things", json={"label": canary}, headers=auth["intake"])

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "https://jinlin.example/problems/invalid-request"
    assert problem["status"] == 422
    assert {(error["location"], error["field"], error["type"]) for error in problem["errors"]} == {
        ("body", "id", "missing"),
        ("body", "label", "string_too_long"),
    }
    assert "body.id" in problem["detail"]
    assert "body.label" in problem["detail"]
    assert "canary" not in response.text
    assert await store.read_log() == []


async def test_malformed_json_is_422_problem(client: httpx.AsyncClient, auth: dict[str, dict[str, str]]) -> None:
    response = await client.post(
        "/things", content=b'{"id": "t1", ', headers={**auth["intake"], "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_an_identifier_that_cannot_be_a_stream_is_400_not_500(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    response = await client.get("/things/Not A Valid Id", headers=auth["auditor"])
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/invalid-identifier")


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {"type": "about:blank", "title": "Not Found", "status": 404}


async def test_wrong_method_is_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/things")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "POST"


async def test_a_domain_404_keeps_its_type(client: httpx.AsyncClient, auth: dict[str, dict[str, str]]) -> None:
    response = await client.get("/things/ghost", headers=auth["auditor"])
    assert response.status_code == 404
    assert response.json()["type"] == "https://jinlin.example/problems/thing-not-found"


async def test_unhandled_exception_is_a_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["x-request-id"]
    problem = response.json()
    assert problem["title"] == "Internal Server Error"
    for leak in ("Traceback", "RuntimeError", "secret", "credentials", ".py"):
        assert leak not in response.text


# -- identity and roles ----------------------------------------------------------------------------


async def test_no_identity_is_401_with_a_bearer_challenge(client: httpx.AsyncClient, store: EventStore) -> None:
    response = await client.post("/things", json={"id": "t1", "label": "x"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await store.read_log() == []


async def test_an_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/things/t1", headers={"Authorization": "Bearer not-a-known-token-at-all"})
    assert response.status_code == 401
    assert response.json()["type"].endswith("/invalid-credentials")


async def test_a_missing_role_is_403_and_changes_nothing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    """The auditor reads everything and changes nothing."""
    response = await client.post("/things", json={"id": "t1", "label": "x"}, headers=auth["auditor"])
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["required_roles"] == ["intake"]
    assert await store.read_log() == []


async def test_a_service_without_a_staff_directory_refuses_everyone(store: EventStore) -> None:
    from fastapi import Depends

    from jinlin.web import create_service_app, require_roles

    app = create_service_app(title="closed", version="0")

    @app.get("/guarded", dependencies=[Depends(require_roles())])
    async def guarded() -> dict[str, bool]:
        return {"ok": True}

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://closed.test") as client:
        response = await client.get("/guarded", headers={"Authorization": "Bearer intake-token-0000000000"})
    assert response.status_code == 401
