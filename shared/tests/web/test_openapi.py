"""The OpenAPI document says what the service really answers (clients and Schemathesis check against it)."""

from typing import Any

import httpx

PROBLEM = "application/problem+json"


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_validation_errors_are_documented_as_problems(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    create = document["paths"]["/things"]["post"]
    assert list(create["responses"]["422"]["content"]) == [PROBLEM]
    assert "HTTPValidationError" not in str(document)
    assert "ProblemDetails" in document["components"]["schemas"]


async def test_protected_routes_document_401_and_403_and_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    read = document["paths"]["/things/{thing_id}"]["get"]
    assert read["security"] == [{"StaffToken": []}]
    assert {"401", "403"} <= set(read["responses"])
    assert document["components"]["securitySchemes"]["StaffToken"]["scheme"] == "bearer"


async def test_command_routes_document_their_headers_and_problems(client: httpx.AsyncClient) -> None:
    relabel = (await openapi(client))["paths"]["/things/{thing_id}/relabellings"]["post"]
    headers = {parameter["name"] for parameter in relabel["parameters"] if parameter["in"] == "header"}
    assert headers == {"Idempotency-Key", "If-Match"}
    assert {"400", "409", "412", "422", "428"} <= set(relabel["responses"])
    assert list(relabel["responses"]["412"]["content"]) == [PROBLEM]


async def test_probes_are_documented_and_metrics_is_not(client: httpx.AsyncClient) -> None:
    paths = (await openapi(client))["paths"]
    assert "/healthz" in paths
    assert "503" in paths["/readyz"]["get"]["responses"]
    assert "/metrics" not in paths
