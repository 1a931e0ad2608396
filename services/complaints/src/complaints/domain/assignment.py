"""Who handles a complaint: a staff handler, a team, the property company or a utility."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from complaints.domain.identifiers import Identifier


class AssigneeKind(StrEnum):
    HANDLER = "handler"  # a member of staff
    TEAM = "team"  # a desk or a compound's service station
    PROPERTY_COMPANY = "property_company"
    UTILITY = "utility"  # the power supply company, the water company


class Assignee(BaseModel):
    """Staff and organisations act in an official capacity; their names are not residents' personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AssigneeKind
    id: Identifier
    name: str = Field(min_length=1, max_length=200)

    def same_as(self, other: "Assignee | None") -> bool:
        """The same party, whatever the display name (names get corrected; the id is what identifies)."""
        return other is not None and (self.kind, self.id) == (other.kind, other.id)
