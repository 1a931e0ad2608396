"""The shapes of free text in events: trimmed, never empty where it must say something, bounded."""

from typing import Annotated, Final

from pydantic import StringConstraints

TEXT_MAX: Final = 4000
REASON_MAX: Final = 2000

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX)]
OptionalReason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=REASON_MAX)]
# An organisation's or an official's name, a household's label ("3栋2单元301"), a bank's name.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A reference someone else issued: a bank's transaction reference, a notary's file number, a meter number, a
# document's reference (a notary's file number is Chinese: "(2025)皖滁天证字第0301号"). One line, trimmed, compared
# exactly as trimmed.
Reference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=140, pattern=r"^[^\x00-\x1f\x7f]+$")
]


def same_text(recorded: str, given: object) -> bool:
    """Whether ``given`` (as a caller passed it) is the text recorded, once trimmed as the events trim it."""
    return isinstance(given, str) and given.strip() == recorded
