"""The call-back (回访): after resolution the desk asks the resident whether the problem is really solved.

Its outcome decides what happens next, and it is what the real resolution rate is computed from (not the closure
rate, which counts what the handlers say they did).
"""

from enum import StrEnum
from typing import Final


class CallBackOutcome(StrEnum):
    FIXED = "fixed"
    PARTLY_FIXED = "partly_fixed"
    NOT_FIXED = "not_fixed"
    NO_LONGER_NEEDED = "no_longer_needed"
    NOT_OUR_RESPONSIBILITY = "not_our_responsibility"


# These end the complaint; the others send it back to the handler with a fresh deadline.
CLOSING_OUTCOMES: Final = frozenset(
    {CallBackOutcome.FIXED, CallBackOutcome.NO_LONGER_NEEDED, CallBackOutcome.NOT_OUR_RESPONSIBILITY}
)

# Only what the resident confirms fixed counts as really resolved: "no longer needed" means the problem went away
# on its own and "not our responsibility" means someone else must solve it.
REALLY_RESOLVED: Final = frozenset({CallBackOutcome.FIXED})

SATISFACTION_MIN: Final = 1
SATISFACTION_MAX: Final = 5


def closes(outcome: CallBackOutcome) -> bool:
    return outcome in CLOSING_OUTCOMES
