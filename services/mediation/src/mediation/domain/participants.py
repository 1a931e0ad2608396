"""Who takes part: the parties (added, removed, told their rights) and the mediator."""

from datetime import datetime
from typing import Final

from mediation.domain.commanding import begin, new_event, require_party
from mediation.domain.errors import InvalidTransition
from mediation.domain.events import (
    CaseEvent,
    MediatorAssigned,
    MediatorReassigned,
    PartyAdded,
    PartyInformedOfRights,
    PartyRemoved,
)
from mediation.domain.parties import Mediator, Party, PartyDetails
from mediation.domain.state import CaseState
from mediation.domain.status import LIVE, CaseStatus

# Who the parties are is settled by the time an agreement takes effect: its terms name them.
PARTIES_CHANGE_IN: Final = frozenset({CaseStatus.OPENED, CaseStatus.ACCEPTED})


def add_party(state: CaseState, *, party: PartyDetails, at: datetime) -> list[CaseEvent]:
    """A new party joins under the next free id (``state.next_party_id``)."""
    at = begin(state, "add a party to", PARTIES_CHANGE_IN, at)
    for party_id, record in state.parties.items():
        if record.party.same_as(party):
            raise InvalidTransition("add a party to", state.status, f"they are already party {party_id}")
    numbered = Party.numbered(state.parties_numbered + 1, party)
    return [new_event(PartyAdded, state, at, party=numbered)]


def remove_party(state: CaseState, *, party_id: str, reason: str, at: datetime) -> list[CaseEvent]:
    """A party leaves the case. Refused while the agreement being drafted names them (amend or discard it first)."""
    at = begin(state, "remove a party from", PARTIES_CHANGE_IN, at)
    require_party(state, "remove a party from", party_id)
    if state.agreement is not None and party_id in state.agreement.party_ids:
        raise InvalidTransition(
            "remove a party from", state.status, f"{party_id} is named in agreement {state.agreement.agreement_id}"
        )
    if len(state.parties) == 1:
        raise InvalidTransition("remove a party from", state.status, "a case keeps at least one party")
    return [new_event(PartyRemoved, state, at, party_id=party_id, reason=reason)]


def inform_of_rights(state: CaseState, *, party_id: str, at: datetime, note: str = "") -> list[CaseEvent]:
    """Record that the party was told their rights and duties (again, if it happens again: the latest is kept)."""
    at = begin(state, "inform a party of", LIVE, at)
    require_party(state, "inform a party of", party_id)
    return [new_event(PartyInformedOfRights, state, at, party_id=party_id, note=note)]


def assign_mediator(state: CaseState, *, mediator: Mediator, at: datetime, reason: str = "") -> list[CaseEvent]:
    """Assign the mediator (the first time) or hand the case to another one."""
    at = begin(state, "assign a mediator to", LIVE, at)
    previous = state.mediator
    if previous is None:
        return [new_event(MediatorAssigned, state, at, mediator=mediator)]
    if previous.id == mediator.id:
        raise InvalidTransition("assign a mediator to", state.status, f"{mediator.id} is already its mediator")
    return [new_event(MediatorReassigned, state, at, mediator=mediator, previous_mediator=previous, reason=reason)]
