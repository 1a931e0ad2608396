"""The statement chain's one event.

NATS subject: ``jinlin.escrow.statement.<account_id>.issued`` (stream ``statement.<account_id>``), the only subjects
the notary's NATS user may read. The event carries the whole statement, so the notary can rebuild, re-hash and check
it from the message alone.
"""

from typing import Annotated, ClassVar

from pydantic import Field, Strict

from billing_escrow.domain.events import registry
from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.statement import Sha256, Statement
from billing_escrow.domain.utc import UtcDatetime
from jinlin.events import DomainEvent


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
