"""Who takes part in a payment out: the payee, the co-signers, and what the payment satisfies.

Staff, notaries and organisations act in an official capacity; their ids and names are not residents' personal data.
A household is referred to by its id and its label ("3栋2单元301"), never by a resident's name.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.texts import Name, Reference, Text
from billing_escrow.domain.utc import UtcDatetime


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignerRole(StrEnum):
    """The roles whose signatures a payment out may need."""

    CENTER_FINANCE = "center_finance"  # the service center's finance desk
    NOTARY = "notary"  # the supervising notary (公证处)
    OWNERS_COMMITTEE = "owners_committee"  # the compound's owners' committee (业主委员会), where the terms say so


class Signer(_Value):
    """A person signing in a role. The role is what the account's terms require; the id is what four-eyes compares."""

    role: SignerRole
    signer_id: Identifier


class CoSignature(_Value):
    role: SignerRole
    signer_id: Identifier
    signed_at: UtcDatetime


class Payee(_Value):
    """Who a payment out goes to: the power company, the water company, the property company, a household."""

    payee_id: Identifier
    name: Name
    bank_name: Name | None = None
    account_number: Reference | None = None


class Condition(_Value):
    """What a payment out satisfies: a code a program can match (``power_company_confirms_arrears``) and its text."""

    code: Identifier
    text: Text


class BankAccountDetails(_Value):
    """The escrow account at the bank, as the notary's file records it."""

    bank_name: Name
    account_number: Reference
    account_name: Name
