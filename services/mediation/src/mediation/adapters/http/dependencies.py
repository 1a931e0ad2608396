"""Shared pieces of the routes: the context, identifiers in paths, and who may do what.

Roles: mediators and supervisors run the commands (only a supervisor assigns or hands over a case's mediator);
auditors read everything and change nothing. A resident's name is opened only for mediators and supervisors.
Parties read their own case with a party token (``party_auth``); on the desk's routes a party token is refused with
a ``403`` that says where it belongs, rather than a bare "unknown credentials".
"""

from typing import Annotated, Final

from fastapi import Depends, Path, Request

from jinlin.web import Problem, Role, Staff, StaffDirectory, require_roles
from jinlin.web.staff import StaffDependency
from mediation.application.context import MediationContext
from mediation.application.party_tokens import looks_like_party_token
from mediation.domain.identifiers import IDENTIFIER_PATTERN

CaseId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="The case's id")]
MeetingId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A meeting of the case")]
TermId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A term of the agreement")]
PartyId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A party of the case")]
AccessId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, max_length=100, description="A party's access")]

MEDIATORS: Final = (Role.MEDIATOR, Role.SUPERVISOR)
SUPERVISORS: Final = (Role.SUPERVISOR,)
READERS: Final = (Role.MEDIATOR, Role.SUPERVISOR, Role.AUDITOR)
# Who may read a resident's name: the people who mediate. Auditors check the trail, not people.
PERSONAL_DATA_READERS: Final = (Role.MEDIATOR, Role.SUPERVISOR)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def is_staff_token(request: Request, token: str) -> bool:
    directory: StaffDirectory | None = getattr(request.app.state, "staff_directory", None)
    return directory is not None and directory.identify(token) is not None


async def refuse_party_tokens(request: Request) -> None:
    token = bearer_token(request)
    if token is not None and looks_like_party_token(token) and not is_staff_token(request, token):
        raise Problem(
            403,
            "Staff only",
            "A party's access token reads that party's own case at /party/case; the desk's routes are for staff.",
            slug="party-token-on-staff-route",
        )


def staff_with(*roles: Role) -> StaffDependency:
    """As ``require_roles``, after refusing a party's token (dependencies run in the order they are declared)."""
    with_role = require_roles(*roles)

    async def staff(
        _not_a_party: Annotated[None, Depends(refuse_party_tokens)], staff: Annotated[Staff, Depends(with_role)]
    ) -> Staff:
        return staff

    return staff


Desk = Annotated[Staff, Depends(staff_with(*MEDIATORS))]
"""A mediator or a supervisor: who runs the desk's commands."""
Supervisor = Annotated[Staff, Depends(staff_with(*SUPERVISORS))]
Reader = Annotated[Staff, Depends(staff_with(*READERS))]


def context_of(request: Request) -> MediationContext:
    context: MediationContext = request.app.state.mediation
    return context


def may_read_names(staff: Staff) -> bool:
    return staff.has_any(PERSONAL_DATA_READERS)
