"""The errors a case command raises when it refuses. Nothing is recorded when one is raised.

How the HTTP layer is meant to map them onto problem+json:

====================  ====  ==========================================================================================
error                 HTTP  meaning
====================  ====  ==========================================================================================
ValidationFailed      422   the input is wrong in itself, whatever state the case is in (lists every problem found)
UnknownItem           404   the command names a meeting, term or agreement the case does not have
InvalidTransition     409   the case's current state does not allow the command; its subclasses name the rules of
                            mediation that refuse most often, so callers and tests can tell them apart
AccessRefused         401   a party acted through an access that is no longer in force (revoked, expired...)
====================  ====  ==========================================================================================

Messages never repeat input values, because those may be a resident's personal data.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field (dotted path) and why."""

    field: str
    message: str


class DomainError(Exception):
    """A command was refused by a rule of the domain."""


class ValidationFailed(DomainError):
    """The input itself is wrong. Lists every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationFailed":
        return cls([Problem(field, message)])


class UnknownItem(DomainError):
    """The case has no meeting, term or agreement by that id."""

    def __init__(self, kind: str, item_id: str) -> None:
        self.kind = kind
        self.item_id = item_id
        super().__init__(f"the case has no {kind} {item_id}")


class InvalidTransition(DomainError):
    """The command is not allowed in the case's current state (e.g. scheduling a meeting for a declined case)."""

    def __init__(self, command: str, status: str, reason: str = "") -> None:
        self.command = command
        self.status = status
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"cannot {command} a case that is {status}{detail}")


class NotAParty(InvalidTransition):
    """Someone who is not a party (of the case, or of the agreement for a signature) was named as one."""

    def __init__(self, command: str, status: str, party_id: str, of: str = "the case") -> None:
        self.party_id = party_id
        super().__init__(command, status, f"{party_id} is not a party of {of}")


class AlreadySigned(InvalidTransition):
    """The party already signed this agreement; a signature counts once."""


class AgreementAlreadySigned(InvalidTransition):
    """The agreement cannot be amended: someone signed its text. Discard it and draft a new one instead."""


class ObligationAlreadySettled(InvalidTransition):
    """The obligation was already fulfilled or waived; it cannot be fulfilled (or waived) again."""


class ObligationsOutstanding(InvalidTransition):
    """The case cannot close while some obligations are neither fulfilled nor waived."""

    def __init__(self, command: str, status: str, term_ids: Iterable[str]) -> None:
        self.term_ids = tuple(term_ids)
        super().__init__(command, status, f"obligations not settled: {', '.join(self.term_ids)}")


class ConfirmationWindowClosed(InvalidTransition):
    """Judicial confirmation (司法确认) may be applied for only within 30 days of the agreement taking effect."""


class EventDoesNotFulfil(InvalidTransition):
    """Another service's event was offered as fulfilling a term that does not name it (or whose fields differ)."""


class AccessRefused(DomainError):
    """A party acted through their access, and it is not in force: ``why`` is its status (revoked, expired, ...)."""

    def __init__(self, access_id: str, why: str) -> None:
        self.access_id = access_id
        self.why = why
        super().__init__(f"access {access_id} is not in force: {why}")


class HistoryError(RuntimeError):
    """The stored events cannot be folded into a case (a bug or a damaged store, never a user's mistake).

    Deliberately not a ``DomainError``: it must surface as a server error, not as a 4xx.
    """
