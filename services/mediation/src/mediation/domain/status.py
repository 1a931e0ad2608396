"""Where a case is in its life.

::

    opened ──accept──▶ accepted ──(every party signs)──▶ agreement_in_effect ──close──▶ closed
      │                   │
      decline             end_without_agreement
      ▼                   ▼
    declined          ended_without_agreement      (a new referral from the complaints desk reopens either)
"""

from enum import StrEnum
from typing import Final


class CaseStatus(StrEnum):
    OPENED = "opened"  # referred or applied for; awaiting acceptance (受理)
    ACCEPTED = "accepted"  # being mediated: meetings, an agreement being drafted and signed; the month runs
    DECLINED = "declined"  # not accepted (不予受理), with a reason and the routes advised
    AGREEMENT_IN_EFFECT = "agreement_in_effect"  # every named party signed; its obligations are being carried out
    CLOSED = "closed"  # every obligation was fulfilled or waived
    ENDED_WITHOUT_AGREEMENT = "ended_without_agreement"  # mediation failed; parties told their routes


LIVE: Final = frozenset({CaseStatus.OPENED, CaseStatus.ACCEPTED, CaseStatus.AGREEMENT_IN_EFFECT})
ENDED: Final = frozenset(CaseStatus) - LIVE
# An agreement took effect in these; what concerns the agreement itself (the court's answer, public posting,
# follow-up visits) can still be recorded after the case closed.
AGREED: Final = frozenset({CaseStatus.AGREEMENT_IN_EFFECT, CaseStatus.CLOSED})
# Ended without an agreement in effect: a new referral of the same case starts a new round of mediation.
REOPENABLE: Final = frozenset({CaseStatus.DECLINED, CaseStatus.ENDED_WITHOUT_AGREEMENT})
