"""A party's own access to their case: granted for a while, revoked, lapsing when the party leaves or long after the
case ended; and a party answering their own invitation through it."""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from mediation.domain import (
    LONGEST_GRANT,
    READABLE_AFTER_END,
    AccessRefused,
    AccessStatus,
    InvalidTransition,
    NotAParty,
    PartyAccessGranted,
    PartyAccessRevoked,
    Route,
    Rsvp,
    RsvpRecorded,
    UnknownItem,
    ValidationFailed,
    access_by_digest,
    access_ends_at,
    access_status,
    answer_invitation,
    decline,
    grant_party_access,
    invite_parties,
    remove_party,
    revoke_party_access,
    schedule_meeting,
)

DAY = timedelta(days=1)
Desk = Any


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _grant(d: Desk, party_id: str = "party-4", secret: str = "secret-1", days: int = 90) -> PartyAccessGranted:
    [granted] = d.do(grant_party_access, party_id=party_id, token_sha256=digest(secret), expires_at=d.now + days * DAY)
    assert isinstance(granted, PartyAccessGranted)
    return granted


def test_a_party_is_given_access_under_the_next_id_and_only_the_digest_is_kept(desk: Callable[..., Desk]) -> None:
    d = desk()
    first = _grant(d)
    second = _grant(d, party_id="party-1", secret="secret-2", days=30)
    assert (first.access_id, second.access_id) == ("access-1", "access-2")
    assert first.token_sha256 == digest("secret-1") and "secret-1" not in first.model_dump_json()
    access = d.state.party_access["access-1"]
    assert (access.party_id, access.granted_at, access.expires_at) == ("party-4", d.now, d.now + 90 * DAY)
    assert access_by_digest(d.state, digest("secret-2")) == d.state.party_access["access-2"]
    assert access_by_digest(d.state, digest("not given")) is None
    assert access_status(d.state, access, d.now) is AccessStatus.ACTIVE


def test_an_access_works_until_it_expires(desk: Callable[..., Desk]) -> None:
    d = desk()
    _grant(d, days=10)
    access = d.state.party_access["access-1"]
    assert access_status(d.state, access, d.now + 10 * DAY - timedelta(seconds=1)) is AccessStatus.ACTIVE
    assert access_status(d.state, access, d.now + 10 * DAY) is AccessStatus.EXPIRED


def test_an_access_is_granted_for_a_while_not_forever(desk: Callable[..., Desk]) -> None:
    d = desk()
    for expires_at, field in (
        (d.now, "expires_at"),
        (d.now + LONGEST_GRANT + timedelta(seconds=1), "expires_at"),
        (d.now.replace(tzinfo=None) + DAY, "expires_at"),
    ):
        with pytest.raises(ValidationFailed, match=field):
            grant_party_access(d.state, party_id="party-1", token_sha256=digest("s"), expires_at=expires_at, at=d.now)
    assert grant_party_access(
        d.state, party_id="party-1", token_sha256=digest("s"), expires_at=d.now + LONGEST_GRANT, at=d.now
    )


def test_only_a_party_of_the_case_gets_access_and_a_digest_counts_once(desk: Callable[..., Desk]) -> None:
    d = desk()
    with pytest.raises(NotAParty):
        _grant(d, party_id="party-9")
    _grant(d)
    with pytest.raises(ValidationFailed, match="token_sha256"):
        _grant(d, party_id="party-1")
    with pytest.raises(ValidationFailed, match="token_sha256"):
        grant_party_access(d.state, party_id="party-1", token_sha256="SECRET", expires_at=d.now + DAY, at=d.now)


