"""Domain refusals as problem+json answers: bad input 422, a command the state does not allow 409, unknown 404."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from complaints.application.changes import ComplaintNotFound
from complaints.domain import InvalidTransition, ValidationFailed
from jinlin.web import Problem


def validation_problem(error: ValidationFailed) -> Problem:
    return Problem(
        422,
        "Invalid complaint data",
        "; ".join(f"{p.field}: {p.message}" for p in error.problems),
        slug="invalid-complaint",
        errors=[
            {"location": "body", "field": p.field, "message": p.message, "type": "invalid_complaint"}
            for p in error.problems
        ],
    )


def transition_problem(error: InvalidTransition) -> Problem:
    return Problem(
        409,
        "Not allowed now",
        str(error),
        slug="invalid-transition",
        command=error.command,
        status_now=error.status,
    )


def not_found_problem(error: ComplaintNotFound) -> Problem:
    return Problem(404, "No such complaint", f"There is no complaint {error.complaint_id}.", slug="complaint-not-found")


def install_domain_error_handlers(app: FastAPI) -> None:
    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ValidationFailed)
        return validation_problem(exc).to_response()

    async def on_transition(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InvalidTransition)
        return transition_problem(exc).to_response()

    async def on_not_found(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ComplaintNotFound)
        return not_found_problem(exc).to_response()

    app.add_exception_handler(ValidationFailed, on_validation)
    app.add_exception_handler(InvalidTransition, on_transition)
    app.add_exception_handler(ComplaintNotFound, on_not_found)
