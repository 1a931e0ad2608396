"""A payment out as the account holds it while it is pending, and after: its order, charges and co-signatures.

Four-eyes rule: the person who requested a payment out may not co-sign it, and one person may sign it in one role
only. So every payment out is seen by at least as many people as its terms require roles, plus its requester.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from billing_escrow.domain.account_events import Charge, DisbursementOrder
from billing_escrow.domain.parties import CoSignature, SignerRole


class DisbursementStatus(StrEnum):
    PENDING = "pending"  # reserved, collecting co-signatures
    EXECUTED = "executed"  # paid out
    VOIDED = "voided"  # withdrawn; reservation released
    EXPIRED = "expired"  # not executed in time; reservation released


@dataclass(frozen=True)
class Disbursement:
    disbursement_id: str
    order: DisbursementOrder
    charges: tuple[Charge, ...]
    required_roles: tuple[SignerRole, ...]
    requested_at: datetime
    reserved_on: date
    status: DisbursementStatus = DisbursementStatus.PENDING
    signatures: tuple[CoSignature, ...] = ()
    resolved_at: datetime | None = None
    executed_on: date | None = None
    bank_reference: str | None = None
    void_reason: str | None = None

    @property
    def amount_fen(self) -> int:
        return self.order.amount_fen

    @property
    def expires_at(self) -> datetime:
        return self.order.expires_at

    @property
    def is_pending(self) -> bool:
        return self.status is DisbursementStatus.PENDING

    @property
    def signed_roles(self) -> frozenset[SignerRole]:
        return frozenset(s.role for s in self.signatures)

    @property
    def missing_roles(self) -> tuple[SignerRole, ...]:
        return tuple(role for role in self.required_roles if role not in self.signed_roles)

    @property
    def fully_signed(self) -> bool:
        return not self.missing_roles

    @property
    def charges_by_household(self) -> Mapping[str, int]:
        return {c.household_id: c.amount_fen for c in self.charges}

    def signature_for(self, role: SignerRole) -> CoSignature | None:
        return next((s for s in self.signatures if s.role is role), None)

    def expired_by(self, at: datetime) -> bool:
        return at >= self.expires_at
