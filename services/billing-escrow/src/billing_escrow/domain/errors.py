"""The errors a billing-escrow command raises when it refuses. Nothing is recorded when one is raised.

The HTTP layer maps them onto problem+json: ``ValidationFailed`` is bad input (422); ``InvalidTransition``,
``InsufficientFunds``, ``FourEyesViolation`` and ``IdempotencyConflict`` are refusals by the state of the aggregate
(409); ``NotFound`` names something the aggregate does not hold (404).
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
    """The input itself is wrong, whatever state the aggregate is in. Lists every problem found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationFailed":
        return cls([Problem(field, message)])


class InvalidTransition(DomainError):
    """The command is not allowed in the aggregate's current state (e.g. a payment into a closed account)."""

    def __init__(self, command: str, status: str, reason: str = "") -> None:
        self.command = command
        self.status = status
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"cannot {command} when {status}{detail}")


class InsufficientFunds(DomainError):
    """The movement would take a ledger account below zero: escrow never pays out (or reverses) more than it holds.

    ``ledger_account`` is the account that would be overdrawn (``escrow_bank``, ``household:<id>``,
    ``reserved:<id>``, or ``available`` for the account as a whole); ``available`` is what it holds (at the tightest
    booking date), ``needed`` what the movement asked of it.
    """

    def __init__(self, ledger_account: str, needed: int, available: int) -> None:
        self.ledger_account = ledger_account
        self.needed = needed
        self.available = available
        super().__init__(f"{ledger_account} holds {available} fen, the movement needs {needed} fen")


class FourEyesViolation(DomainError):
    """A co-signature by the person who requested the disbursement, or a second signature by the same person."""


class IdempotencyConflict(DomainError):
    """An id (movement, disbursement, payment reference, bill, statement) was used again for something different.

    The same command retried with the same id and the same content records nothing and raises nothing; only a
    *different* content under a used id is refused.
    """

    def __init__(self, kind: str, key: str, reason: str = "was already used for something different") -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key} {reason}")


class NotFound(DomainError):
    """The command names something (a disbursement, a movement, a household, a bill) the aggregate does not hold."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")


class HistoryError(RuntimeError):
    """Stored events cannot be folded into an aggregate (a bug or a damaged store, never a user's mistake).

    Deliberately not a ``DomainError``: it must surface as a server error, not as a 4xx.
    """
