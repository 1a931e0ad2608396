"""Who a party token belongs to: the case and the access it opens, checked against the case's own events.

The case is read from its stream, not from a read model, so an access revoked a moment ago is refused at once.
"""

from dataclasses import dataclass
from datetime import datetime

from jinlin.store import EventStore
from mediation.application import party_tokens
from mediation.application.loading import read_case
from mediation.domain import AccessRefused, AccessStatus, CaseState, PartyAccess, access_by_digest, access_status


class UnknownPartyToken(LookupError):
    """The token is malformed, names no case, or no access of its case has its digest."""


@dataclass(frozen=True)
class PartySession:
    """A party signed in through one of their accesses: the case as it stands, and the access."""

    state: CaseState
    access: PartyAccess

    @property
    def case_id(self) -> str:
        return self.state.case_id

    @property
    def party_id(self) -> str:
        return self.access.party_id


async def open_session(store: EventStore, token: str, now: datetime) -> PartySession:
    """The session of ``token``; ``UnknownPartyToken``, or ``AccessRefused`` when its access is no longer in force."""
    case_id = party_tokens.case_id_of(token)
    if case_id is None:
        raise UnknownPartyToken
    state, _stored = await read_case(store, case_id)
    access = access_by_digest(state, party_tokens.digest(token)) if state is not None else None
    if state is None or access is None:
        raise UnknownPartyToken
    status = access_status(state, access, now)
    if status is not AccessStatus.ACTIVE:
        raise AccessRefused(access.access_id, status.value)
    return PartySession(state, access)
