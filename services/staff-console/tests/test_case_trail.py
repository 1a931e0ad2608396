"""A complaint that joined a case brings its history from before (its filing, its acknowledgement) into the case's
timeline and evidence file, verified like every other event; other complaints of a case it left stay out."""

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jinlin.events.envelope import CloudEvent
from jinlin.store.records import CommandContext
from jinlin.store.store import EventStore
from staff_console.application.projector import ConsoleProjector
from staff_console.application.tables import console_metadata
from staff_console.application.timeline_service import case_timeline, evidence_document
from staff_console.bootstrap import build_store
from staff_console.cli import verify_export
from staff_console.domain.evidence import sign_evidence

EVERY_SERVICE = {"complaints", "mediation", "escrow"}


@pytest_asyncio.fixture
async def store(sqlite_url: str) -> AsyncIterator[EventStore]:
    store = build_store(sqlite_url)
    await store.create_schema(console_metadata)
    yield store
    await store.close()


async def deliver(store: EventStore, stream: str, *events: CloudEvent) -> None:
    for event in events:
        async with store.transaction(CommandContext(actor="consumer:test", causationid=event.id)) as tx:
            await ConsoleProjector(stream)(tx, event)


def move(log: Any, name: str, complaint_id: str, into: str, previous: str, **data: Any) -> CloudEvent:
    fields = {"complaint_id": complaint_id, "case_id": into, "previous_case_id": previous, **data}
    event: CloudEvent = log.add(name, complaint_id, fields, caseid=into)
    return event


async def test_a_linked_complaint_brings_its_filing_into_the_case_verified_and_exported(
    store: EventStore, service_log: Callable[..., Any], tmp_path: Path
) -> None:
    complaints, mediation = service_log("complaints"), service_log("mediation")
    filed = complaints.add("ComplaintFiled", "c-1", {"complaint_id": "c-1"}, caseid="c-1")
    elsewhere = complaints.add("ComplaintFiled", "c-3", {"complaint_id": "c-3"}, caseid="c-3")
    acknowledged = complaints.add("ComplaintAcknowledged", "c-1", {"complaint_id": "c-1"}, caseid="c-1")
    duplicate_filed = complaints.add("ComplaintFiled", "c-5", {"complaint_id": "c-5"}, caseid="c-5")
    linked = move(complaints, "ComplaintLinkedToCase", "c-1", "case-9", "c-1")
    duplicate = move(complaints, "ComplaintMarkedDuplicate", "c-5", "case-9", "c-5", duplicate_of="c-1")
    escalated = complaints.add("ComplaintEscalatedToMediation", "c-1", {"complaint_id": "c-1"}, caseid="case-9")
    opened = mediation.add("CaseOpened", "case-9", {"case_id": "case-9"}, caseid="case-9", causationid=escalated.id)
    await deliver(store, "COMPLAINTS", *complaints.events)
    await deliver(store, "MEDIATION", opened)

    async with store.engines.reader.connect() as conn:
        timeline = await case_timeline(conn, "case-9", EVERY_SERVICE)
        unsigned = await evidence_document(conn, "case-9", EVERY_SERVICE, exported_by="staff:dev-auditor")
    expected = [filed, acknowledged, duplicate_filed, linked, duplicate, escalated, opened]
    assert [entry.event.id for entry in timeline] == [event.id for event in expected]
    assert elsewhere.id not in {entry.event.id for entry in timeline}, "another complaint's own case stays out"
    assert all(entry.verification.verified for entry in timeline), [e.verification.problems for e in timeline]

    evidence = tmp_path / "evidence.json"
    evidence.write_text(json.dumps(sign_evidence(unsigned, Ed25519PrivateKey.generate()), ensure_ascii=False))
    checked = CliRunner().invoke(verify_export, [str(evidence)])
    assert checked.exit_code == 0, checked.output
    assert "OK: case case-9, 7 events of complaints, mediation" in checked.output
    links = unsigned["chains"]["complaints"]["links"]
    assert [link["sequence"] for link in links] == list(range(1, 8)), "the segment reaches back to the filing"
    assert set(links[1]) == {"sequence", "hash", "prevhash"}, "c-3's filing appears as its hashes only"


async def test_only_the_moved_complaints_events_come_from_a_shared_case_followed_back_through_every_move(
    store: EventStore, service_log: Callable[..., Any]
) -> None:
    log = service_log("complaints")
    c1_filed = log.add("ComplaintFiled", "c-1", {"complaint_id": "c-1"}, caseid="c-1")
    c2_filed = log.add("ComplaintFiled", "c-2", {"complaint_id": "c-2"}, caseid="c-2")
    c1_into_group = move(log, "ComplaintLinkedToCase", "c-1", "group-a", "c-1")
    c2_into_group = move(log, "ComplaintLinkedToCase", "c-2", "group-a", "c-2")
    c1_noted = log.add("ComplaintAcknowledged", "c-1", {"complaint_id": "c-1"}, caseid="group-a")
    c2_noted = log.add("ComplaintAcknowledged", "c-2", {"complaint_id": "c-2"}, caseid="group-a")
    c1_into_case = move(log, "ComplaintLinkedToCase", "c-1", "case-9", "group-a")
    c1_resolved = log.add("ComplaintResolved", "c-1", {"complaint_id": "c-1"}, caseid="case-9")
    await deliver(store, "COMPLAINTS", *log.events)

    async with store.engines.reader.connect() as conn:
        case = [entry.event.id for entry in await case_timeline(conn, "case-9", EVERY_SERVICE)]
        group = {entry.event.id for entry in await case_timeline(conn, "group-a", EVERY_SERVICE)}
    assert case == [e.id for e in (c1_filed, c1_into_group, c1_noted, c1_into_case, c1_resolved)]
    assert not {c2_filed.id, c2_into_group.id, c2_noted.id} & set(case), "c-2 stayed in group-a"
    assert group == {e.id for e in (c1_filed, c2_filed, c1_into_group, c2_into_group, c1_noted, c2_noted)}


async def test_a_move_in_circles_ends(store: EventStore, service_log: Callable[..., Any]) -> None:
    log = service_log("complaints")
    filed = log.add("ComplaintFiled", "c-1", {"complaint_id": "c-1"}, caseid="c-1")
    there = move(log, "ComplaintLinkedToCase", "c-1", "case-9", "c-1")
    back = move(log, "ComplaintLinkedToCase", "c-1", "c-1", "case-9")
    again = move(log, "ComplaintLinkedToCase", "c-1", "case-9", "c-1")
    await deliver(store, "COMPLAINTS", *log.events)
    async with store.engines.reader.connect() as conn:
        ids = [entry.event.id for entry in await case_timeline(conn, "case-9", EVERY_SERVICE)]
    assert ids == [filed.id, there.id, back.id, again.id]
