"""The checked-in contract documents: rendered in memory, written, and compared with what is on disk."""

import difflib
import json
from pathlib import Path
from typing import Any, Final

from jinlin.contracts.asyncapi import asyncapi_document
from jinlin.contracts.model import ServiceContract
from jinlin.contracts.schemas import ENVELOPE_FILE, envelope_file_schema, event_file_schema

ASYNCAPI_FILE: Final = "asyncapi.json"
MAX_DIFF_LINES: Final = 40


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render(contract: ServiceContract) -> dict[str, str]:
    """Every file of the contract, by path relative to the ``docs/events`` folder, with its exact text."""
    service = contract.service
    files = {
        ENVELOPE_FILE: _json(envelope_file_schema()),
        f"{service}/{ASYNCAPI_FILE}": _json(asyncapi_document(contract)),
    }
    for aggregate in contract.aggregates:
        for model in aggregate.events:
            event_type = contract.registry.type_of(model)
            name = f"{model.event_name()}.v{model.event_version}.schema.json"
            files[f"{service}/{name}"] = _json(event_file_schema(event_type, model, contract.address_of(model)))
    return files


def _generated_here(root: Path, service: str) -> set[str]:
    """The files of the service's folder that a generation would own (its schemas and its AsyncAPI document)."""
    folder = root / service
    if not folder.is_dir():
        return set()
    owned = {ASYNCAPI_FILE, *(path.name for path in folder.glob("*.schema.json"))}
    return {f"{service}/{name}" for name in owned if (folder / name).exists()}


def drift(contract: ServiceContract, root: Path) -> list[str]:
    """How the files under ``root`` differ from what the code generates; empty when they are current."""
    expected = render(contract)
    problems = []
    for path, text in expected.items():
        target = root / path
        if not target.exists():
            problems.append(f"{path}: missing")
            continue
        current = target.read_text(encoding="utf-8")
        if current != text:
            diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), lineterm=""))
            if len(diff) > MAX_DIFF_LINES:
                diff = [*diff[:MAX_DIFF_LINES], f"... {len(diff) - MAX_DIFF_LINES} more lines"]
            problems.append(f"{path}: differs (- checked in, + from the code)\n" + "\n".join(diff))
    for stale in sorted(_generated_here(root, contract.service) - set(expected)):
        problems.append(f"{stale}: no longer generated (an event was renamed, re-versioned or removed)")
    return problems


def write(contract: ServiceContract, root: Path) -> list[str]:
    """Write every file of the contract under ``root`` and remove the service's stale ones; return what changed."""
    expected = render(contract)
    changed = []
    for path, text in expected.items():
        target = root / path
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            changed.append(path)
    for stale in sorted(_generated_here(root, contract.service) - set(expected)):
        (root / stale).unlink()
        changed.append(stale)
    return changed
