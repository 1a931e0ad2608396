"""The desk's day through HTTP: file, acknowledge, assign, resolve, call back; with history, roles and problems."""

from typing import Any

import httpx

from complaints.application.context import ComplaintsContext

from ..conftest import FakeClock, FileBody, as_role

Service = tuple[httpx.AsyncClient, ComplaintsContext]


async def _file(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/complaints", json=body, headers=as_role("intake"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_file_assign_resolve_call_back(service: Service, complaint_body: FileBody, clock: FakeClock) -> None:
    client, _context = service
    filed = await _file(client, complaint_body())
    complaint_id = filed["complaint_id"]
    assert filed["status"] == "filed"
    assert filed["case_id"] == complaint_id
    assert "张三" not in str(filed) and "13800138000" not in str(filed)

    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("intake", "acknowledge", {}),
        ("handler", "assign", {"assignee": {"kind": "property_company", "id": "wuye-1", "name": "金园物业"}}),
        ("handler", "resolve", {"resolution_note": "物业已安排保洁，每日清运"}),
        ("intake", "call-back", {"outcome": "fixed", "satisfaction": 5}),
    ]
    version = 1
    for role, command, body in steps:
        clock.advance(hours=2)
        response = await client.post(
            f"/complaints/{complaint_id}/{command}",
            json=body,
            headers=as_role(role) | {"If-Match": f'"{version}"', "Idempotency-Key": f"k-{command}"},
        )
        assert response.status_code == 200, (command, response.text)
        version = int(response.headers["ETag"].strip('"'))
    assert response.json()["status"] == "closed"
    assert response.json()["last_outcome"] == "fixed"

    detail = await client.get(f"/complaints/{complaint_id}", headers=as_role("auditor"))
    assert detail.status_code == 200
    types = [entry["type"].split(".")[2] for entry in detail.json()["history"]]
    assert types == [
        "ComplaintFiled",
        "ComplaintAcknowledged",
        "ComplaintAssigned",
        "ComplaintResolved",
        "CallBackRecorded",
        "ComplaintClosed",
    ]
    assert {entry["actor"] for entry in detail.json()["history"]} >= {"staff:intake-1", "staff:handler-1"}
    assert detail.headers["ETag"] == f'"{version}"'


async def test_reporter_is_sealed_and_opened_only_for_the_desk(service: Service, complaint_body: FileBody) -> None:
    client, _ = service
    complaint_id = (await _file(client, complaint_body()))["complaint_id"]
    opened = await client.get(f"/complaints/{complaint_id}/reporter", headers=as_role("handler"))
    assert opened.json() | {"reporter_ref": "x"} == {
        "reporter_ref": "x",
        "name": "张三",
        "phone": "13800138000",
        "erased": False,
    }
    assert (await client.get(f"/complaints/{complaint_id}/reporter", headers=as_role("auditor"))).status_code == 403


async def test_illegal_transition_is_a_409_problem_and_changes_nothing(
    service: Service, complaint_body: FileBody
) -> None:
    client, _ = service
    complaint_id = (await _file(client, complaint_body()))["complaint_id"]
    response = await client.post(
        f"/complaints/{complaint_id}/resolve", json={"resolution_note": "done"}, headers=as_role("handler")
    )
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "filed" in response.json()["detail"]
    detail = await client.get(f"/complaints/{complaint_id}", headers=as_role("auditor"))
    assert len(detail.json()["history"]) == 1


async def test_bad_input_is_a_422_problem_naming_the_fields(service: Service, complaint_body: FileBody) -> None:
    client, context = service
    response = await client.post(
        "/complaints",
        json=complaint_body(category_code="no_such_category", channel="hotline_12345"),
        headers=as_role("intake"),
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"category_code", "hotline_reference"} <= fields
    assert await context.store.last_sequence() == 0


async def test_stale_if_match_is_412(service: Service, complaint_body: FileBody) -> None:
    client, _ = service
    complaint_id = (await _file(client, complaint_body()))["complaint_id"]
    ok = await client.post(f"/complaints/{complaint_id}/acknowledge", headers=as_role("intake") | {"If-Match": '"1"'})
    assert ok.status_code == 200
    stale = await client.post(
        f"/complaints/{complaint_id}/notes",
        json={"text": "note"},
        headers=as_role("intake") | {"If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2


async def test_roles_are_enforced(service: Service, complaint_body: FileBody) -> None:
    client, context = service
    assert (await client.post("/complaints", json=complaint_body(), headers=as_role("auditor"))).status_code == 403
    assert (await client.post("/complaints", json=complaint_body())).status_code == 401
    assert await context.store.last_sequence() == 0


async def test_overdue_counts_include_open_late_complaints(
    service: Service, complaint_body: FileBody, clock: FakeClock
) -> None:
    client, _ = service
    late = (await _file(client, complaint_body()))["complaint_id"]
    clock.advance(days=8)  # general rule: 7 days
    on_time = (await _file(client, complaint_body()))["complaint_id"]
    listed = await client.get("/complaints", params={"overdue": "true"}, headers=as_role("supervisor"))
    assert [item["complaint_id"] for item in listed.json()["items"]] == [late]
    stats = await client.get("/statistics", params={"group_by": "category"}, headers=as_role("supervisor"))
    total = stats.json()["total"]
    assert (total["received"], total["open"], total["overdue"]) == (2, 2, 1)
    assert on_time != late
