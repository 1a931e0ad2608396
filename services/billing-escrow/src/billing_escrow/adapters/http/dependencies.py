"""Shared pieces of the routes: the context, identifiers in paths, who may do what, and rows turned into views.

Roles: the **finance** desk runs the accounts and the money; a **supervisor** places and lifts holds, changes terms
and records the owners' committee's co-signatures; the **notary** opens and reopens accounts at the notary office,
co-signs payments out and reads everything, and edits nothing; an **auditor** reads everything and changes nothing.
"""

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from billing_escrow.adapters.http.schemas import (
    AccountView,
    DisbursementView,
    HandoverHouseholdView,
    HandoverView,
    StatementView,
)
from billing_escrow.application.context import EscrowContext
from billing_escrow.application.rows import from_json, untokens
from billing_escrow.domain import IDENTIFIER_PATTERN, SignerRole
from jinlin.web import Role, Staff, require_roles

AccountId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The escrow account's id")]
DisbursementId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The payment out's id")]
HouseholdId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The household's id")]
CompoundId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The compound's id")]
BillId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The bill's id")]
HoldId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The hold's id")]
StatementId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The statement's id")]

FINANCE_DESK = (Role.FINANCE,)
ACCOUNT_ADMINS = (Role.FINANCE, Role.SUPERVISOR)
SUPERVISORS = (Role.SUPERVISOR,)
NOTARIES = (Role.NOTARY,)
SIGNERS = (Role.FINANCE, Role.NOTARY, Role.SUPERVISOR)
STATEMENT_ISSUERS = (Role.FINANCE, Role.SUPERVISOR, Role.NOTARY)
READERS = (Role.FINANCE, Role.SUPERVISOR, Role.NOTARY, Role.AUDITOR)

# Who may put a signature in each role on a payment out. The owners' committee has no staff accounts: a supervisor
# records its member's signature (from the signed paper) under that member's id.
SIGNING_STAFF_ROLE = {
    SignerRole.CENTER_FINANCE: Role.FINANCE,
    SignerRole.NOTARY: Role.NOTARY,
    SignerRole.OWNERS_COMMITTEE: Role.SUPERVISOR,
}

Finance = Annotated[Staff, Depends(require_roles(*FINANCE_DESK))]
AccountAdmin = Annotated[Staff, Depends(require_roles(*ACCOUNT_ADMINS))]
Supervisor = Annotated[Staff, Depends(require_roles(*SUPERVISORS))]
Notary = Annotated[Staff, Depends(require_roles(*NOTARIES))]
Signer = Annotated[Staff, Depends(require_roles(*SIGNERS))]
StatementIssuer = Annotated[Staff, Depends(require_roles(*STATEMENT_ISSUERS))]
Reader = Annotated[Staff, Depends(require_roles(*READERS))]


def context_of(request: Request) -> EscrowContext:
    context: EscrowContext = request.app.state.escrow
    return context


def person_id(staff: Staff) -> str:
    """The staff member as events name a person (requester, co-signer): their id, with ``.`` read as ``_``."""
    return staff.id.replace(".", "_")


def account_view(row: dict[str, Any]) -> AccountView:
    return AccountView.model_validate(
        row
        | {
            "required_roles": untokens(row["required_roles"]),
            "notary": from_json(row["notary"]),
            "holds": from_json(row["holds"]),
        }
    )


def disbursement_view(row: dict[str, Any]) -> DisbursementView:
    return DisbursementView.model_validate(
        row
        | {
            "payee": from_json(row["payee"]),
            "condition": {"code": row["condition_code"], "text": row["condition_text"]},
            "evidence": from_json(row["evidence"]),
            "charges": from_json(row["charges"]),
            "required_roles": untokens(row["required_roles"]),
            "missing_roles": untokens(row["missing_roles"]),
            "signatures": from_json(row["signatures"]),
        }
    )


def handover_view(row: dict[str, Any]) -> HandoverView:
    milestones = [m | {"done": m["done_at"] is not None} for m in from_json(row["milestones"])]
    return HandoverView.model_validate(
        row | {"creditor": from_json(row["creditor"]), "payments": from_json(row["payments"]), "milestones": milestones}
    )


def handover_household_view(row: dict[str, Any]) -> HandoverHouseholdView:
    return HandoverHouseholdView.model_validate(row)


def statement_view(row: dict[str, Any]) -> StatementView:
    base = f"/statements/{row['statement_id']}"
    documents = {"json": f"{base}.json", "xml": f"{base}.xml", "pdf": f"{base}.pdf"}
    return StatementView.model_validate(row | {"documents": documents})
