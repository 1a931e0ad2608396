"""Carrying out the agreement: obligations fulfilled, chased when overdue, extended or waived; follow-up visits.

Fulfilment by another service's event is idempotent, because events are delivered at least once: the same event
offered again for the obligation it already fulfilled records nothing (also after the case closed). Any other second
fulfilment is refused (``ObligationAlreadySettled``): no obligation is fulfilled twice.

The overdue watcher is idempotent too: for a due instant already marked it records nothing, so a watcher that
crashed after recording and runs again cannot mark the same deadline twice.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from mediation.domain.commanding import begin, new_event, require_obligation, require_party
from mediation.domain.errors import EventDoesNotFulfil, InvalidTransition, ObligationAlreadySettled, ValidationFailed
from mediation.domain.events import (
    CaseEvent,
    FollowUpVisitRecorded,
    ObligationDueDateExtended,
    ObligationFulfilled,
    ObligationMarkedOverdue,
    ObligationWaived,
)
from mediation.domain.obligations import Obligation
from mediation.domain.state import CaseState
from mediation.domain.status import AGREED, CaseStatus
from mediation.domain.terms import ExternalEventRef
from mediation.domain.utc import require_utc

OBLIGATIONS_IN: Final = frozenset({CaseStatus.AGREEMENT_IN_EFFECT})


def _open(state: CaseState, command: str, term_id: str, at: datetime) -> tuple[datetime, Obligation]:
    at = begin(state, command, OBLIGATIONS_IN, at)
    obligation = require_obligation(state, term_id)
    if obligation.settled:
        raise ObligationAlreadySettled(command, state.status, f"obligation {term_id} is already {obligation.status}")
    return at, obligation


def fulfil_obligation(state: CaseState, *, term_id: str, evidence: str, at: datetime) -> list[CaseEvent]:
    """The obligor did it, as ``evidence`` shows (e.g. "供电公司出具的结清证明，编号…")."""
    at, _ = _open(state, "fulfil an obligation of", term_id, at)
    return [new_event(ObligationFulfilled, state, at, term_id=term_id, evidence=evidence)]


def fulfil_by_external_event(
    state: CaseState,
    term_id: str,
    service: str,
    event_type: str,
    event_id: str,
    data: Mapping[str, object],
    at: datetime,
) -> list[CaseEvent]:
    """Another service's event fulfils the term that names it (see ``terms``). Nothing if this event already did."""
    at = require_utc(at)
    if state.status in AGREED:
        already = state.obligations.get(term_id)
        if already is not None and already.fulfilled_by_event(service, event_id):
            return []
    at, obligation = _open(state, "fulfil an obligation of", term_id, at)
    expected = obligation.term.fulfilled_by
    if expected is None:
        raise EventDoesNotFulfil(
            "fulfil an obligation of", state.status, f"term {term_id} is not fulfilled by another service's event"
        )
    if not expected.matches(service, event_type, data):
        raise EventDoesNotFulfil(
            "fulfil an obligation of", state.status, f"the event does not match what term {term_id} names"
        )
    reference = ExternalEventRef(service=service, event_type=event_type, event_id=event_id)
    return [new_event(ObligationFulfilled, state, at, term_id=term_id, by_event=reference)]


def matching_terms(state: CaseState, service: str, event_type: str, data: Mapping[str, object]) -> list[str]:
    """The open obligations (by term id) that this event of another service fulfils: where to route it.

    Settled obligations are left out, so routing a redelivered event finds nothing to do.
    """
    return [
        term_id
        for term_id, obligation in state.obligations.items()
        if not obligation.settled
        and obligation.term.fulfilled_by is not None
        and obligation.term.fulfilled_by.matches(service, event_type, data)
    ]


def obligations_to_mark_overdue(state: CaseState, now: datetime) -> list[str]:
    """What the overdue watcher should mark now (by term id): open, late, this due instant not yet marked."""
    if state.status not in OBLIGATIONS_IN:
        return []
    return [term_id for term_id, obligation in state.obligations.items() if obligation.should_mark_overdue(now)]


def mark_obligation_overdue(state: CaseState, *, term_id: str, at: datetime) -> list[CaseEvent]:
    """The watcher records that the obligation is late; nothing if its due instant was already marked."""
    at, obligation = _open(state, "mark overdue an obligation of", term_id, at)
    if obligation.overdue_marked:
        return []
    if not obligation.is_late(at):
        raise InvalidTransition("mark overdue an obligation of", state.status, f"obligation {term_id} is not yet due")
    return [
        new_event(
            ObligationMarkedOverdue, state, at, term_id=term_id, obligor=obligation.obligor, due_at=obligation.due_at
        )
    ]


def extend_obligation(
    state: CaseState, *, term_id: str, due_at: datetime, reason: str, at: datetime
) -> list[CaseEvent]:
    """The parties agreed a later due instant (later than both the one in force and now)."""
    at, obligation = _open(state, "extend an obligation of", term_id, at)
    due_at = require_utc(due_at, "due_at")
    if due_at <= obligation.due_at or due_at <= at:
        raise ValidationFailed.single("due_at", "must be later than the due date in force and than now")
    return [
        new_event(
            ObligationDueDateExtended,
            state,
            at,
            term_id=term_id,
            due_at=due_at,
            previous_due_at=obligation.due_at,
            reason=reason,
        )
    ]


def waive_obligation(state: CaseState, *, term_id: str, reason: str, at: datetime) -> list[CaseEvent]:
    """The parties agreed the obligation need not be carried out; it counts as settled."""
    at, _ = _open(state, "waive an obligation of", term_id, at)
    return [new_event(ObligationWaived, state, at, term_id=term_id, reason=reason)]


def record_follow_up_visit(
    state: CaseState,
    *,
    performance: str,
    at: datetime,
    party_id: str | None = None,
    satisfaction: int | None = None,
) -> list[CaseEvent]:
    """A follow-up visit (回访): how the agreement is being carried out and, if asked, how satisfied (1 to 5)."""
    at = begin(state, "record a follow-up visit on", AGREED, at)
    if party_id is not None:
        require_party(state, "record a follow-up visit on", party_id)
    return [
        new_event(
            FollowUpVisitRecorded, state, at, performance=performance, party_id=party_id, satisfaction=satisfaction
        )
    ]
