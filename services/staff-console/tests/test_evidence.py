"""The signed evidence file, and ``jinlin audit verify-export`` checking it offline: tampering is named."""

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jinlin.events.chain import event_hash
from staff_console.cli import verify_export
from staff_console.domain.evidence import FORMAT, public_key_bytes, sign_evidence, verify_evidence


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def document(service_log: Callable[..., Any]) -> dict[str, Any]:
    """A case of two complaint events with another case's event between them, and one mediation event."""
    complaints, mediation = service_log("complaints"), service_log("mediation")
    filed = complaints.add("ComplaintFiled", "c-1", {"description": "停电"}, caseid="case-1")
    complaints.add("ComplaintFiled", "c-2", {"description": "楼道"}, caseid="c-2")  # another case
    escalated = complaints.add("ComplaintEscalatedToMediation", "c-1", caseid="case-1")
    opened = mediation.add("CaseOpened", "case-1", caseid="case-1", causationid=escalated.id)
    return {
        "format": FORMAT,
        "case_id": "case-1",
        "exported_at": "2026-11-29T03:00:00+00:00",
        "exported_by": "staff:dev-auditor",
        "events": [
            {"service": "complaints", "envelope": filed.model_dump(mode="json")},
            {"service": "complaints", "envelope": escalated.model_dump(mode="json")},
            {"service": "mediation", "envelope": opened.model_dump(mode="json")},
        ],
        "chains": {
            "complaints": {
                "links": [{"sequence": e.sequence, "hash": e.hash, "prevhash": e.prevhash} for e in complaints.events],
                "head": {"sequence": 3, "hash": complaints.events[-1].hash},
            },
            "mediation": {
                "links": [{"sequence": 1, "hash": opened.hash, "prevhash": opened.prevhash}],
                "head": {"sequence": 1, "hash": opened.hash},
            },
        },
    }


def test_an_untouched_export_verifies(document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    report = verify_evidence(sign_evidence(document, key), [public_key_bytes(key.public_key())])
    assert report.ok, report.problems
    assert (report.case_id, report.events, report.services) == ("case-1", 3, ["complaints", "mediation"])


def test_changed_event_content_is_named(document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    signed = sign_evidence(document, key)
    signed["events"][0]["envelope"]["data"]["description"] = "一切正常"
    report = verify_evidence(signed)
    assert report.problems[0].startswith("event 1 (complaints #1, jinlin.complaints.ComplaintFiled.v1")
    assert "content does not match its hash" in report.problems[0]
    assert any(problem.startswith("signature: does not verify") for problem in report.problems)


def test_a_rehashed_event_breaks_the_chain_and_is_named(document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    envelope = document["events"][1]["envelope"]
    envelope["data"]["reason"] = "forged"
    envelope["hash"] = event_hash({k: v for k, v in envelope.items() if k != "hash"})
    report = verify_evidence(sign_evidence(document, key))  # even re-signed by someone with the key
    assert report.problems == [
        f"event 2 (complaints #3, jinlin.complaints.ComplaintEscalatedToMediation.v1, id {envelope['id']}): "
        "not the event the chain holds at #3"
    ]


def test_a_removed_link_is_named(document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    del document["chains"]["complaints"]["links"][1]
    report = verify_evidence(sign_evidence(document, key))
    assert report.problems[0] == "complaints: sequence 2 is missing from the chain segment (next is 3)"


def test_an_effect_placed_before_its_cause_is_named(document: dict[str, Any], key: Ed25519PrivateKey) -> None:
    document["events"].insert(0, document["events"].pop(2))
    report = verify_evidence(sign_evidence(document, key))
    assert "comes before the event that caused it" in report.problems[0]
    assert report.problems[0].startswith("event 1 (mediation #1")


def test_a_foreign_key_is_refused_when_the_console_key_is_pinned(
    document: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    stranger = Ed25519PrivateKey.generate()
    report = verify_evidence(sign_evidence(document, stranger), [public_key_bytes(key.public_key())])
    assert report.problems == [report.problems[0]]
    assert "not a trusted console key" in report.problems[0]


def test_verify_export_exit_codes_and_messages(
    document: dict[str, Any], key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    runner = CliRunner()
    good = tmp_path / "evidence.json"
    good.write_text(json.dumps(sign_evidence(document, key), ensure_ascii=False))
    pinned = base64.b64encode(public_key_bytes(key.public_key())).decode()
    result = runner.invoke(verify_export, [str(good), "--public-key", pinned])
    assert result.exit_code == 0, result.output
    assert "OK: case case-1, 3 events of complaints, mediation" in result.output

    bad = tmp_path / "tampered.json"
    changed = json.loads(good.read_text())
    changed["events"][2]["envelope"]["actor"] = "staff:someone-else"
    bad.write_text(json.dumps(changed, ensure_ascii=False))
    result = runner.invoke(verify_export, [str(bad)])
    assert result.exit_code == 1
    assert "FAILED: event 3 (mediation #1, jinlin.mediation.CaseOpened.v1" in result.output
    assert "content does not match its hash" in result.output

    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert runner.invoke(verify_export, [str(garbage)]).exit_code == 1
