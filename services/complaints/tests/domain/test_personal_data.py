"""Residents' personal data: only ciphertext and person references reach the events, and nothing echoes it."""

import base64
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from complaints.domain import (
    AssigneeKind,
    Catalogue,
    Channel,
    MediationParty,
    NoteVisibility,
    PartyRole,
    ValidationFailed,
    acknowledge,
    add_note,
    file_complaint,
)
from jinlin.privacy import SEALED_PREFIX

# Shaped as jinlin.privacy seals: its prefix, then base64url of nonce, ciphertext and tag.
CIPHERTEXT = SEALED_PREFIX + base64.urlsafe_b64encode(bytes(range(12 + 6 + 16))).decode()
OTHER_CIPHERTEXT = SEALED_PREFIX + base64.urlsafe_b64encode(bytes(range(100, 100 + 12 + 11 + 16))).decode()
CANARY_NAME = "金丝雀"
CANARY_PHONE = "13912345678"


@pytest.fixture
def file(catalogue: Catalogue, desk: Callable[..., Any]) -> Callable[..., list[Any]]:
    base = desk()

    def filing(**overrides: Any) -> list[Any]:
        arguments: dict[str, Any] = {
            "complaint_id": "c-1",
            "category_code": "noise",
            "answers": {"source": "renovation"},
            "description": "楼上装修噪音",
            "channel": Channel.WEB,
            "compound_id": "jinyuan-huating",
            "reporter_ref": "p-1",
            "at": base.now,
        }
        arguments.update(overrides)
        return file_complaint(catalogue, **arguments)

    return filing


def test_the_filed_event_carries_the_reporter_only_as_reference_and_ciphertext(file: Callable[..., Any]) -> None:
    [filed] = file(reporter_name_enc=CIPHERTEXT, reporter_phone_enc=OTHER_CIPHERTEXT)
    data = filed.model_dump(mode="json")
    assert (data["reporter_ref"], data["reporter_name_enc"], data["reporter_phone_enc"]) == (
        "p-1",
        CIPHERTEXT,
        OTHER_CIPHERTEXT,
    )
    assert not {key for key in data if "name" in key or "phone" in key} - {"reporter_name_enc", "reporter_phone_enc"}


@pytest.mark.parametrize(
    ("field", "clear"),
    [
        ("reporter_phone_enc", CANARY_PHONE),
        ("reporter_phone_enc", "+86 139-1234-5678"),
        ("reporter_name_enc", CANARY_NAME),
        ("reporter_name_enc", "Zhang San"),
        ("reporter_name_enc", "ZhangSan"),
        ("reporter_name_enc", "Zhang San Feng of the Wudang Mountains, Room 301"),
        ("reporter_name_enc", "pd1:ZhangSan"),
        ("reporter_ref", CANARY_PHONE),
    ],
)
def test_clear_names_and_phone_numbers_are_refused_without_being_repeated(
    file: Callable[..., Any], field: str, clear: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        file(**{field: clear})
    assert [problem.field for problem in refused.value.problems] == [field]
    assert clear not in str(refused.value)
    assert clear not in repr(refused.value.problems)
    # As it would be logged: the pydantic error (which quotes inputs) must not ride along in the traceback.
    assert clear not in "".join(traceback.format_exception(refused.value))


def test_a_resident_party_to_mediation_is_a_person_reference_never_a_name_in_clear() -> None:
    with pytest.raises(ValidationError, match="is a person"):
        MediationParty(role=PartyRole.RESIDENT, organisation=CANARY_NAME)
    with pytest.raises(ValidationError, match="either an organisation or a person"):
        MediationParty(role=PartyRole.OTHER)
    with pytest.raises(ValidationError, match="is an organisation"):
        MediationParty(role=PartyRole.PROPERTY_COMPANY, person_ref="p-1")
    with pytest.raises(ValidationError, match="encrypted name belongs to a person"):
        MediationParty(role=PartyRole.OTHER, organisation="某街道", person_name_enc=CIPHERTEXT)
    with pytest.raises(ValidationError):
        MediationParty(role=PartyRole.RESIDENT, person_ref="p-1", person_name_enc=CANARY_NAME)
    resident = MediationParty(role=PartyRole.RESIDENT, person_ref="p-1", person_name_enc=CIPHERTEXT)
    assert resident.organisation is None


def test_assignees_are_staff_and_organisations_named_in_clear() -> None:
    # Staff act in an official capacity: their names are not the residents' personal data this guards.
    assert {kind.value for kind in AssigneeKind} == {"handler", "team", "property_company", "utility"}


def test_a_refused_command_does_not_carry_the_refused_text_in_its_traceback(desk: Callable[..., Any]) -> None:
    d = desk()
    d.do(acknowledge)
    note = f"居民{CANARY_NAME}电话{CANARY_PHONE}" * 300  # too long, and full of what must not be logged
    with pytest.raises(ValidationFailed) as refused:
        d.do(add_note, text=note, visibility=NoteVisibility.INTERNAL)
    assert [problem.field for problem in refused.value.problems] == ["text"]
    logged = "".join(traceback.format_exception(refused.value))
    assert CANARY_PHONE not in logged
    assert CANARY_NAME not in logged
