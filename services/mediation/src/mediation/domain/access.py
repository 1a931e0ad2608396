"""A party's own access to their case (当事人查阅): what the desk granted, and how long it lasts.

The desk hands a party a secret (a token, or a link carrying it) with which the party reads their own case and answers
their own invitations, nothing else. The case records only the SHA-256 of that secret, made and hashed outside the
domain: a digest published on NATS or kept in the store opens nothing.

An access is in force until the earliest of: its own expiry, its revocation, its party leaving the case, and
``READABLE_AFTER_END`` after the case ended (closed, declined or ended without agreement). That is long enough to
apply for judicial confirmation (30 days) or to take the routes the mediator advised, with the papers at hand; after
it, the party asks the committee, as for any closed file.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

LONGEST_GRANT: Final = timedelta(days=365)
"""No access is granted for longer: a secret that lives for years is a secret that leaks."""
READABLE_AFTER_END: Final = timedelta(days=90)


class AccessStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    PARTY_REMOVED = "party_removed"  # the party left the case
    CASE_ENDED = "case_ended"  # the case ended more than READABLE_AFTER_END ago


@dataclass(frozen=True)
class PartyAccess:
    access_id: str
    party_id: str
    token_sha256: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def ends_at(self, case_ended_at: datetime | None) -> datetime:
        """When it stops working unless revoked first: its expiry, or earlier when the case ended."""
        if case_ended_at is None:
            return self.expires_at
        return min(self.expires_at, case_ended_at + READABLE_AFTER_END)

    def status_at(self, now: datetime, *, still_a_party: bool, case_ended_at: datetime | None) -> AccessStatus:
        if self.revoked_at is not None:
            return AccessStatus.REVOKED
        if not still_a_party:
            return AccessStatus.PARTY_REMOVED
        if now < self.ends_at(case_ended_at):
            return AccessStatus.ACTIVE
        return AccessStatus.EXPIRED if now >= self.expires_at else AccessStatus.CASE_ENDED
