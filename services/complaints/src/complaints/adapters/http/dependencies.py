"""Shared pieces of the routes: the context, identifiers in paths, role sets and views."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Request

from complaints.adapters.http.schemas import ComplaintView
from complaints.application.context import ComplaintsContext
from complaints.application.queries import is_row_late
from complaints.domain.identifiers import IDENTIFIER_PATTERN
from jinlin.web import Role

ComplaintId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The complaint's id")]
CaseId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A case id")]
PersonRefPath = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A person reference")]

INTAKE_DESK = (Role.INTAKE, Role.HANDLER, Role.SUPERVISOR)
HANDLERS = (Role.HANDLER, Role.SUPERVISOR)
SUPERVISORS = (Role.SUPERVISOR,)
READERS = (Role.INTAKE, Role.HANDLER, Role.SUPERVISOR, Role.AUDITOR, Role.MEDIATOR)
# Who may see a reporter's name and phone: the people who call residents back. Auditors check the trail, not people.
PERSONAL_DATA_READERS = (Role.INTAKE, Role.HANDLER, Role.SUPERVISOR)


def context_of(request: Request) -> ComplaintsContext:
    context: ComplaintsContext = request.app.state.complaints
    return context


def view_of(row: dict[str, Any], now: datetime) -> ComplaintView:
    late = is_row_late(row, now)
    return ComplaintView.model_validate(
        row
        | {
            "paused": row["paused_at"] is not None,
            "overdue": late or (row["deadline_applies"] and row["overdue_marked"]),
        }
    )
