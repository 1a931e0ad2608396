"""A compound's handover: the fold of its milestone events."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from billing_escrow.domain.errors import HistoryError
from billing_escrow.domain.handover_events import (
    ArrearsAllocated,
    ArrearsConfirmed,
    ArrearsPaid,
    FacilitiesTransferred,
    HandoverCompleted,
    HandoverEscrowOpened,
    HandoverEvent,
    HandoverStarted,
    HouseholdMeterInstalled,
    HouseholdSupplySwitched,
    OwnersVoteRecorded,
)
from jinlin.events import DomainEvent


@dataclass(frozen=True)
class HandoverState:
    compound_id: str
    household_ids: tuple[str, ...]
    version: int
    started_at: datetime
    updated_at: datetime
    vote: OwnersVoteRecorded | None = None
    escrow: HandoverEscrowOpened | None = None
    arrears: ArrearsConfirmed | None = None
    allocation: ArrearsAllocated | None = None  # of the arrears in force; cleared by a new confirmation
    payments: Mapping[str, ArrearsPaid] = field(default_factory=dict)  # by disbursement id
    meters: Mapping[str, HouseholdMeterInstalled] = field(default_factory=dict)  # by household
    switched: Mapping[str, HouseholdSupplySwitched] = field(default_factory=dict)  # by household
    facilities: FacilitiesTransferred | None = None
    completed: HandoverCompleted | None = None

    @property
    def vote_passed(self) -> bool:
        return self.vote is not None and self.vote.passed

    @property
    def arrears_paid_fen(self) -> int:
        return sum(p.amount_fen for p in self.payments.values())

    @property
    def arrears_outstanding_fen(self) -> int | None:
        return None if self.arrears is None else self.arrears.amount_fen - self.arrears_paid_fen

    @property
    def arrears_fully_paid(self) -> bool:
        return self.arrears is not None and self.arrears_outstanding_fen == 0

    @property
    def is_complete(self) -> bool:
        return self.completed is not None

    def share_of(self, household_id: str) -> int | None:
        """A household's part of the arrears, once allocated."""
        if self.allocation is None:
            return None
        return next((s.amount_fen for s in self.allocation.shares if s.household_id == household_id), None)


def _started(event: HandoverStarted) -> HandoverState:
    return HandoverState(
        compound_id=event.compound_id,
        household_ids=event.household_ids,
        version=1,
        started_at=event.occurred_at,
        updated_at=event.occurred_at,
    )


def _evolve(state: HandoverState, event: DomainEvent) -> HandoverState:
    if state.completed is not None:
        raise HistoryError(f"handover {state.compound_id} has an event after its completion")
    match event:
        case OwnersVoteRecorded():
            return replace(state, vote=event)
        case HandoverEscrowOpened():
            return replace(state, escrow=event)
        case ArrearsConfirmed():
            if state.payments:
                raise HistoryError("arrears confirmed again after a payment")
            return replace(state, arrears=event, allocation=None)
        case ArrearsAllocated():
            if state.arrears is None or event.total_fen != state.arrears.amount_fen:
                raise HistoryError("arrears allocated other than as confirmed")
            return replace(state, allocation=event)
        case ArrearsPaid():
            if event.disbursement_id in state.payments:
                raise HistoryError(f"arrears payment {event.disbursement_id} recorded twice")
            return replace(state, payments={**state.payments, event.disbursement_id: event})
        case HouseholdMeterInstalled():
            return replace(state, meters={**state.meters, event.household_id: event})
        case HouseholdSupplySwitched():
            return replace(state, switched={**state.switched, event.household_id: event})
        case FacilitiesTransferred():
            return replace(state, facilities=event)
        case HandoverCompleted():
            return replace(state, completed=event)
        case _:
            raise HistoryError(f"{type(event).__name__} is not a handover event")


def apply_handover(state: HandoverState | None, event: DomainEvent) -> HandoverState:
    if state is None:
        if not isinstance(event, HandoverStarted):
            raise HistoryError(f"a handover's history starts with HandoverStarted, not {type(event).__name__}")
        return _started(event)
    if isinstance(event, HandoverStarted):
        raise HistoryError(f"handover {state.compound_id} was already started")
    if not isinstance(event, HandoverEvent) or event.compound_id != state.compound_id:
        raise HistoryError(f"event {type(event).__name__} does not belong to handover {state.compound_id}")
    return replace(_evolve(state, event), version=state.version + 1, updated_at=event.occurred_at)


def apply_handover_events(state: HandoverState | None, events: Iterable[DomainEvent]) -> HandoverState | None:
    for event in events:
        state = apply_handover(state, event)
    return state


def replay_handover(events: Iterable[DomainEvent]) -> HandoverState:
    state = apply_handover_events(None, events)
    if state is None:
        raise HistoryError("a handover's history cannot be empty")
    return state
