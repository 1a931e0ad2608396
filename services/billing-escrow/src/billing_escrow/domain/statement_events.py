"""The statement chain's one event.

NATS subject: ``jinlin.escrow.statement.<account_id>.issued`` (stream ``statement.<account_id>``), the only subjects
the notary's NATS user may read. The event carries the whole statement, so the notary can rebuild, re-hash and check
it from the message alone.

The event also carries the center's Ed25519 signature over the statement (over the same canonical JSON bytes that
``statement_hash`` hashes), so the notary can keep the exact signed document and check it offline.
``issue_statement`` returns the event unsigned (``signature`` is ``None``: the domain holds no keys); the application
layer signs it with ``billing_escrow.statements.render.sign_statement_event`` before appending it. The field was added
with a default of ``None``, so events stored before it existed still decode as v1 (an additive change, no upcaster).
"""

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from billing_escrow.domain.events import registry
from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.statement import Sha256, Statement
from billing_escrow.domain.utc import UtcDatetime
from jinlin.events import DomainEvent


class StatementSignature(BaseModel):
    """The center's signature of a statement: Ed25519 over the statement's canonical JSON (RFC 8785).

    ``public_key`` is the raw 32-byte Ed25519 public key in hex, ``key_id`` the first 16 hex digits of its SHA-256
    (what a notary pins), ``value`` the 64-byte signature in standard base64.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    alg: Literal["Ed25519"] = "Ed25519"
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    public_key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{86}==$")]


class StatementEvent(DomainEvent):
    account_id: Identifier
    occurred_at: UtcDatetime


@registry.register
class StatementIssued(StatementEvent):
    """``statement_hash`` is ``statement_hash(statement)``; ``previous_statement_hash`` repeats the statement's own."""

    subject_token: ClassVar[str] = "issued"  # noqa: S105

    statement_id: Identifier
    sequence: Annotated[int, Strict(), Field(ge=1)]
    statement_hash: Sha256
    previous_statement_hash: Sha256
    statement: Statement
    signature: StatementSignature | None = None  # None until the application layer signs it
