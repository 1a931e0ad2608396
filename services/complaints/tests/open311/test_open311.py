"""The Open311 GeoReport v2 façade, checked against the spec's JSON shapes (written out below as JSON Schemas)."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from complaints.application.context import ComplaintsContext

from ..conftest import FakeClock, FileBody, as_role

Service = tuple[httpx.AsyncClient, ComplaintsContext]

# -- the GeoReport v2 shapes (http://wiki.open311.org/GeoReport_v2, JSON flavour) --

W3_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
TEXT_OR_NULL = {"type": ["string", "null"]}

SERVICE_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"],
        "properties": {
            "service_code": {"type": "string", "minLength": 1},
            "service_name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": {"type": "string"},
            "group": {"type": "string"},
        },
    },
}
SERVICE_DEFINITION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "variable",
                    "code",
                    "datatype",
                    "required",
                    "datatype_description",
                    "order",
                    "description",
                    "values",
                ],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string", "minLength": 1},
                    "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
                    "required": {"type": "boolean"},
                    "datatype_description": TEXT_OR_NULL,
                    "order": {"type": "integer", "minimum": 1},
                    "description": {"type": "string"},
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["key", "name"],
                            "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_REQUESTS = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": REQUEST_FIELDS,
        "properties": {
            "service_request_id": {"type": "string", "minLength": 1},
            "status": {"enum": ["open", "closed"]},
            "status_notes": TEXT_OR_NULL,
            "service_name": TEXT_OR_NULL,
            "service_code": {"type": "string"},
            "description": {**TEXT_OR_NULL, "maxLength": 4000},
            "agency_responsible": TEXT_OR_NULL,
            "service_notice": TEXT_OR_NULL,
            "requested_datetime": {"type": "string", "pattern": W3_DATETIME},
            "updated_datetime": {"type": "string", "pattern": W3_DATETIME},
            "expected_datetime": {"anyOf": [{"type": "string", "pattern": W3_DATETIME}, {"type": "null"}]},
            "address": TEXT_OR_NULL,
            "address_id": TEXT_OR_NULL,
            "zipcode": TEXT_OR_NULL,
            "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
            "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
            "media_url": TEXT_OR_NULL,
        },
    },
}
POST_RESPONSE = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["service_request_id", "service_notice", "account_id"],
        "properties": {
            "service_request_id": {"type": "string", "minLength": 1},
            "service_notice": TEXT_OR_NULL,
            "account_id": TEXT_OR_NULL,
        },
    },
}
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}},
    },
}


def conforms(shape: dict[str, Any], response: httpx.Response) -> Any:
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    body = response.json()
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(shape).iter_errors(body)]
    assert problems == [], (response.status_code, body)
    return body


def georeport_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = conforms(ERRORS, response)
    assert {error["code"] for error in body} == {status}
    return " | ".join(error["description"] for error in body)


def filing_form(**overrides: Any) -> dict[str, Any]:
    return {
        "api_key": "test-token-of-intake",
        "service_code": "hallway_cleaning",
        "address_id": "jinyuan-huating",
        "description": "三楼楼梯间堆满杂物",
        "attribute[location]": "stairwell",
        "attribute[problem][]": ["clutter", "rubbish"],
        "attribute[building]": "3栋",
        "first_name": "三",
        "last_name": "张",
        "phone": "13800138000",
    } | overrides


async def post_request(client: httpx.AsyncClient, form: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return await client.post("/open311/v2/requests.json", data=form, **kwargs)


async def file_via_open311(client: httpx.AsyncClient, **overrides: Any) -> str:
    response = await post_request(client, filing_form(**overrides))
    assert response.status_code == 201, response.text
    return str(conforms(POST_RESPONSE, response)[0]["service_request_id"])


async def public_request(client: httpx.AsyncClient, complaint_id: str) -> dict[str, Any]:
    response = await client.get(f"/open311/v2/requests/{complaint_id}.json")
    assert response.status_code == 200, response.text
    (found,) = conforms(SERVICE_REQUESTS, response)
    return dict(found)


# -- services --


async def test_service_list_offers_every_active_category(service: Service) -> None:
    client, context = service
    response = await client.get("/open311/v2/services.json")
    assert response.status_code == 200
    services = conforms(SERVICE_LIST, response)
    assert [s["service_code"] for s in services] == [c.code for c in context.catalogue.active()]
    hallway = next(s for s in services if s["service_code"] == "hallway_cleaning")
    assert hallway["service_name"] == "楼道保洁"
    assert hallway["metadata"] is True and hallway["type"] == "realtime"
    assert "保洁" in hallway["keywords"].split(", ")
    english = conforms(SERVICE_LIST, await client.get("/open311/v2/services.json", params={"lang": "en"}))
    assert next(s for s in english if s["service_code"] == "hallway_cleaning")["service_name"] == "Hallway cleaning"


async def test_service_definition_lists_the_questions_then_building_and_unit(service: Service) -> None:
    client, _ = service
    response = await client.get("/open311/v2/services/hallway_cleaning.json")
    assert response.status_code == 200
    definition = conforms(SERVICE_DEFINITION, response)
    assert definition["service_code"] == "hallway_cleaning"
    attributes = {attribute["code"]: attribute for attribute in definition["attributes"]}
    assert list(attributes) == ["location", "problem", "floor", "building", "unit"]
    assert [a["order"] for a in definition["attributes"]] == [1, 2, 3, 4, 5]
    assert attributes["location"]["datatype"] == "singlevaluelist" and attributes["location"]["required"] is True
    assert {"key": "stairwell", "name": "楼梯间"} in attributes["location"]["values"]
    assert attributes["problem"]["datatype"] == "multivaluelist"
    assert attributes["floor"] == attributes["floor"] | {"datatype": "string", "required": False, "values": []}
    assert attributes["building"]["required"] is False


async def test_unknown_service_and_other_formats_are_georeport_404s(service: Service) -> None:
    client, _ = service
    assert "no_such_thing" in georeport_error(await client.get("/open311/v2/services/no_such_thing.json"), 404)
    assert "JSON only" in georeport_error(await client.get("/open311/v2/services.xml"), 404)
    assert "JSON only" in georeport_error(await client.get("/open311/v2/requests/c-1.xml"), 404)
    assert "JSON only" in georeport_error(await client.post("/open311/v2/requests.xml", data={"a": "b"}), 404)
    assert "c-20261102-000000" in georeport_error(await client.get("/open311/v2/requests/c-20261102-000000.json"), 404)
    # The rest of the API keeps its problem+json.
    elsewhere = await client.get("/complaints/c-20261102-000000", headers=as_role("auditor"))
    assert elsewhere.headers["content-type"] == "application/problem+json"


# -- filing --


async def test_a_posted_request_is_filed_through_the_web_channel(service: Service, clock: FakeClock) -> None:
    client, _ = service
    complaint_id = await file_via_open311(client, lat="31.2304", long="121.4737", address_string="3栋楼梯间")
    desk = (await client.get(f"/complaints/{complaint_id}", headers=as_role("handler"))).json()
    assert (desk["channel"], desk["compound_id"], desk["building"], desk["unit"]) == (
        "web",
        "jinyuan-huating",
        "3栋",
        None,
    )
    filed = desk["history"][0]
    assert filed["actor"] == "staff:intake-1"
    assert filed["data"]["answers"] == {"location": "stairwell", "problem": ["rubbish", "clutter"]}
    assert desk["description"] == "三楼楼梯间堆满杂物\n（位置 Location: 31.230400,121.473700; 3栋楼梯间）"
    reporter = (await client.get(f"/complaints/{complaint_id}/reporter", headers=as_role("handler"))).json()
    assert (reporter["name"], reporter["phone"]) == ("张三", "13800138000")

    public = await public_request(client, complaint_id)
    assert public["status"] == "open"
    assert public["service_code"] == "hallway_cleaning" and public["service_name"] == "楼道保洁"
    assert public["address_id"] == "jinyuan-huating" and public["address"] == "3栋, jinyuan-huating"
    assert datetime.fromisoformat(public["requested_datetime"]) == clock.now
    assert datetime.fromisoformat(public["expected_datetime"]) == clock.now + timedelta(days=7)
    assert "7天" in public["service_notice"]
    assert "张" not in str(public) and "13800138000" not in str(public)


async def test_bearer_header_works_as_the_api_key_and_answers_carry_the_location(service: Service) -> None:
    client, _ = service
    form = filing_form()
    del form["api_key"]
    response = await post_request(client, form, headers=as_role("handler"))
    assert response.status_code == 201, response.text
    (created,) = conforms(POST_RESPONSE, response)
    assert created["account_id"] is None
    assert response.headers["location"] == f"/open311/v2/requests/{created['service_request_id']}.json"


@pytest.mark.parametrize(
    ("overrides", "status", "says"),
    [
        ({"api_key": ""}, 403, "api_key is required"),
        ({"api_key": "not-a-known-token-at-all"}, 403, "invalid api_key"),
        ({"api_key": "test-token-of-auditor"}, 403, "intake, handler or supervisor"),
        ({"service_code": "no_such_service"}, 404, "service_code no_such_service was not found"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"address_id": ""}, 400, "address_id is required"),
        ({"address_id": "Not An Id"}, 400, "address_id:"),
        ({"attribute[location]": ""}, 400, "attribute[location]: is required"),
        ({"attribute[location]": "roof"}, 400, "attribute[location]: must be one of"),
        ({"attribute[colour]": "red"}, 400, "attribute[colour]: is not a question of this category"),
        ({"attribute[unit]": "2单元", "attribute[building]": ""}, 400, "attribute[unit]: needs a building"),
        ({"phone": "call me"}, 400, "phone:"),
        ({"lat": "31.2"}, 400, "lat and long are sent together"),
        ({"lat": "91", "long": "121"}, 400, "within ±90"),
        ({"description": ""}, 400, "description is required"),
        ({"description": "x" * 4001}, 400, "at most 4000"),
    ],
)
async def test_refusals_are_georeport_errors_and_record_nothing(
    service: Service, overrides: dict[str, Any], status: int, says: str
) -> None:
    client, context = service
    response = await post_request(client, filing_form(**overrides))
    assert says in georeport_error(response, status)
    assert await context.store.last_sequence() == 0


async def test_a_post_that_is_not_a_form_is_refused(service: Service) -> None:
    client, context = service
    response = await client.post("/open311/v2/requests.json", json={"service_code": "hallway_cleaning"})
    assert "application/x-www-form-urlencoded" in georeport_error(response, 400)
    assert await context.store.last_sequence() == 0


async def test_every_problem_of_a_post_is_reported_at_once(service: Service) -> None:
    client, _ = service
    response = await post_request(client, filing_form(**{"attribute[location]": "", "phone": "x", "address_id": ""}))
    description = georeport_error(response, 400)
    assert "attribute[location]" not in description  # the form is refused before the domain sees the answers...
    assert "address_id is required" in description and "phone:" in description  # ...but all of its own problems


async def test_an_idempotent_post_is_filed_once(service: Service) -> None:
    client, context = service
    headers = {"Idempotency-Key": "open311-post-1"}
    first = await post_request(client, filing_form(), headers=headers)
    after_first = await context.store.last_sequence()
    again = await post_request(client, filing_form(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert await context.store.last_sequence() == after_first == 1
    other = await post_request(client, filing_form(description="另一件事"), headers=headers)
    assert "Idempotency-Key" in georeport_error(other, 422)


# -- reading requests --


async def test_status_notes_agency_and_closing_as_the_public_sees_them(service: Service, clock: FakeClock) -> None:
    client, _ = service
    complaint_id = await file_via_open311(client)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("intake", "acknowledge", {}),
        ("handler", "assign", {"assignee": {"kind": "property_company", "id": "wuye-1", "name": "金园物业"}}),
        ("handler", "notes", {"text": "保洁员明早清理", "visibility": "resident"}),
        ("handler", "notes", {"text": "物业经理不接电话", "visibility": "internal"}),
        ("handler", "resolve", {"resolution_note": "杂物已清运"}),
    ]
    for role, command, body in steps:
        clock.advance(hours=3)
        response = await client.post(f"/complaints/{complaint_id}/{command}", json=body, headers=as_role(role))
        assert response.status_code == 200, response.text
    public = await public_request(client, complaint_id)
    assert public["status"] == "closed"  # resolved: the call-back is the center's own business
    assert public["status_notes"] == "保洁员明早清理\n杂物已清运"
    assert public["agency_responsible"] == "金园物业"
    assert datetime.fromisoformat(public["updated_datetime"]) == clock.now
    assert public["expected_datetime"] is None

    clock.advance(hours=1)
    reopened = await client.post(
        f"/complaints/{complaint_id}/call-back", json={"outcome": "not_fixed"}, headers=as_role("intake")
    )
    assert reopened.status_code == 200
    public = await public_request(client, complaint_id)
    assert public["status"] == "open"
    assert datetime.fromisoformat(public["expected_datetime"]) == clock.now + timedelta(days=7)


async def test_expected_datetime_moves_on_while_the_clock_waits_for_the_resident(
    service: Service, clock: FakeClock
) -> None:
    client, _ = service
    filed_at = clock.now
    complaint_id = await file_via_open311(client)
    await client.post(f"/complaints/{complaint_id}/acknowledge", headers=as_role("intake"))
    clock.advance(days=1)
    asked = await client.post(
        f"/complaints/{complaint_id}/information-requests", json={"question": "几楼？"}, headers=as_role("handler")
    )
    assert asked.status_code == 200
    clock.advance(days=2)
    public = await public_request(client, complaint_id)
    assert datetime.fromisoformat(public["expected_datetime"]) == filed_at + timedelta(days=7 + 2)


async def test_requests_are_filtered_as_the_spec_says(
    service: Service, clock: FakeClock, complaint_body: FileBody
) -> None:
    client, _ = service
    old = await file_via_open311(client)
    clock.advance(days=100)
    noise = (
        await client.post(
            "/complaints",
            json=complaint_body(category_code="noise", answers={"source": "shop"}),
            headers=as_role("intake"),
        )
    ).json()["complaint_id"]
    clock.advance(days=1)
    hallway = await file_via_open311(client)
    clock.advance(hours=1)
    for command, body in (("acknowledge", {}), ("resolve", {"resolution_note": "已处理"})):
        assert (await client.post(f"/complaints/{hallway}/{command}", json=body, headers=as_role("handler"))).is_success

    async def ids(**params: str) -> list[str]:
        response = await client.get("/open311/v2/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [found["service_request_id"] for found in conforms(SERVICE_REQUESTS, response)]

    assert await ids() == [hallway, noise]  # the last 90 days, newest first
    assert await ids(status="closed") == [hallway]
    assert await ids(status="open") == [noise]
    assert await ids(status="open,closed") == [hallway, noise]
    assert await ids(service_code="noise") == [noise]
    assert await ids(service_code="noise,hallway_cleaning") == [hallway, noise]
    assert await ids(service_request_id=f"{old},{noise}", status="closed") == [noise, old]  # overrides the rest
    start = (clock.now - timedelta(days=150)).isoformat()
    assert await ids(start_date=start) == [old]  # start alone: 90 days from it
    assert await ids(end_date=(clock.now - timedelta(days=95)).isoformat()) == [old]
    window = {"start_date": (clock.now - timedelta(days=2)).isoformat(), "end_date": clock.now.isoformat()}
    assert await ids(**window) == [hallway, noise]

    too_long = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    assert "90 days" in georeport_error(await client.get("/open311/v2/requests.json", params=too_long), 400)
    for bad in ({"start_date": "yesterday"}, {"start_date": "2026-11-01T00:00:00"}, {"status": "pending"}):
        georeport_error(await client.get("/open311/v2/requests.json", params=bad), 400)
    unknown = await client.get("/open311/v2/requests.json", params={"service_code": "noise,nope"})
    assert "service_code nope was not found" in georeport_error(unknown, 404)
