"""Who sees which screen and who may do which action: the one table the pages, the menus and the forms consult.

Actions mirror what the services themselves allow (the complaints API's desk, handler and supervisor roles; the
escrow co-signers), so the console never offers a button the service would refuse. The auditor reads everything
and changes nothing.
"""

from enum import StrEnum
from typing import Final

from jinlin.web.staff import Role


class Screen(StrEnum):
    DASHBOARD = "dashboard"
    FEED = "feed"
    COMPLAINTS = "complaints"
    MEDIATION = "mediation"
    ESCROW = "escrow"
    SIGNATURES = "signatures"
    HANDOVER = "handover"
    TIMELINE = "timeline"
    EVIDENCE = "evidence"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    NOTE = "note"
    RESOLVE = "resolve"
    CALL_BACK = "call-back"
    SIGN = "sign"


ALL_ROLES: Final = frozenset(Role)

SERVICE_READERS: Final[dict[str, frozenset[Role]]] = {
    "complaints": frozenset({Role.INTAKE, Role.HANDLER, Role.SUPERVISOR, Role.MEDIATOR, Role.AUDITOR}),
    "mediation": frozenset({Role.MEDIATOR, Role.HANDLER, Role.SUPERVISOR, Role.AUDITOR}),
    "escrow": frozenset({Role.FINANCE, Role.NOTARY, Role.SUPERVISOR, Role.AUDITOR, Role.MEDIATOR}),
}
"""Whose feed, dashboard and timeline show a service's events (by the service's token)."""

SCREEN_ROLES: Final[dict[Screen, frozenset[Role]]] = {
    Screen.DASHBOARD: ALL_ROLES,
    Screen.FEED: ALL_ROLES,
    Screen.COMPLAINTS: SERVICE_READERS["complaints"],
    Screen.MEDIATION: SERVICE_READERS["mediation"],
    Screen.ESCROW: frozenset({Role.FINANCE, Role.NOTARY, Role.SUPERVISOR, Role.AUDITOR}),
    Screen.SIGNATURES: frozenset({Role.FINANCE, Role.NOTARY}),
    Screen.HANDOVER: frozenset({Role.FINANCE, Role.NOTARY, Role.SUPERVISOR, Role.AUDITOR, Role.MEDIATOR, Role.HANDLER}),
    Screen.TIMELINE: ALL_ROLES,
    Screen.EVIDENCE: frozenset({Role.AUDITOR, Role.SUPERVISOR, Role.NOTARY, Role.MEDIATOR}),
}

ACTION_ROLES: Final[dict[Action, frozenset[Role]]] = {
    Action.ACKNOWLEDGE: frozenset({Role.INTAKE, Role.HANDLER, Role.SUPERVISOR}),
    Action.NOTE: frozenset({Role.INTAKE, Role.HANDLER, Role.SUPERVISOR}),
    Action.CALL_BACK: frozenset({Role.INTAKE, Role.HANDLER, Role.SUPERVISOR}),
    Action.ASSIGN: frozenset({Role.HANDLER, Role.SUPERVISOR}),
    Action.RESOLVE: frozenset({Role.HANDLER, Role.SUPERVISOR}),
    Action.SIGN: frozenset({Role.FINANCE, Role.NOTARY}),
}

SIGNER_ROLE_OF: Final[dict[Role, str]] = {Role.FINANCE: "center_finance", Role.NOTARY: "notary"}
"""The escrow co-signing role (``SignerRole``) a console role signs in."""


def may_see(roles: frozenset[Role], screen: Screen) -> bool:
    return not roles.isdisjoint(SCREEN_ROLES[screen])


def may_do(roles: frozenset[Role], action: Action) -> bool:
    return not roles.isdisjoint(ACTION_ROLES[action])


def readable_services(roles: frozenset[Role]) -> frozenset[str]:
    return frozenset(service for service, readers in SERVICE_READERS.items() if not roles.isdisjoint(readers))


def signer_roles(roles: frozenset[Role]) -> frozenset[str]:
    return frozenset(SIGNER_ROLE_OF[role] for role in roles if role in SIGNER_ROLE_OF)
