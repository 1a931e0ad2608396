"""The erasure of a person's personal data, recorded as a fact (without the data, which is already unreadable)."""

from typing import ClassVar, Final

from complaints.domain.events import registry
from complaints.domain.personal_data import PersonRef
from complaints.domain.utc import UtcDatetime
from jinlin.events import DomainEvent

PERSON_AGGREGATE: Final = "person"


@registry.register
class PersonalDataErased(DomainEvent):
    """The person's key was destroyed: every name and phone number sealed for them is unreadable from now on."""

    subject_token: ClassVar[str] = "erased"  # noqa: S105

    person_ref: PersonRef
    reason: str
    occurred_at: UtcDatetime
