"""A complaint that joins a case brings its earlier history with it.

A complaint starts in a case of its own (its case id is its own id) and may later join another one: it is linked
into a group case (``ComplaintLinkedToCase``) or, as a duplicate, joins the case of the complaint it repeats
(``ComplaintMarkedDuplicate``). From that event on its events carry the new case id; the event names the case it
left in ``previous_case_id``. What happened before (the filing, the acknowledgement) still carries that previous
case id, yet it is part of the new case's trail: a case's story starts when its first resident called.

Only the complaint's own events come along: a previous case may be shared with other complaints (the complaint
was in another group before), and those others stay where they are.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from staff_console.domain.timeline import LoggedEvent
from staff_console.domain.words import event_name

COMPLAINTS = "complaints"
MOVE_EVENTS = frozenset({"ComplaintLinkedToCase", "ComplaintMarkedDuplicate"})
"""The complaints service's events that move a complaint into another case (``case_id``, ``previous_case_id``)."""


@dataclass(frozen=True)
class CaseMove:
    """A complaint (the subject of its stream) left ``previous_case_id`` at ``sequence`` of the complaints log."""

    subject: str
    previous_case_id: str
    sequence: int


def may_move(service: str, event_type: str) -> bool:
    """Whether an event of this type can move a complaint between cases (a cheap look before reading its data)."""
    return service == COMPLAINTS and event_name(event_type) in MOVE_EVENTS


def moves_into(case_id: str, events: Iterable[LoggedEvent]) -> list[CaseMove]:
    """The moves among ``events`` that brought a complaint into ``case_id`` from another case."""
    moves = []
    for event in events:
        envelope = event.envelope
        if not may_move(event.service, envelope.type):
            continue
        previous = envelope.data.get("previous_case_id")
        if envelope.data.get("case_id") != case_id or not isinstance(previous, str) or previous in ("", case_id):
            continue
        moves.append(CaseMove(envelope.subject, previous, envelope.sequence))
    return moves
