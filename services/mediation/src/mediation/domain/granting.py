"""Giving a party access to their own case, taking it back, and what a party does through it (see ``access``).

The desk may grant access in any state of the case, until ``READABLE_AFTER_END`` after it ended; a party may hold
several accesses at once (a company's manager and its lawyer), each revoked on its own. Through an access a party
answers their own meeting invitations: the same rule as the desk recording their answer, with the party taken from
the access, never from the request.
"""

from datetime import datetime
from typing import Final

from mediation.domain.access import LONGEST_GRANT, READABLE_AFTER_END, AccessStatus, PartyAccess
from mediation.domain.commanding import begin, new_event, require_party
from mediation.domain.consultation import record_rsvp
from mediation.domain.errors import AccessRefused, InvalidTransition, UnknownItem, ValidationFailed
from mediation.domain.events import CaseEvent, PartyAccessGranted, PartyAccessRevoked
from mediation.domain.meetings import Rsvp
from mediation.domain.state import CaseState
from mediation.domain.status import CaseStatus
from mediation.domain.utc import require_utc

ANY_STATUS: Final = frozenset(CaseStatus)


def access_status(state: CaseState, access: PartyAccess, now: datetime) -> AccessStatus:
    return access.status_at(now, still_a_party=state.party(access.party_id) is not None, case_ended_at=state.ended_at)


def access_ends_at(state: CaseState, access: PartyAccess) -> datetime:
    return access.ends_at(state.ended_at)


def access_by_digest(state: CaseState, token_sha256: str) -> PartyAccess | None:
    # A plain comparison is enough: the caller chooses the secret, not its digest, so the time a comparison takes
    # tells them nothing about any secret (the staff directory looks tokens up the same way).
    return next((access for access in state.party_access.values() if access.token_sha256 == token_sha256), None)


def grant_party_access(
    state: CaseState, *, party_id: str, token_sha256: str, expires_at: datetime, at: datetime
) -> list[CaseEvent]:
    """Access for ``party_id`` under the next free id (``state.next_access_id``) until ``expires_at`` at the latest
    (at most ``LONGEST_GRANT`` from now). ``token_sha256`` is the digest of the secret handed to the party."""
    at = begin(state, "give a party access to", ANY_STATUS, at)
    require_party(state, "give a party access to", party_id)
    expires_at = require_utc(expires_at, "expires_at")
    if expires_at <= at:
        raise ValidationFailed.single("expires_at", "must be later than now")
    if expires_at > at + LONGEST_GRANT:
        raise ValidationFailed.single("expires_at", f"must be at most {LONGEST_GRANT.days} days from now")
    if state.ended_at is not None and at >= state.ended_at + READABLE_AFTER_END:
        raise InvalidTransition(
            "give a party access to", state.status, f"it ended more than {READABLE_AFTER_END.days} days ago"
        )
    if access_by_digest(state, token_sha256) is not None:
        raise ValidationFailed.single("token_sha256", "is the digest of an access already given; make a new secret")
    return [
        new_event(
            PartyAccessGranted,
            state,
            at,
            access_id=state.next_access_id,
            party_id=party_id,
            token_sha256=token_sha256,
            expires_at=expires_at,
        )
    ]


def revoke_party_access(
    state: CaseState, *, party_id: str, access_id: str, reason: str, at: datetime
) -> list[CaseEvent]:
    """The access stops working now (also one that already lapsed: revoking says why it must not come back)."""
    at = begin(state, "revoke a party's access to", ANY_STATUS, at)
    access = state.party_access.get(access_id)
    if access is None or access.party_id != party_id:
        raise UnknownItem("access", access_id)
    if access.revoked_at is not None:
        raise InvalidTransition("revoke a party's access to", state.status, f"{access_id} was already revoked")
    return [new_event(PartyAccessRevoked, state, at, access_id=access_id, party_id=party_id, reason=reason)]


def require_access_in_force(state: CaseState, access_id: str, at: datetime) -> PartyAccess:
    """The access, or ``AccessRefused`` when it is unknown or not in force at ``at``."""
    access = state.party_access.get(access_id)
    if access is None:
        raise AccessRefused(access_id, "unknown")
    status = access_status(state, access, require_utc(at))
    if status is not AccessStatus.ACTIVE:
        raise AccessRefused(access_id, status.value)
    return access


def answer_invitation(
    state: CaseState, *, access_id: str, meeting_id: str, rsvp: Rsvp, at: datetime
) -> list[CaseEvent]:
    """The party of ``access_id`` answers their own invitation to ``meeting_id`` (as ``record_rsvp``)."""
    access = require_access_in_force(state, access_id, at)
    return record_rsvp(state, meeting_id=meeting_id, party_id=access.party_id, rsvp=rsvp, at=at)
