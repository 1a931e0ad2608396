"""What the complaints desk tells the mediation service about the parties to a dispute.

A party is an organisation (named in clear: the property company, the owners' committee, the power company) or a
person (a resident, a residents' representative), who is named only by a person reference and an encrypted name,
like a complaint's reporter.
"""

from enum import StrEnum
from typing import Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from complaints.domain.personal_data import Ciphertext, PersonRef


class PartyRole(StrEnum):
    RESIDENT = "resident"
    RESIDENTS_REPRESENTATIVE = "residents_representative"
    OWNERS_COMMITTEE = "owners_committee"
    PROPERTY_COMPANY = "property_company"
    UTILITY = "utility"
    STREET_OFFICE = "street_office"
    COMMUNITY_COMMITTEE = "community_committee"  # 社区居委会
    OTHER = "other"


# Roles that are always people, so never named in clear (an "organisation" field holding a resident's name would be a
# leak), and roles that are always organisations.
PERSON_ROLES: Final = frozenset({PartyRole.RESIDENT, PartyRole.RESIDENTS_REPRESENTATIVE})
ORGANISATION_ROLES: Final = frozenset(
    {
        PartyRole.OWNERS_COMMITTEE,
        PartyRole.PROPERTY_COMPANY,
        PartyRole.UTILITY,
        PartyRole.STREET_OFFICE,
        PartyRole.COMMUNITY_COMMITTEE,
    }
)


class MediationParty(BaseModel):
    """Exactly one of ``organisation`` (in clear) or ``person_ref`` (with an optional encrypted name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: PartyRole
    organisation: str | None = Field(default=None, min_length=1, max_length=200)
    person_ref: PersonRef | None = None
    person_name_enc: Ciphertext | None = None

    @model_validator(mode="after")
    def _organisation_or_person(self) -> Self:
        if (self.organisation is None) == (self.person_ref is None):
            raise ValueError("a party is either an organisation or a person (person_ref), not both or neither")
        if self.person_name_enc is not None and self.person_ref is None:
            raise ValueError("an encrypted name belongs to a person party")
        if self.role in PERSON_ROLES and self.person_ref is None:
            raise ValueError(f"a {self.role} is a person: give person_ref (and person_name_enc), not a name in clear")
        if self.role in ORGANISATION_ROLES and self.organisation is None:
            raise ValueError(f"a {self.role} is an organisation: give its name in organisation")
        return self
