"""Who is calling: staff identified by a bearer token, and the roles an endpoint requires.

This is the seam where real sign-in plugs in. Today a :class:`StaffDirectory` maps configured bearer tokens to
:class:`Staff`; the staff console (or ``curl``) calls with ``Authorization: Bearer <token>``. Replacing it with
OIDC or signed session tokens means replacing :func:`current_staff` only: endpoints depend on
:func:`require_roles`, which depends on it.

Tokens are configured as JSON, inline in ``JINLIN_STAFF_TOKENS`` or in the file named by
``JINLIN_STAFF_TOKENS_FILE``::

    [
      {"token": "dev-intake-token", "id": "alice", "roles": ["intake"]},
      {"token_sha256": "9f86d081...", "id": "bob", "roles": ["handler", "supervisor"]}
    ]

``token_sha256`` (the hex SHA-256 of the token) keeps the secret itself out of the file. The directory is given
to :func:`jinlin.web.app.create_service_app` (``staff=``), which keeps it in ``app.state.staff_directory``;
without one every protected endpoint answers ``401`` (fail closed).

Roles: intake, handler, mediator, finance, supervisor, notary (reads statements, co-signs payments out) and
auditor (reads everything, changes nothing; never give it to a command endpoint).
"""

import hashlib
import os
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from jinlin.web.problems import Problem

STAFF_TOKENS_ENV = "JINLIN_STAFF_TOKENS"
STAFF_TOKENS_FILE_ENV = "JINLIN_STAFF_TOKENS_FILE"


class Role(StrEnum):
    INTAKE = "intake"
    HANDLER = "handler"
    MEDIATOR = "mediator"
    FINANCE = "finance"
    SUPERVISOR = "supervisor"
    NOTARY = "notary"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Staff:
    id: str
    roles: frozenset[Role]

    @property
    def actor(self) -> str:
        """How events record this person as their ``actor``."""
        return f"staff:{self.id}"

    def has_any(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)


class StaffEntry(BaseModel):
    """One configured credential."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Short and token-like: the id goes into event actors and idempotency keys.
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    roles: list[Role] = Field(min_length=1)
    token: str | None = Field(default=None, min_length=16)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _exactly_one_secret(self) -> "StaffEntry":
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give either token or token_sha256")
        return self

    @property
    def digest(self) -> str:
        return self.token_sha256 or _digest(self.token or "")


_ENTRIES = TypeAdapter(list[StaffEntry])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffDirectory:
    """Bearer token → :class:`Staff`. Only token digests are kept in memory."""

    def __init__(self, entries: Iterable[StaffEntry]) -> None:
        self._by_digest: dict[str, Staff] = {}
        for entry in entries:
            if entry.digest in self._by_digest:
                raise ValueError(f"staff {entry.id!r} has the same token as another entry")
            self._by_digest[entry.digest] = Staff(entry.id, frozenset(entry.roles))

    @classmethod
    def from_json(cls, text: str | bytes) -> "StaffDirectory":
        return cls(_ENTRIES.validate_json(text))

    @classmethod
    def from_file(cls, path: str | Path) -> "StaffDirectory":
        return cls.from_json(Path(path).read_bytes())

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "StaffDirectory | None":
        """The directory configured by ``JINLIN_STAFF_TOKENS(_FILE)``, or ``None`` when neither is set."""
        environ = os.environ if environ is None else environ
        if path := environ.get(STAFF_TOKENS_FILE_ENV):
            return cls.from_file(path)
        if inline := environ.get(STAFF_TOKENS_ENV):
            return cls.from_json(inline)
        return None

    def identify(self, token: str) -> Staff | None:
        # Looked up by SHA-256 digest: a caller cannot steer the digest, so lookup timing tells nothing useful.
        return self._by_digest.get(_digest(token))


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="StaffToken",
    description="A staff member's bearer token (see jinlin.web.staff).",
)


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="jinlin"' + (f', error="{error}"' if error else "")
    return {"WWW-Authenticate": value}


async def current_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    """The signed-in staff member, or a ``401`` problem."""
    if credentials is None:
        raise Problem(
            401,
            "Sign-in required",
            "Send the staff member's token as 'Authorization: Bearer <token>'.",
            slug="unauthenticated",
            headers=_challenge(),
        )
    directory: StaffDirectory | None = getattr(request.app.state, "staff_directory", None)
    staff = directory.identify(credentials.credentials) if directory is not None else None
    if staff is None:
        raise Problem(
            401,
            "Unknown credentials",
            "The bearer token is not one this service knows.",
            slug="invalid-credentials",
            headers=_challenge("invalid_token"),
        )
    return staff


StaffDependency = Callable[..., Coroutine[Any, Any, Staff]]


def require_roles(*roles: Role | str) -> StaffDependency:
    """A dependency returning the caller when they hold at least one of ``roles``, else a ``403`` problem.

    With no roles, any signed-in staff member passes. Unknown role names fail at import time, not at request.
    """
    wanted = frozenset(Role(role) for role in roles)

    async def staff_with_role(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if wanted and not staff.has_any(wanted):
            needed = sorted(wanted)
            raise Problem(
                403,
                "Role required",
                f"This needs one of the roles {', '.join(needed)}; {staff.id} has {', '.join(sorted(staff.roles))}.",
                slug="role-required",
                required_roles=needed,
            )
        return staff

    return staff_with_role
