"""What the use cases need, assembled once by the composition root (``bootstrap``)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jinlin.privacy import PersonalDataVault
from jinlin.store import EventStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MediationContext:
    store: EventStore
    vault: PersonalDataVault = field(default_factory=PersonalDataVault)
    """Mediation's own keys: it can open only the names it sealed itself (parties a mediator added)."""
    clock: Callable[[], datetime] = utc_now
