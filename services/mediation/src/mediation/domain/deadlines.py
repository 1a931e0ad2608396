"""The two clocks of a case: one month to mediate, and 30 days to apply for judicial confirmation.

People's Mediation Law practice: a case is normally finished within one month of acceptance (the parties may agree
to more), and after an agreement takes effect the parties may apply together to a court for judicial confirmation
within 30 days. Both are calendar time counted to the instant; there is no holiday calendar in the domain.

A deadline is late strictly after its instant: something done at 10:00 for a 10:00 deadline is on time.
"""

from datetime import datetime, timedelta
from typing import Final

MEDIATION_PERIOD: Final = timedelta(days=30)
CONFIRMATION_WINDOW: Final = timedelta(days=30)


def mediation_due_at(accepted_at: datetime) -> datetime:
    return accepted_at + MEDIATION_PERIOD


def confirmation_deadline(took_effect_at: datetime) -> datetime:
    return took_effect_at + CONFIRMATION_WINDOW


def is_late(due_at: datetime, now: datetime) -> bool:
    return now > due_at
