"""Erasing a reporter: after ``DELETE /people/{ref}`` a canary name and phone are readable nowhere, while every event
and the hash chain stay. Searched for in the SQLite files, every JetStream message, the rebuilt read model, the API
and the logs."""

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from sqlalchemy import select

from complaints.application.read_model import complaint_view
from jinlin.events import find_chain_break
from jinlin.privacy import person_keys

from ..conftest import FileBody, as_role
from .conftest import COMPLAINTS_STREAM, Live, StartService

CANARY_NAME = "Kanarie金丝雀Qz7"
CANARY_PHONE = "13912345670"


def spellings(value: str) -> list[bytes]:
    """The ways a text could sit in a file or a message: UTF-8, JSON-escaped, UTF-16 (SQLite may use it)."""
    return [value.encode(), json.dumps(value).encode(), value.encode("utf-16-le"), value.encode("utf-16-be")]


def leaks(blob: bytes, *secrets: bytes) -> list[bytes]:
    return [secret for secret in secrets if secret in blob]


def search_sqlite_files(folder: Path, canaries: list[bytes], key_spellings: list[bytes]) -> None:
    files = sorted(folder.glob("store.sqlite3*"))
    assert files and files[0].name == "store.sqlite3"
    for file in files:
        content = file.read_bytes()
        assert leaks(content, *canaries) == [], file.name
        assert leaks(content, *key_spellings) == [], f"{file.name} still holds the destroyed key"


async def test_erasure_leaves_the_canary_nowhere(
    start_service: StartService,
    sqlite_url: str,
    tmp_path: Path,
    complaint_body: FileBody,
    all_published: Callable[[Live], Awaitable[None]],
    stream_messages: Callable[[JetStreamContext, str], Awaitable[list[RawStreamMsg]]],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    canaries = [*spellings(CANARY_NAME), *spellings(CANARY_PHONE), b"Kanarie"]
    async with start_service(sqlite_url, consumers=False) as live:
        client, context = live.client, live.context
        filed = await client.post(
            "/complaints",
            json=complaint_body(reporter={"name": CANARY_NAME, "phone": CANARY_PHONE}),
            headers=as_role("intake") | {"Idempotency-Key": "canary-1"},
        )
        assert filed.status_code == 201, filed.text
        complaint_id, person_ref = filed.json()["complaint_id"], filed.json()["reporter_ref"]
        await all_published(live)

        # Before: the data is there, sealed, and opens with the person's key.
        reporter = (await client.get(f"/complaints/{complaint_id}/reporter", headers=as_role("handler"))).json()
        assert (reporter["name"], reporter["phone"], reporter["erased"]) == (CANARY_NAME, CANARY_PHONE, False)
        (published,) = [m for m in await stream_messages(live.js, COMPLAINTS_STREAM) if m.subject.endswith(".filed")]
        sealed_name = json.loads(published.data)["data"]["reporter_name_enc"]
        async with context.store.engines.reader.connect() as conn:
            assert await context.vault.open(conn, person_ref, sealed_name) == CANARY_NAME
            key = (await conn.execute(select(person_keys.c.key).where(person_keys.c.person_ref == person_ref))).scalar()
        assert key is not None and len(key) == 32
        key_spellings = [key, base64.b64encode(key), base64.urlsafe_b64encode(key), key.hex().encode()]

        erased = await client.delete(f"/people/{person_ref}", headers=as_role("supervisor"))
        assert erased.status_code == 200, erased.text
        assert (await client.delete(f"/people/{person_ref}", headers=as_role("supervisor"))).status_code == 404
        await all_published(live)

        # The read model, rebuilt from the log, and the API.
        rebuilt = await context.store.rebuild_projections()
        assert rebuilt == await context.store.last_sequence() == 2
        async with context.store.engines.reader.connect() as conn:
            rows = [dict(row._mapping) for row in (await conn.execute(select(complaint_view))).all()]
            assert await context.vault.open(conn, person_ref, sealed_name) is None
        assert rows and leaks(json.dumps(rows, ensure_ascii=False).encode(), *canaries) == []
        assert rows[0]["reporter_name_enc"] == sealed_name  # history intact: still there, now unreadable
        reporter = (await client.get(f"/complaints/{complaint_id}/reporter", headers=as_role("handler"))).json()
        assert (reporter["name"], reporter["phone"], reporter["erased"]) == (None, None, True)
        for path in (f"/complaints/{complaint_id}", "/complaints", f"/open311/v2/requests/{complaint_id}.json"):
            answer = await client.get(path, headers=as_role("supervisor"))
            assert answer.status_code == 200 and leaks(answer.content, *canaries) == [], path

        # Every JetStream message, headers included; and the stream is still the log's intact chain.
        messages = await stream_messages(live.js, COMPLAINTS_STREAM)
        assert [m.subject for m in messages] == [
            f"jinlin.complaints.complaint.{complaint_id}.filed",
            f"jinlin.complaints.person.{person_ref}.erased",
        ]
        for message in messages:
            assert leaks(message.data + json.dumps(message.headers or {}).encode(), *canaries, *key_spellings) == []
        events = [stored.envelope for stored in await context.store.read_log()]
        assert find_chain_break(events) is None
        assert [json.loads(m.data)["hash"] for m in messages] == [event.hash for event in events]

        # The SQLite files while the service runs: the database, its write-ahead log and its shared memory.
        running_files = sorted(path.name for path in tmp_path.glob("store.sqlite3*"))
        assert running_files == ["store.sqlite3", "store.sqlite3-shm", "store.sqlite3-wal"]
        search_sqlite_files(tmp_path, canaries, key_spellings)

    # And once it has stopped (the last connection checkpoints the log into the database).
    search_sqlite_files(tmp_path, canaries, key_spellings)

    # And the logs: what the service printed and what went through the logging system.
    logged = capsys.readouterr().out + "\n".join(
        record.getMessage() + str(record.__dict__) for record in caplog.records
    )
    assert "complaint" in logged  # there are logs to search
    assert leaks(logged.encode(), *canaries) == []
