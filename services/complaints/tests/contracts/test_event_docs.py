"""The checked-in ``docs/events`` documents are exactly what the code generates, and say what consumers need."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from complaints.contracts import CONTRACT
from complaints.domain import registry
from jinlin.contracts import asyncapi_document, dangling_references, draft_7_violations, drift, undeclared_parameters
from jinlin.contracts.__main__ import main

ROOT = next(parent for parent in Path(__file__).parents if (parent / "docs" / "events").is_dir())
DOCS = ROOT / "docs" / "events"
REGENERATE = "python -m jinlin.contracts complaints"


def test_the_checked_in_documents_are_current() -> None:
    problems = drift(CONTRACT, DOCS)
    assert problems == [], (
        f"docs/events no longer matches the code. If the change is intended, run `{REGENERATE}` from the "
        "repository root and commit the result (and bump complaints.contracts.VERSION if consumers must adapt):\n\n"
        + "\n\n".join(problems)
    )


def test_the_document_is_valid_asyncapi_3() -> None:
    document = json.loads((DOCS / "complaints" / "asyncapi.json").read_text())
    official = json.loads((ROOT / "shared" / "tests" / "contracts" / "asyncapi-3.0.0.schema.json").read_text())
    assert [error.message for error in Draft7Validator(official).iter_errors(document)] == []
    assert undeclared_parameters(document) == []
    assert dangling_references(document) == []
    assert draft_7_violations(document) == []


def test_every_event_and_the_mediation_outcomes_are_documented() -> None:
    document = asyncapi_document(CONTRACT)
    sent = {operation["channel"]["$ref"].rsplit("/", 1)[1] for operation in document["operations"].values()
            if operation["action"] == "send"}  # fmt: skip
    assert {model.event_name() for model in registry.models()} <= sent
    assert document["channels"]["ComplaintEscalatedToMediation"]["address"] == (
        "jinlin.complaints.complaint.{complaint_id}.escalated_to_mediation"
    )
    assert document["channels"]["PersonalDataErased"]["address"] == "jinlin.complaints.person.{person_ref}.erased"
    received = {
        message["title"]
        for name, message in document["components"]["messages"].items()
        if any(op["action"] == "receive" and name in str(op["messages"]) for op in document["operations"].values())
    }
    assert received == {
        "jinlin.mediation.AgreementTookEffect.v1",
        "jinlin.mediation.CaseEndedWithoutAgreement.v1",
    }
    assert "deadLetters.complaints-mediation-outcomes" in document["channels"]
    for name in registry.models():
        assert (DOCS / "complaints" / f"{name.event_name()}.v{name.event_version}.schema.json").is_file()


def test_the_command_writes_and_checks_the_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["complaints", "--docs", str(tmp_path)]) == 0
    assert (tmp_path / "complaints" / "asyncapi.json").read_text() == (
        DOCS / "complaints" / "asyncapi.json"
    ).read_text()
    assert main(["complaints", "--docs", str(tmp_path), "--check"]) == 0
    filed = tmp_path / "complaints" / "ComplaintFiled.v1.schema.json"
    filed.write_text(filed.read_text().replace('"reporter_ref"', '"reporter"'))
    capsys.readouterr()
    assert main(["complaints", "--docs", str(tmp_path), "--check"]) == 1
    assert "complaints/ComplaintFiled.v1.schema.json: differs" in capsys.readouterr().err
