"""Domain refusals as problem+json answers: bad input 422, an unknown case or item 404, a command the case's state
does not allow 409 (with a type per rule of mediation, so clients can tell them apart), a party's access no longer in
force 401."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from jinlin.web import Problem
from mediation.adapters.http.party_auth import refused
from mediation.application.changes import CaseNotFound
from mediation.domain import (
    AccessRefused,
    AgreementAlreadySigned,
    AlreadySigned,
    ConfirmationWindowClosed,
    EventDoesNotFulfil,
    InvalidTransition,
    NotAParty,
    ObligationAlreadySettled,
    ObligationsOutstanding,
    UnknownItem,
    ValidationFailed,
)

# The most specific class first.
TRANSITION_SLUGS: tuple[tuple[type[InvalidTransition], str], ...] = (
    (NotAParty, "not-a-party"),
    (AlreadySigned, "already-signed"),
    (AgreementAlreadySigned, "agreement-already-signed"),
    (ObligationAlreadySettled, "obligation-already-settled"),
    (ObligationsOutstanding, "obligations-outstanding"),
    (ConfirmationWindowClosed, "confirmation-window-closed"),
    (EventDoesNotFulfil, "event-does-not-fulfil"),
)


def validation_problem(error: ValidationFailed) -> Problem:
    return Problem(
        422,
        "Invalid case data",
        "Nothing was done. " + "; ".join(f"{p.field}: {p.message}" for p in error.problems),
        slug="invalid-case-data",
        errors=[
            {"location": "body", "field": p.field, "message": p.message, "type": "invalid_case_data"}
            for p in error.problems
        ],
    )


def transition_problem(error: InvalidTransition) -> Problem:
    slug = next((slug for kind, slug in TRANSITION_SLUGS if isinstance(error, kind)), "invalid-transition")
    extensions: dict[str, Any] = {"command": error.command, "status_now": error.status}
    if isinstance(error, ObligationsOutstanding):
        extensions["term_ids"] = list(error.term_ids)
    if isinstance(error, NotAParty):
        extensions["party_id"] = error.party_id
    return Problem(409, "Not allowed now", f"Nothing was done: {error}.", slug=slug, **extensions)


def unknown_item_problem(error: UnknownItem) -> Problem:
    return Problem(
        404,
        f"No such {error.kind}",
        f"The case has no {error.kind} {error.item_id}.",
        slug=f"unknown-{error.kind}",
        kind=error.kind,
        item_id=error.item_id,
    )


def case_not_found_problem(case_id: str) -> Problem:
    return Problem(404, "No such case", f"There is no mediation case {case_id}.", slug="case-not-found")


def install_domain_error_handlers(app: FastAPI) -> None:
    async def on_access_refused(_request: Request, exc: Exception) -> JSONResponse:
        # Raised when a party's command finds their access gone (revoked since they signed in).
        assert isinstance(exc, AccessRefused)
        return refused(exc).to_response()

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ValidationFailed)
        return validation_problem(exc).to_response()

    async def on_transition(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InvalidTransition)
        return transition_problem(exc).to_response()

    async def on_unknown_item(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, UnknownItem)
        return unknown_item_problem(exc).to_response()

    async def on_case_not_found(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CaseNotFound)
        return case_not_found_problem(exc.case_id).to_response()

    app.add_exception_handler(ValidationFailed, on_validation)
    app.add_exception_handler(InvalidTransition, on_transition)
    app.add_exception_handler(UnknownItem, on_unknown_item)
    app.add_exception_handler(CaseNotFound, on_case_not_found)
    app.add_exception_handler(AccessRefused, on_access_refused)
