"""Obligations: each term of an agreement that took effect, as it is carried out (协商结果有人落实).

An obligation is open until it is fulfilled (with evidence, or by the event of another service its term names) or
waived by the parties; either settles it for good. An open obligation is late after its due instant. The overdue
watcher records that once per due instant: ``overdue_marked`` belongs to the due instant in force and is cleared
when the parties agree a later one.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from mediation.domain.deadlines import is_late
from mediation.domain.terms import ExternalEventRef, Term


class ObligationStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    WAIVED = "waived"


@dataclass(frozen=True)
class Obligation:
    term: Term
    due_at: datetime  # the term's, or a later one the parties agreed
    status: ObligationStatus = ObligationStatus.OPEN
    overdue_marked: bool = False  # for the due instant in force
    times_marked_overdue: int = 0
    settled_at: datetime | None = None
    evidence: str = ""  # what was shown when it was fulfilled
    fulfilling_event: ExternalEventRef | None = None
    waiver_reason: str | None = None

    @property
    def term_id(self) -> str:
        return self.term.term_id

    @property
    def obligor(self) -> str:
        return self.term.obligor

    @property
    def settled(self) -> bool:
        return self.status is not ObligationStatus.OPEN

    def is_late(self, now: datetime) -> bool:
        return not self.settled and is_late(self.due_at, now)

    def should_mark_overdue(self, now: datetime) -> bool:
        """What the overdue watcher asks: late, and this due instant not yet marked (so it fires once per deadline)."""
        return self.is_late(now) and not self.overdue_marked

    def fulfilled_by_event(self, service: str, event_id: str) -> bool:
        """Whether this very event (ids are unique per source service) already fulfilled it."""
        ref = self.fulfilling_event
        return ref is not None and (ref.service, ref.event_id) == (service, event_id)

    def extended(self, due_at: datetime) -> "Obligation":
        return replace(self, due_at=due_at, overdue_marked=False)
