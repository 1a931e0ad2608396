"""Commands over HTTP: idempotency keys, If-Match, ETags, and nothing written when a command is refused."""

import asyncio
import json
from typing import Any

import httpx
import pytest

from jinlin.store import EventStore, Transaction
from jinlin.web.commands import request_fingerprint

PROBLEM = "application/problem+json"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def create(client: httpx.AsyncClient, auth: dict[str, dict[str, str]], **headers: str) -> httpx.Response:
    return await client.post("/things", json={"id": "t1", "label": "first"}, headers={**auth["intake"], **headers})


async def test_retry_with_the_same_key_replays_the_first_answer_and_appends_nothing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    first = await create(client, auth, **key("k-1"))
    assert first.status_code == 201, first.text
    assert first.headers["etag"] == '"1"'
    assert "idempotent-replayed" not in first.headers

    retry = await create(client, auth, **key("k-1"))

    assert retry.status_code == 201
    assert retry.content == first.content, "the receipt of the first execution, not a new one"
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["location"] == first.headers["location"] == "/things/t1"
    assert retry.headers["content-type"] == "application/json"
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(await store.read_log()) == 1


async def test_a_retry_may_reorder_and_reformat_its_json(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    first = await create(client, auth, **key("k-1"))
    reordered = b'{ "label" : "first",\n  "id": "t1" }'
    headers = {**auth["intake"], **key("k-1"), "Content-Type": "application/json"}
    retry = await client.post("/things", content=reordered, headers=headers)
    assert retry.status_code == 201
    assert retry.content == first.content
    assert len(await store.read_log()) == 1


async def test_same_key_with_another_body_is_422_and_changes_nothing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    await create(client, auth, **key("k-1"))
    other = await client.post("/things", json={"id": "t2", "label": "second"}, headers={**auth["intake"], **key("k-1")})
    assert other.status_code == 422
    assert other.headers["content-type"] == PROBLEM
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert [event.stream for event in await store.read_log()] == ["thing.t1"]


async def test_keys_belong_to_their_caller(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    """The same key from someone else is their own command, not a clash with (or a peek at) another's answer."""
    await create(client, auth, **key("k-1"))
    theirs = await client.post(
        "/things", json={"id": "t2", "label": "second"}, headers={**auth["other-intake"], **key("k-1")}
    )
    assert theirs.status_code == 201, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert [event.envelope.actor for event in await store.read_log()] == ["staff:alice", "staff:dave"]


async def test_a_duplicate_while_the_first_still_runs_is_409_then_replays(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore, knobs: Any
) -> None:
    knobs.gate = asyncio.Event()
    first = asyncio.create_task(create(client, auth, **key("k-1")))
    await asyncio.wait_for(knobs.entered.wait(), timeout=10)

    # Bounded: were the duplicate not refused at once, it would queue behind the first for the store's writer.
    duplicate = await asyncio.wait_for(create(client, auth, **key("k-1")), timeout=10)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == PROBLEM
    assert duplicate.json()["type"].endswith("/idempotency-key-in-flight")
    assert duplicate.headers["retry-after"] == "1"

    knobs.gate.set()
    answered = await asyncio.wait_for(first, timeout=10)
    assert answered.status_code == 201
    later = await create(client, auth, **key("k-1"))
    assert (later.status_code, later.content) == (201, answered.content)
    assert len(await store.read_log()) == 1


async def test_a_refused_command_leaves_no_record_so_the_key_can_be_retried(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore, knobs: Any
) -> None:
    knobs.refused_labels.add("first")
    refused = await create(client, auth, **key("k-1"))
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/label-refused")
    assert await store.read_log() == [], "the event appended before the refusal was rolled back"

    knobs.refused_labels.clear()
    retried = await create(client, auth, **key("k-1"))
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers, "executed, not replayed: nothing was recorded"
    assert len(await store.read_log()) == 1


def blind_lookups_until_winner_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next command's look inside its transaction miss the stored answer, as a process whose write lock
    failed it would (two processes racing with one key)."""
    real_find = Transaction.find_response
    looks = 0

    async def blind_first_look(self: Transaction, scope: str, record_key: str) -> Any:
        nonlocal looks
        looks += 1
        return None if looks == 1 else await real_find(self, scope, record_key)

    monkeypatch.setattr(Transaction, "find_response", blind_first_look)


async def test_an_answered_key_is_found_under_the_write_lock_and_runs_nothing_again(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], knobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = await create(client, auth, **key("k-1"))

    async def no_look_outside_the_transaction(self: EventStore, scope: str, record_key: str) -> None:
        raise AssertionError("a look before the write lock could miss an answer committed meanwhile")

    monkeypatch.setattr(EventStore, "find_response", no_look_outside_the_transaction)
    loser = await create(client, auth, **key("k-1"))

    assert loser.status_code == 201
    assert loser.content == winner.content
    assert loser.headers["idempotent-replayed"] == "true"
    assert knobs.creations_attempted == 1, "the command was not run again"


async def test_a_race_loser_whose_key_insert_fails_replays_the_winner(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create(client, auth)
    headers = {**auth["handler"], **key("n-1")}
    winner = await client.post("/things/t1/notes", json={"text": "hello"}, headers=headers)
    blind_lookups_until_winner_committed(monkeypatch)

    loser = await client.post("/things/t1/notes", json={"text": "hello"}, headers=headers)

    assert loser.status_code == winner.status_code == 201
    assert loser.content == winner.content
    assert loser.headers["etag"] == winner.headers["etag"] == '"2"'
    assert loser.headers["idempotent-replayed"] == "true"
    assert len(await store.read_log()) == 2, "the loser's event was rolled back with its key"


async def test_a_race_loser_whose_append_conflicts_replays_the_winner(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = await create(client, auth, **key("k-1"))
    blind_lookups_until_winner_committed(monkeypatch)

    loser = await create(client, auth, **key("k-1"))

    assert loser.status_code == 201, loser.text
    assert loser.content == winner.content
    assert loser.headers["idempotent-replayed"] == "true"
    assert len(await store.read_log()) == 1


async def test_a_missing_key_where_required_is_400_and_changes_nothing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    await create(client, auth)
    missing = await client.post("/things/t1/notes", json={"text": "hello"}, headers=auth["handler"])
    assert missing.status_code == 400
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"].endswith("/idempotency-key-missing")
    assert len(await store.read_log()) == 1

    keyed = await client.post("/things/t1/notes", json={"text": "hello"}, headers={**auth["handler"], **key("n-1")})
    assert keyed.status_code == 201
    assert keyed.headers["etag"] == '"2"'


async def test_a_malformed_key_is_400(client: httpx.AsyncClient, auth: dict[str, dict[str, str]]) -> None:
    response = await create(client, auth, **key("has space"))
    assert response.status_code == 400
    assert response.json()["type"].endswith("/idempotency-key-malformed")


async def test_without_a_key_every_post_executes(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    first = await client.post("/things", json={"id": "t1", "label": "a"}, headers=auth["intake"])
    second = await client.post("/things", json={"id": "t2", "label": "b"}, headers=auth["intake"])
    assert (first.status_code, second.status_code) == (201, 201)
    assert len(await store.read_log()) == 2


async def test_creating_an_existing_stream_is_409_with_the_current_version(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    await create(client, auth)
    again = await create(client, auth)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["current_version"] == 1
    assert again.json()["type"].endswith("/version-conflict")
    assert len(await store.read_log()) == 1


# -- If-Match --------------------------------------------------------------------------------------


async def relabel(client: httpx.AsyncClient, auth: dict[str, dict[str, str]], **headers: str) -> httpx.Response:
    return await client.post("/things/t1/relabellings", json={"label": "new"}, headers={**auth["handler"], **headers})


async def test_if_match_with_the_current_version_changes_the_stream_and_answers_the_new_etag(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    created = await create(client, auth)
    response = await relabel(client, auth, **{"If-Match": created.headers["etag"]})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["label"] == "new"
    assert len(await store.read_log()) == 2


async def test_stale_if_match_is_412_with_the_current_version_and_changes_nothing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    await create(client, auth)
    await relabel(client, auth, **{"If-Match": '"1"'})

    stale = await relabel(client, auth, **{"If-Match": '"1"'})

    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert stale.json()["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    assert "version 2" in stale.json()["detail"]
    assert len(await store.read_log()) == 2


async def test_missing_if_match_where_required_is_428_and_changes_nothing(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    await create(client, auth)
    missing = await relabel(client, auth)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"].endswith("/if-match-required")
    assert len(await store.read_log()) == 1


@pytest.mark.parametrize(
    ("if_match", "status"),
    [('W/"1"', 412), ('"0", "1"', 200), ("*", 200), ("1", 400), ('"1" "2"', 400)],
)
async def test_if_match_forms(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], if_match: str, status: int
) -> None:
    """Weak tags never match (strong comparison); lists and * do; an unquoted version is a clear 400."""
    await create(client, auth)
    response = await relabel(client, auth, **{"If-Match": if_match})
    assert response.status_code == status, response.text


async def test_an_idempotent_retry_is_replayed_even_though_its_if_match_is_now_stale(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    await create(client, auth)
    first = await relabel(client, auth, **{"If-Match": '"1"', **key("k-2")})
    retry = await relabel(client, auth, **{"If-Match": '"1"', **key("k-2")})
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.content == first.content
    assert len(await store.read_log()) == 2


# -- conditional reads -----------------------------------------------------------------------------


async def test_read_answers_etag_and_304_while_unchanged(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    await create(client, auth)
    read = await client.get("/things/t1", headers=auth["auditor"])
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'

    unchanged = await client.get("/things/t1", headers={**auth["auditor"], "If-None-Match": '"1"'})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == '"1"'

    await relabel(client, auth, **{"If-Match": '"1"'})
    changed = await client.get("/things/t1", headers={**auth["auditor"], "If-None-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["label"] == "new"


# -- the events record who and why -----------------------------------------------------------------


async def test_events_record_the_actor_the_request_and_the_case(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]], store: EventStore
) -> None:
    response = await client.post(
        "/things", json={"id": "t1", "label": "x"}, headers={**auth["intake"], "X-Request-Id": "req-42"}
    )
    assert response.headers["x-request-id"] == "req-42"
    (event,) = await store.read_log()
    assert event.envelope.actor == "staff:alice"
    assert event.envelope.causationid == "req-42"
    assert event.envelope.caseid == "case-t1"


def test_fingerprint_ignores_json_layout_but_not_content() -> None:
    body = json.dumps({"a": 1, "b": [1, 2]}).encode()
    same = b'{"b":[1,2],"a":1}'
    assert request_fingerprint("POST", "/x", "", body) == request_fingerprint("post", "/x", "", same)
    assert request_fingerprint("POST", "/x", "", body) != request_fingerprint("POST", "/y", "", body)
    assert request_fingerprint("POST", "/x", "", body) != request_fingerprint("POST", "/x", "q=1", body)
    assert request_fingerprint("POST", "/x", "", body) != request_fingerprint("POST", "/x", "", b'{"a":2,"b":[1,2]}')
    assert request_fingerprint("POST", "/x", "", b"not json") != request_fingerprint("POST", "/x", "", b"not json!")
