"""The parties to a dispute (当事人) and the mediator who conducts it.

A party is an organisation (named in clear: the property company, the owners' committee, the power company) or a
person (a resident, a residents' representative), who is named only by a person reference and a sealed name. The
kinds are the complaints service's ``PartyRole`` values, so a referral's parties map over one to one.

Inside a case each party has an id (``party-1``, ``party-2``, ...) given by the domain in the order they joined: the
desk and the complaints service name parties by who they are, and only the case can number them without collisions.
"""

from enum import StrEnum
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from mediation.domain.identifiers import Identifier
from mediation.domain.personal_data import Ciphertext, PersonRef

OrganisationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class PartyKind(StrEnum):
    RESIDENT = "resident"
    RESIDENTS_REPRESENTATIVE = "residents_representative"
    OWNERS_COMMITTEE = "owners_committee"  # 业主委员会
    PROPERTY_COMPANY = "property_company"  # 物业公司
    UTILITY = "utility"  # the power supply company, the water company
    COMMUNITY_COMMITTEE = "community_committee"  # 社区居委会, "the community"
    STREET_OFFICE = "street_office"  # 街道办事处
    OTHER = "other"


# Kinds that are always people, so never named in clear (an "organisation" field holding a resident's name would be a
# leak), and kinds that are always organisations.
PERSON_KINDS: Final = frozenset({PartyKind.RESIDENT, PartyKind.RESIDENTS_REPRESENTATIVE})
ORGANISATION_KINDS: Final = frozenset(
    {
        PartyKind.OWNERS_COMMITTEE,
        PartyKind.PROPERTY_COMPANY,
        PartyKind.UTILITY,
        PartyKind.COMMUNITY_COMMITTEE,
        PartyKind.STREET_OFFICE,
    }
)


class PartyDetails(BaseModel):
    """Who a party is: exactly one of ``organisation`` (in clear) or ``person_ref`` (with an optional sealed name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PartyKind
    organisation: OrganisationName | None = None
    person_ref: PersonRef | None = None
    person_name_enc: Ciphertext | None = None

    @model_validator(mode="after")
    def _organisation_or_person(self) -> Self:
        if (self.organisation is None) == (self.person_ref is None):
            raise ValueError("a party is either an organisation or a person (person_ref), not both or neither")
        if self.person_name_enc is not None and self.person_ref is None:
            raise ValueError("an encrypted name belongs to a person party")
        if self.kind in PERSON_KINDS and self.person_ref is None:
            raise ValueError(f"a {self.kind} is a person: give person_ref (and person_name_enc), not a name in clear")
        if self.kind in ORGANISATION_KINDS and self.organisation is None:
            raise ValueError(f"a {self.kind} is an organisation: give its name in organisation")
        return self

    def same_as(self, other: "PartyDetails") -> bool:
        """The same party, however its sealed name was encrypted: the same person, or the same organisation."""
        if self.person_ref is not None:
            return self.person_ref == other.person_ref
        return (self.kind, self.organisation) == (other.kind, other.organisation)

    def details(self) -> "PartyDetails":
        return PartyDetails(
            kind=self.kind,
            organisation=self.organisation,
            person_ref=self.person_ref,
            person_name_enc=self.person_name_enc,
        )


class Party(PartyDetails):
    """A party of one case, under the id the case gave it."""

    party_id: Identifier

    @classmethod
    def numbered(cls, number: int, details: PartyDetails) -> "Party":
        return cls(party_id=party_id(number), **details.details().model_dump())


def party_id(number: int) -> str:
    return f"party-{number}"


class Mediator(BaseModel):
    """A member of staff (人民调解员) who acts in an official capacity: their name is not personal data to seal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
