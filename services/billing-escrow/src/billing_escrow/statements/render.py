"""The three forms of a statement for the notary: signed JSON, ISO 20022 camt.053 XML, and a PDF in Chinese.

For the application layer (issuing a statement)::

    key = load_or_create_signing_key(settings.statement_key_path)       # billing_escrow.statements.keys
    [event] = issue_statement(chain, account, statement_id=..., ...)     # the domain: unsigned
    event = sign_statement_event(event, key)                             # now event.signature is set
    # append and publish ``event``: jinlin.escrow.statement.<account_id>.issued carries the statement, its hash,
    # the previous statement's hash and the signature, so the notary can write the exact signed JSON and render
    # the XML and the PDF itself (``jinlin notary pull``).

For serving a stored statement (HTTP ``GET .../statements/{id}.json|.xml|.pdf``)::

    documents = render_documents(event.statement, event.signature)     # or statement_documents(statement, key)
    documents.json, documents.xml, documents.pdf                        # bytes

``sign_statement_event`` refuses an event whose ``statement_hash`` or ``previous_statement_hash`` is not its
statement's. The signature covers the RFC 8785 canonical JSON of the statement, the same bytes whose SHA-256 is
``statement_hash`` (see ``billing_escrow.statements.signing``).
"""

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from billing_escrow.domain.statement import Statement, statement_hash
from billing_escrow.domain.statement_events import StatementSignature
from billing_escrow.statements.camt import camt053
from billing_escrow.statements.pdf import statement_pdf
from billing_escrow.statements.signing import envelope, envelope_bytes, sign_statement, sign_statement_event

__all__ = [
    "StatementDocuments",
    "file_stem",
    "render_documents",
    "sign_statement_event",
    "statement_documents",
]


@dataclass(frozen=True)
class StatementDocuments:
    statement_id: str
    account_id: str
    sequence: int
    statement_hash: str
    json: bytes
    xml: bytes
    pdf: bytes

    @property
    def stem(self) -> str:
        return f"{self.sequence:06d}-{self.statement_id}"

    def write(self, directory: str | Path) -> list[Path]:
        """Write ``<stem>.json``, ``.xml`` and ``.pdf`` into ``directory``; returns the paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for suffix, content in ((".json", self.json), (".xml", self.xml), (".pdf", self.pdf)):
            path = directory / f"{self.stem}{suffix}"
            path.write_bytes(content)
            paths.append(path)
        return paths


def file_stem(statement: Statement) -> str:
    """``000003-st-2025-05``: the sequence first, zero-padded, so a directory listing is the chain's order."""
    return f"{statement.sequence:06d}-{statement.statement_id}"


def render_documents(statement: Statement, signature: StatementSignature | None) -> StatementDocuments:
    """The three documents of a statement already signed (``signature`` as the event carries it)."""
    digest = statement_hash(statement)
    return StatementDocuments(
        statement_id=statement.statement_id,
        account_id=statement.account_id,
        sequence=statement.sequence,
        statement_hash=digest,
        json=envelope_bytes(envelope(statement, signature)),
        xml=camt053(statement, digest),
        pdf=statement_pdf(statement, digest, signature),
    )


def statement_documents(statement: Statement, signing_key: Ed25519PrivateKey) -> StatementDocuments:
    """Sign ``statement`` with the center's key and render its three documents."""
    return render_documents(statement, sign_statement(statement, signing_key))
