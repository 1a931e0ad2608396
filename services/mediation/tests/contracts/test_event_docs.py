"""The checked-in ``docs/events/mediation`` documents are exactly what the code generates, and say what consumers
(the complaints desk, the console) and producers (the complaints desk, escrow) need."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from jinlin.contracts import asyncapi_document, dangling_references, draft_7_violations, drift, undeclared_parameters
from jinlin.contracts.__main__ import main
from mediation.application.escalations import EscalationData
from mediation.contracts import CONTRACT
from mediation.domain import registry

ROOT = next(parent for parent in Path(__file__).parents if (parent / "docs" / "events").is_dir())
DOCS = ROOT / "docs" / "events"
REGENERATE = "python -m jinlin.contracts mediation"


def test_the_checked_in_documents_are_current() -> None:
    problems = drift(CONTRACT, DOCS)
    assert problems == [], (
        f"docs/events no longer matches the code. If the change is intended, run `{REGENERATE}` from the "
        "repository root and commit the result (and bump mediation.contracts.VERSION if consumers must adapt):\n\n"
        + "\n\n".join(problems)
    )


def test_the_document_is_valid_asyncapi_3() -> None:
    document = json.loads((DOCS / "mediation" / "asyncapi.json").read_text())
    official = json.loads((ROOT / "shared" / "tests" / "contracts" / "asyncapi-3.0.0.schema.json").read_text())
    assert [error.message for error in Draft7Validator(official).iter_errors(document)] == []
    assert undeclared_parameters(document) == []
    assert dangling_references(document) == []
    assert draft_7_violations(document) == []


def test_every_event_and_what_mediation_consumes_is_documented() -> None:
    document = asyncapi_document(CONTRACT)
    sent = {operation["channel"]["$ref"].rsplit("/", 1)[1] for operation in document["operations"].values()
            if operation["action"] == "send"}  # fmt: skip
    assert {model.event_name() for model in registry.models()} <= sent
    channels = document["channels"]
    assert channels["AgreementTookEffect"]["address"] == "jinlin.mediation.case.{case_id}.agreement_took_effect"
    assert channels["CaseEndedWithoutAgreement"]["address"] == "jinlin.mediation.case.{case_id}.ended_without_agreement"
    received = {
        message["title"]
        for name, message in document["components"]["messages"].items()
        if any(op["action"] == "receive" and name in str(op["messages"]) for op in document["operations"].values())
    }
    assert received == {"jinlin.complaints.ComplaintEscalatedToMediation.v1", "jinlin.escrow.ArrearsPaid.v1"}
    assert {"deadLetters.mediation-escalations", "deadLetters.mediation-fulfilments"} <= set(channels)
    for model in registry.models():
        assert (DOCS / "mediation" / f"{model.event_name()}.v{model.event_version}.schema.json").is_file()


def test_the_contract_with_the_complaints_desk_holds_both_ways() -> None:
    """What complaints acts on is in mediation's schemas, and what mediation reads of an escalation is in theirs."""
    for name in ("AgreementTookEffect", "CaseEndedWithoutAgreement"):
        schema = json.loads((DOCS / "mediation" / f"{name}.v1.schema.json").read_text())
        assert {"case_id", "complaint_ids"} <= set(schema["required"]), name
    theirs = json.loads((DOCS / "complaints" / "ComplaintEscalatedToMediation.v1.schema.json").read_text())
    relied_on = {name for name, field in EscalationData.model_fields.items() if field.is_required()}
    assert relied_on <= set(theirs["required"])
    roles = set(theirs["$defs"]["PartyRole"]["enum"])
    kinds = set(
        json.loads((DOCS / "mediation" / "CaseOpened.v1.schema.json").read_text())["$defs"]["PartyKind"]["enum"]
    )
    assert roles <= kinds
    Draft202012Validator.check_schema(theirs)


def test_the_command_writes_and_checks_the_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mediation", "--docs", str(tmp_path)]) == 0
    assert (tmp_path / "mediation" / "asyncapi.json").read_text() == (DOCS / "mediation" / "asyncapi.json").read_text()
    assert main(["mediation", "--docs", str(tmp_path), "--check"]) == 0
    took_effect = tmp_path / "mediation" / "AgreementTookEffect.v1.schema.json"
    took_effect.write_text(took_effect.read_text().replace('"complaint_ids"', '"complaints"'))
    capsys.readouterr()
    assert main(["mediation", "--docs", str(tmp_path), "--check"]) == 1
    assert "mediation/AgreementTookEffect.v1.schema.json: differs" in capsys.readouterr().err
