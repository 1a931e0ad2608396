"""What the use cases need, assembled once by the composition root (``bootstrap``)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from complaints.domain import Catalogue
from jinlin.privacy import PersonalDataVault
from jinlin.store import EventStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ComplaintsContext:
    store: EventStore
    catalogue: Catalogue
    vault: PersonalDataVault = field(default_factory=PersonalDataVault)
    clock: Callable[[], datetime] = utc_now
