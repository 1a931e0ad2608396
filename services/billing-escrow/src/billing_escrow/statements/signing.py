"""Signing a statement, and the signed JSON document the notary keeps.

What is signed is exactly what is hashed: the RFC 8785 canonical JSON of the statement (``Statement`` dumped in JSON
mode), the bytes whose SHA-256 is ``billing_escrow.domain.statement_hash``. The signed document (the *envelope*)::

    {
      "statement": {...},                      # the statement as JSON
      "statement_hash": "<sha256 hex>",        # = statement_hash(statement)
      "previous_statement_hash": "<hex>",      # = statement["previous_statement_hash"]: the chain
      "signature": {"alg": "Ed25519", "key_id": "<16 hex>", "public_key": "<64 hex>", "value": "<base64>"}
    }

It is written indented and in UTF-8 for people; a verifier re-canonicalises ``statement`` before checking, so the
layout of the file does not matter, only its values.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from billing_escrow.domain.statement import Statement, statement_hash
from billing_escrow.domain.statement_events import StatementIssued, StatementSignature
from billing_escrow.statements.keys import SigningKeyError, key_id, public_key_from_hex, public_key_hex
from jinlin.events.canonical import canonical_json

ALGORITHM: Final = "Ed25519"
ENVELOPE_KEYS: Final = ("statement", "statement_hash", "previous_statement_hash", "signature")


def signed_bytes(statement: Statement | Mapping[str, Any]) -> bytes:
    """The bytes the signature covers and the hash hashes: the statement's canonical JSON."""
    value = statement.model_dump(mode="json") if isinstance(statement, Statement) else statement
    return canonical_json(value)


def hash_of(statement: Statement | Mapping[str, Any]) -> str:
    """SHA-256 hex of :func:`signed_bytes`; for a ``Statement`` it is ``statement_hash(statement)``."""
    return hashlib.sha256(signed_bytes(statement)).hexdigest()


def sign_statement(statement: Statement, key: Ed25519PrivateKey) -> StatementSignature:
    value = key.sign(signed_bytes(statement))
    return StatementSignature(
        alg=ALGORITHM,
        key_id=key_id(key),
        public_key=public_key_hex(key),
        value=base64.b64encode(value).decode("ascii"),
    )


def sign_statement_event(event: StatementIssued, key: Ed25519PrivateKey) -> StatementIssued:
    """The event with the center's signature of its statement (what the application layer appends and publishes).

    Refuses an event whose hashes disagree with its statement: a signature must never vouch for a broken chain link.
    """
    if statement_hash(event.statement) != event.statement_hash:
        raise ValueError(f"statement {event.statement_id}: the event's statement_hash is not the statement's hash")
    if event.statement.previous_statement_hash != event.previous_statement_hash:
        raise ValueError(f"statement {event.statement_id}: the event's previous_statement_hash is not the statement's")
    return event.model_copy(update={"signature": sign_statement(event.statement, key)})


def signature_problems(
    statement: Statement | Mapping[str, Any],
    signature: StatementSignature | Mapping[str, Any] | None,
    trusted: Collection[Ed25519PublicKey] = (),
) -> list[str]:
    """What is wrong with ``signature`` as the center's signature of ``statement``; empty when it is good.

    Without ``trusted``, the signature is checked against the public key it carries (so it proves the statement was
    not altered since that key signed it); with ``trusted`` keys, that key must also be one of them.
    """
    if signature is None:
        return ["it is not signed"]
    try:
        sig = signature if isinstance(signature, StatementSignature) else StatementSignature.model_validate(signature)
    except ValidationError as exc:
        return [f"its signature block is malformed ({_first_error(exc)})"]
    try:
        embedded = public_key_from_hex(sig.public_key)
    except SigningKeyError:
        return ["its signature names a public key that is not an Ed25519 key"]
    problems = []
    if key_id(embedded) != sig.key_id:
        problems.append(f"its signature's key id {sig.key_id} is not the id of the public key it carries")
    if trusted and sig.public_key not in {public_key_hex(k) for k in trusted}:
        pinned = ", ".join(sorted(key_id(k) for k in trusted))
        problems.append(f"it is signed by key {sig.key_id}, not by the trusted key ({pinned})")
    try:
        embedded.verify(base64.b64decode(sig.value, validate=True), signed_bytes(statement))
    except (InvalidSignature, binascii.Error, ValueError):
        problems.append("its signature does not match its content (altered after signing, or signed by another key)")
    return problems


def envelope(
    statement: Statement | Mapping[str, Any], signature: StatementSignature | Mapping[str, Any] | None
) -> dict[str, Any]:
    """The signed document as a JSON value."""
    value = statement.model_dump(mode="json") if isinstance(statement, Statement) else dict(statement)
    sig = signature.model_dump(mode="json") if isinstance(signature, StatementSignature) else signature
    return {
        "statement": value,
        "statement_hash": hash_of(value),
        "previous_statement_hash": value.get("previous_statement_hash"),
        "signature": None if sig is None else dict(sig),
    }


def envelope_bytes(document: Mapping[str, Any]) -> bytes:
    """The signed document as written to a file: indented UTF-8 JSON, ending in a newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def envelope_of_event_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The signed document from a ``StatementIssued`` event's data as it travelled (nothing re-serialised)."""
    return {
        "statement": data.get("statement"),
        "statement_hash": data.get("statement_hash"),
        "previous_statement_hash": data.get("previous_statement_hash"),
        "signature": data.get("signature"),
    }


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "value"
    return f"{where}: {error['msg']}"
