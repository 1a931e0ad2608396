"""The errors a complaint command raises when it refuses. Nothing is recorded when one is raised.

The HTTP layer maps them onto problem+json: ``ValidationFailed`` is bad input (422), ``InvalidTransition`` is a
command that the complaint's current state does not allow (409). Messages never repeat the input values, because
those may be a resident's personal data.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field (dotted path) and why."""

    field: str
    message: str


class DomainError(Exception):
    """A command was refused by a rule of the domain."""


class ValidationFailed(DomainError):
    """The input itself is wrong, whatever state the complaint is in. Lists every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationFailed":
        return cls([Problem(field, message)])


class UnknownCategory(ValidationFailed):
    """The category code is not in the catalogue, or the category is retired."""


class InvalidTransition(DomainError):
    """The command is not allowed in the complaint's current state (e.g. resolving a withdrawn complaint)."""

    def __init__(self, command: str, status: str, reason: str = "") -> None:
        self.command = command
        self.status = status
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"cannot {command} a complaint that is {status}{detail}")


class HistoryError(RuntimeError):
    """The stored events cannot be folded into a complaint (a bug or a damaged store, never a user's mistake).

    Deliberately not a ``DomainError``: it must surface as a server error, not as a 4xx.
    """
