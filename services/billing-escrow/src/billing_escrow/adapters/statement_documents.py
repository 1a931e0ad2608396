"""The three forms of a stored statement (signed canonical JSON, ISO 20022 camt.053 XML, a PDF in Chinese), made by
the ``billing_escrow.statements`` package from the statement and the signature its event carries. The package is
imported when a statement is first served, not when the service starts."""

from dataclasses import dataclass

from billing_escrow.application.context import EscrowContext
from billing_escrow.domain import StatementIssued


@dataclass(frozen=True)
class Documents:
    json: bytes
    xml: bytes
    pdf: bytes


def render(context: EscrowContext, event: StatementIssued) -> Documents:
    """The documents of an issued statement: signed as issued (an event from before signing is signed now)."""
    from billing_escrow.statements.render import render_documents, statement_documents

    if event.signature is not None:
        documents = render_documents(event.statement, event.signature)
    else:
        documents = statement_documents(event.statement, context.signing_key())
    return Documents(json=documents.json, xml=documents.xml, pdf=documents.pdf)
