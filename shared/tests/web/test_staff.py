"""Staff credentials are configured, not guessed: the file format, hashed tokens and mistakes refused at start."""

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from jinlin.web import Role, StaffDirectory


def test_tokens_come_from_a_file_or_inline_json_and_may_be_stored_hashed(tmp_path: Path) -> None:
    entries = [
        {"token": "plain-token-0123456789", "id": "alice", "roles": ["intake"]},
        {
            "token_sha256": hashlib.sha256(b"hashed-token-0123456789").hexdigest(),
            "id": "bob",
            "roles": ["handler", "supervisor"],
        },
    ]
    path = tmp_path / "staff.json"
    path.write_text(json.dumps(entries))

    for directory in (
        StaffDirectory.from_environment({"JINLIN_STAFF_TOKENS_FILE": str(path)}),
        StaffDirectory.from_environment({"JINLIN_STAFF_TOKENS": json.dumps(entries)}),
    ):
        assert directory is not None
        alice = directory.identify("plain-token-0123456789")
        bob = directory.identify("hashed-token-0123456789")
        assert alice is not None
        assert bob is not None
        assert (alice.actor, alice.roles) == ("staff:alice", frozenset({Role.INTAKE}))
        assert bob.roles == {Role.HANDLER, Role.SUPERVISOR}
        assert directory.identify(hashlib.sha256(b"hashed-token-0123456789").hexdigest()) is None
        assert directory.identify("") is None


def test_nothing_configured_means_no_directory() -> None:
    assert StaffDirectory.from_environment({}) is None


@pytest.mark.parametrize(
    "entry",
    [
        {"token": "short", "id": "alice", "roles": ["intake"]},
        {"token": "plain-token-0123456789", "id": "alice", "roles": ["janitor"]},
        {"token": "plain-token-0123456789", "id": "Alice Smith", "roles": ["intake"]},
        {"token": "plain-token-0123456789", "id": "alice", "roles": []},
        {"id": "alice", "roles": ["intake"]},
        {"token": "plain-token-0123456789", "token_sha256": "0" * 64, "id": "alice", "roles": ["intake"]},
    ],
)
def test_a_bad_entry_is_refused_when_loading(entry: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        StaffDirectory.from_json(json.dumps([entry]))


def test_two_people_with_one_token_are_refused() -> None:
    entries = [
        {"token": "shared-token-0123456789", "id": "alice", "roles": ["intake"]},
        {"token": "shared-token-0123456789", "id": "bob", "roles": ["finance"]},
    ]
    with pytest.raises(ValueError, match="same token"):
        StaffDirectory.from_json(json.dumps(entries))


def test_an_unknown_role_in_code_fails_at_import_time_not_at_request_time() -> None:
    from jinlin.web import require_roles

    with pytest.raises(ValueError, match="janitor"):
        require_roles("janitor")
