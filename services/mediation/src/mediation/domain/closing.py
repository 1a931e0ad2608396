"""How a case ends: closed once every obligation is settled, or ended without agreement."""

from collections.abc import Sequence
from datetime import datetime

from mediation.domain.commanding import begin, new_event
from mediation.domain.errors import ObligationsOutstanding
from mediation.domain.events import CaseClosed, CaseEndedWithoutAgreement, CaseEvent
from mediation.domain.origins import Route
from mediation.domain.state import CaseState
from mediation.domain.status import CaseStatus


def close(state: CaseState, *, at: datetime, summary: str = "") -> list[CaseEvent]:
    """Close a case whose agreement was carried out: refused while any obligation is neither fulfilled nor waived."""
    at = begin(state, "close", {CaseStatus.AGREEMENT_IN_EFFECT}, at)
    if state.unsettled_term_ids:
        raise ObligationsOutstanding("close", state.status, state.unsettled_term_ids)
    return [new_event(CaseClosed, state, at, summary=summary)]


def end_without_agreement(
    state: CaseState, *, reason: str, routes_advised: Sequence[Route], at: datetime
) -> list[CaseEvent]:
    """Mediation failed (调解不成): the case ends, and the parties are told their routes. A draft agreement lapses."""
    at = begin(state, "end", {CaseStatus.ACCEPTED}, at)
    return [ended_without_agreement_event(state, at, reason, routes_advised)]


def ended_without_agreement_event(
    state: CaseState, at: datetime, reason: str, routes_advised: Sequence[Route]
) -> CaseEndedWithoutAgreement:
    """The event the complaints desk waits for, with every complaint of the case (also recorded by ``decline``)."""
    return new_event(
        CaseEndedWithoutAgreement,
        state,
        at,
        complaint_ids=state.complaint_ids,
        reason=reason,
        routes_advised=tuple(dict.fromkeys(routes_advised)),  # the same route advised twice is said once
    )
