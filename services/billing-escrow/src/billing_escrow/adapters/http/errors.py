"""Domain refusals as problem+json answers: bad input 422; a command the state does not allow, money that is not
there, a four-eyes breach or an id used for something else 409; something the aggregate does not hold 404.
A ``HistoryError`` (a damaged store or a bug) is deliberately left to the server-error handler: a 500."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from billing_escrow.domain import (
    DomainError,
    FourEyesViolation,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from jinlin.web import Problem


def problem_of(error: DomainError) -> Problem:
    match error:
        case ValidationFailed():
            return Problem(
                422,
                "Invalid escrow data",
                "Nothing was done. " + "; ".join(f"{p.field}: {p.message}" for p in error.problems),
                slug="invalid-escrow-data",
                # The shape of ProblemDetails.errors; the rule broken is the domain's, about the command's input.
                errors=[
                    {"location": "body", "field": p.field, "message": p.message, "type": "domain_rule"}
                    for p in error.problems
                ],
            )
        case InsufficientFunds():
            return Problem(
                409,
                "Insufficient funds",
                f"Nothing was done: {error}.",
                slug="insufficient-funds",
                ledger_account=error.ledger_account,
                needed_fen=error.needed,
                available_fen=error.available,
            )
        case InvalidTransition():
            return Problem(
                409,
                "Not allowed now",
                f"Nothing was done: {error}.",
                slug="invalid-transition",
                command=error.command,
                status_now=error.status,
            )
        case FourEyesViolation():
            return Problem(409, "Four-eyes rule", f"Nothing was done: {error}.", slug="four-eyes")
        case IdempotencyConflict():
            return Problem(
                409,
                "Id already used",
                f"Nothing was done: {error}.",
                slug="id-already-used",
                kind=error.kind,
                key=error.key,
            )
        case NotFound():
            return Problem(404, "Not found", f"There is {error}.", slug="not-found", kind=error.kind, key=error.key)
        case _:
            return Problem(409, "Refused", f"Nothing was done: {error}.", slug="refused")


def install_domain_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_of(exc).to_response()

    app.add_exception_handler(DomainError, on_domain_error)
