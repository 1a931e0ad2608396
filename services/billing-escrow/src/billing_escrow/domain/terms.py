"""An escrow account's terms: whose co-signatures a payment out needs.

The center's finance desk and the notary always sign; the owners' committee too where the agreement behind the
account says so. The roles are kept sorted, so that equal terms serialise (and hash) identically.
"""

from typing import Final

from pydantic import BaseModel, ConfigDict, field_validator

from billing_escrow.domain.parties import SignerRole

ALWAYS_REQUIRED: Final = frozenset({SignerRole.CENTER_FINANCE, SignerRole.NOTARY})
_ORDER: Final = {role: index for index, role in enumerate(SignerRole)}


class AccountTerms(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    required_roles: tuple[SignerRole, ...]

    @field_validator("required_roles")
    @classmethod
    def _complete_and_sorted(cls, roles: tuple[SignerRole, ...]) -> tuple[SignerRole, ...]:
        if len(set(roles)) != len(roles):
            raise ValueError("a role may be listed only once")
        missing = ALWAYS_REQUIRED - set(roles)
        if missing:
            raise ValueError(f"must include {', '.join(sorted(missing))}")
        return tuple(sorted(roles, key=_ORDER.__getitem__))

    @classmethod
    def standard(cls, *, owners_committee: bool = False) -> "AccountTerms":
        extra = (SignerRole.OWNERS_COMMITTEE,) if owners_committee else ()
        return cls(required_roles=(SignerRole.CENTER_FINANCE, SignerRole.NOTARY, *extra))
