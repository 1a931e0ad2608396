"""The checked-in ``docs/events/escrow`` documents are exactly what the code generates, and valid AsyncAPI 3."""

import json
from pathlib import Path

from jsonschema import Draft7Validator

from billing_escrow.contracts import CONTRACT
from billing_escrow.domain import registry
from jinlin.contracts import dangling_references, draft_7_violations, drift, undeclared_parameters

ROOT = next(parent for parent in Path(__file__).parents if (parent / "docs" / "events").is_dir())
DOCS = ROOT / "docs" / "events"
REGENERATE = "python -m jinlin.contracts billing-escrow"


def test_the_checked_in_documents_are_current() -> None:
    problems = drift(CONTRACT, DOCS)
    assert problems == [], (
        f"docs/events no longer matches the code. If the change is intended, run `{REGENERATE}` from the "
        "repository root and commit the result:\n\n" + "\n\n".join(problems)
    )


def test_the_document_is_valid_asyncapi_3_and_covers_every_event() -> None:
    document = json.loads((DOCS / "escrow" / "asyncapi.json").read_text())
    official = json.loads((ROOT / "shared" / "tests" / "contracts" / "asyncapi-3.0.0.schema.json").read_text())
    assert [error.message for error in Draft7Validator(official).iter_errors(document)] == []
    assert undeclared_parameters(document) == []
    assert dangling_references(document) == []
    assert draft_7_violations(document) == []
    documented = {path.name.split(".")[0] for path in (DOCS / "escrow").glob("*.schema.json")}
    assert documented == {model.event_name() for model in registry.models()}


def test_the_contracts_others_rely_on_are_where_they_say() -> None:
    channels = json.loads((DOCS / "escrow" / "asyncapi.json").read_text())["channels"]
    addresses = {channel["address"] for channel in channels.values()}
    assert "jinlin.escrow.handover.{compound_id}.arrears_paid" in addresses
    assert "jinlin.escrow.statement.{account_id}.issued" in addresses
