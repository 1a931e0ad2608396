"""A compound's handover at a glance: how far along each part is, in counts and whole percentages.

Percentages are rounded down, so 100 % means done, never "nearly done".
"""

from dataclasses import dataclass
from datetime import datetime

from billing_escrow.domain.handover_state import HandoverState


def percent(part: int, whole: int) -> int:
    return 0 if whole <= 0 else part * 100 // whole


@dataclass(frozen=True)
class Milestone:
    name: str
    done_at: datetime | None

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class HandoverProgress:
    compound_id: str
    households: int
    meters_installed: int
    supply_switched: int
    meters_installed_percent: int
    supply_switched_percent: int
    arrears_total_fen: int | None
    arrears_paid_fen: int
    arrears_paid_percent: int
    milestones: tuple[Milestone, ...]
    complete: bool


def handover_progress(state: HandoverState) -> HandoverProgress:
    households = len(state.household_ids)
    total = state.arrears.amount_fen if state.arrears is not None else None
    passed_vote = state.vote if state.vote_passed else None
    last_payment = max((p.occurred_at for p in state.payments.values()), default=None)
    milestones = (
        Milestone("owners_voted", passed_vote.occurred_at if passed_vote else None),
        Milestone("escrow_opened", state.escrow.occurred_at if state.escrow else None),
        Milestone("arrears_confirmed", state.arrears.occurred_at if state.arrears else None),
        Milestone("arrears_allocated", state.allocation.occurred_at if state.allocation else None),
        Milestone("arrears_paid", last_payment if state.arrears_fully_paid else None),
        Milestone("meters_installed", _all_done_at([m.occurred_at for m in state.meters.values()], households)),
        Milestone("supply_switched", _all_done_at([s.occurred_at for s in state.switched.values()], households)),
        Milestone("facilities_transferred", state.facilities.occurred_at if state.facilities else None),
        Milestone("completed", state.completed.occurred_at if state.completed else None),
    )
    return HandoverProgress(
        compound_id=state.compound_id,
        households=households,
        meters_installed=len(state.meters),
        supply_switched=len(state.switched),
        meters_installed_percent=percent(len(state.meters), households),
        supply_switched_percent=percent(len(state.switched), households),
        arrears_total_fen=total,
        arrears_paid_fen=state.arrears_paid_fen,
        arrears_paid_percent=percent(state.arrears_paid_fen, total or 0),
        milestones=milestones,
        complete=state.is_complete,
    )


def _all_done_at(instants: list[datetime], expected: int) -> datetime | None:
    """When the last of ``expected`` things was done, or ``None`` while some are still to do."""
    return max(instants) if len(instants) == expected and instants else None
