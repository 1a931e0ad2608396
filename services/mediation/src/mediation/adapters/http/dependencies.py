"""Shared pieces of the routes: the context, identifiers in paths, and who may do what.

Roles: mediators and supervisors run the commands (only a supervisor assigns or hands over a case's mediator);
auditors read everything and change nothing. A resident's name is opened only for mediators and supervisors.
Parties themselves have no sign-in here: the staff directory knows staff only (see the README of docs/events).
"""

from typing import Annotated, Final

from fastapi import Depends, Path, Request

from jinlin.web import Role, Staff, require_roles
from mediation.application.context import MediationContext
from mediation.domain.identifiers import IDENTIFIER_PATTERN

CaseId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The case's id")]
MeetingId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A meeting of the case")]
TermId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A term of the agreement")]
PartyId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A party of the case")]

MEDIATORS: Final = (Role.MEDIATOR, Role.SUPERVISOR)
SUPERVISORS: Final = (Role.SUPERVISOR,)
READERS: Final = (Role.MEDIATOR, Role.SUPERVISOR, Role.AUDITOR)
# Who may read a resident's name: the people who mediate. Auditors check the trail, not people.
PERSONAL_DATA_READERS: Final = (Role.MEDIATOR, Role.SUPERVISOR)

Desk = Annotated[Staff, Depends(require_roles(*MEDIATORS))]
"""A mediator or a supervisor: who runs the desk's commands."""
Supervisor = Annotated[Staff, Depends(require_roles(*SUPERVISORS))]
Reader = Annotated[Staff, Depends(require_roles(*READERS))]


def context_of(request: Request) -> MediationContext:
    context: MediationContext = request.app.state.mediation
    return context


def may_read_names(staff: Staff) -> bool:
    return staff.has_any(PERSONAL_DATA_READERS)