def test_a_revoked_access_stops_working_and_is_revoked_once(desk: Callable[..., Desk]) -> None:
    d = desk()
    _grant(d)
    _grant(d, secret="secret-2")
    [revoked] = d.later(hours=1).do(revoke_party_access, party_id="party-4", access_id="access-1", reason="链接外泄")
    assert isinstance(revoked, PartyAccessRevoked)
    access = d.state.party_access["access-1"]
    assert (access.revoked_at, access.revocation_reason) == (d.now, "链接外泄")
    assert access_status(d.state, access, d.now) is AccessStatus.REVOKED
    # The party's other access is untouched.
    assert access_status(d.state, d.state.party_access["access-2"], d.now) is AccessStatus.ACTIVE
    with pytest.raises(InvalidTransition, match="already revoked"):
        revoke_party_access(d.state, party_id="party-4", access_id="access-1", reason="再次", at=d.now)
    for party_id, access_id in (("party-1", "access-2"), ("party-4", "access-9")):
        with pytest.raises(UnknownItem):
            revoke_party_access(d.state, party_id=party_id, access_id=access_id, reason="误", at=d.now)


def test_access_lapses_when_the_party_leaves(desk: Callable[..., Desk]) -> None:
    d = desk()
    _grant(d)
    d.do(remove_party, party_id="party-4", reason="非争议方")
    access = d.state.party_access["access-1"]
    assert access_status(d.state, access, d.now) is AccessStatus.PARTY_REMOVED
    # Revoking it still says why it must not come back.
    d.do(revoke_party_access, party_id="party-4", access_id="access-1", reason="已退出")
    assert access_status(d.state, d.state.party_access["access-1"], d.now) is AccessStatus.REVOKED


def test_access_lasts_a_while_after_the_case_ended_then_lapses(desk: Callable[..., Desk]) -> None:
    d = desk()
    _grant(d, days=365)
    d.later(days=1).do(decline, reason="不属于调解范围", routes_advised=[Route.LITIGATION])
    ended_at = d.now
    access = d.state.party_access["access-1"]
    assert access_ends_at(d.state, access) == ended_at + READABLE_AFTER_END
    assert access_status(d.state, access, ended_at + READABLE_AFTER_END - DAY) is AccessStatus.ACTIVE
    assert access_status(d.state, access, ended_at + READABLE_AFTER_END) is AccessStatus.CASE_ENDED
    # The desk may still hand out access while the ended case can be read, not after.
    d.later(days=80)
    _grant(d, party_id="party-1", secret="secret-2", days=30)
    assert access_ends_at(d.state, d.state.party_access["access-2"]) == ended_at + READABLE_AFTER_END
    d.later(days=10)
    with pytest.raises(InvalidTransition, match="ended more than 90 days ago"):
        _grant(d, party_id="party-1", secret="secret-3")


def test_a_party_answers_their_own_invitation_through_their_access(accepted: Desk) -> None:
    d = accepted
    start = d.now + 2 * DAY
    d.do(schedule_meeting, place="党群服务站", starts_at=start, ends_at=start + DAY / 12, agenda=["欠费"])
    d.do(invite_parties, meeting_id="meeting-1", party_ids=["party-4"])
    _grant(d)
    [answer] = d.do(answer_invitation, access_id="access-1", meeting_id="meeting-1", rsvp=Rsvp.YES)
    assert isinstance(answer, RsvpRecorded) and answer.party_id == "party-4"
    assert d.state.meetings["meeting-1"].rsvps == {"party-4": Rsvp.YES}
    # Another party's access answers only for that party, who was not invited.
    _grant(d, party_id="party-1", secret="secret-2")
    with pytest.raises(InvalidTransition, match="not invited"):
        answer_invitation(d.state, access_id="access-2", meeting_id="meeting-1", rsvp=Rsvp.NO, at=d.now)
    d.do(revoke_party_access, party_id="party-4", access_id="access-1", reason="不再需要")
    with pytest.raises(AccessRefused) as refused:
        answer_invitation(d.state, access_id="access-1", meeting_id="meeting-1", rsvp=Rsvp.NO, at=d.now)
    assert refused.value.why == "revoked"
    with pytest.raises(AccessRefused, match="unknown"):
        answer_invitation(d.state, access_id="access-7", meeting_id="meeting-1", rsvp=Rsvp.NO, at=d.now)
    with pytest.raises(AccessRefused, match="expired"):
        answer_invitation(d.state, access_id="access-2", meeting_id="meeting-1", rsvp=Rsvp.NO, at=d.now + 91 * DAY)
