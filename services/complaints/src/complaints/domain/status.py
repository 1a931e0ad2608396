"""Where a complaint is in its life, and how that reads to the outside world (Open311 ``open``/``closed``)."""

from enum import StrEnum
from typing import Final


class Status(StrEnum):
    FILED = "filed"  # received at intake, nobody has accepted it yet
    ACKNOWLEDGED = "acknowledged"  # accepted by the desk (受理), not yet dispatched
    ASSIGNED = "assigned"  # with a handler, a team, the property company or a utility
    AWAITING_INFORMATION = "awaiting_information"  # the resident was asked something; the deadline clock is paused
    ESCALATED = "escalated"  # taken to mediation; the mediation service holds it until agreement or return
    RESOLVED = "resolved"  # the handler says it is done; the call-back (回访) is pending
    RESOLVED_BY_AGREEMENT = "resolved_by_agreement"  # a mediation agreement was signed; the call-back is pending
    CLOSED = "closed"  # the call-back confirmed it is done (or no longer needed, or not ours)
    WITHDRAWN = "withdrawn"  # the resident withdrew it
    DUPLICATE = "duplicate"  # the same matter as another complaint, which carries it on


class Open311Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


# Nothing can happen to a complaint in these any more: a new problem is a new complaint.
TERMINAL: Final = frozenset({Status.CLOSED, Status.WITHDRAWN, Status.DUPLICATE})

# The handling deadline binds in these. In AWAITING_INFORMATION it binds but its clock stands still.
DEADLINE_APPLIES: Final = frozenset(
    {Status.FILED, Status.ACKNOWLEDGED, Status.ASSIGNED, Status.AWAITING_INFORMATION, Status.ESCALATED}
)

CALL_BACK_PENDING: Final = frozenset({Status.RESOLVED, Status.RESOLVED_BY_AGREEMENT})

# GeoReport v2 defines "closed" as "it has been resolved". A resolved complaint awaiting its call-back is resolved
# from the resident's point of view, so it reads as closed; if the call-back reopens it, it reads as open again.
# The center's own closure (Status.CLOSED) is a stricter notion and is reported separately.
_OPEN311: Final = {
    status: Open311Status.CLOSED if status in TERMINAL | CALL_BACK_PENDING else Open311Status.OPEN for status in Status
}


def open311_status(status: Status) -> Open311Status:
    return _OPEN311[status]
