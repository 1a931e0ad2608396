"""Who a party is: the bearer of a party token (``jlp_…``), signed in to one case through one access.

Every refusal is a ``401`` problem with a ``WWW-Authenticate`` challenge, and says what the party can do about it
(ask the mediator for a new link), never which other cases exist: a token for an unknown case, a forged token and a
wrong digest all get the same answer. A staff token on a party's route is a ``403``: staff read cases at
``/cases/{case_id}``.
"""

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jinlin.logging import log_context
from jinlin.web import Problem, Staff
from mediation.adapters.http.dependencies import context_of, is_staff_token
from mediation.application.party_sessions import PartySession, UnknownPartyToken, open_session
from mediation.application.party_tokens import looks_like_party_token
from mediation.domain import AccessRefused

REALM: Final = "jinlin-party"
REFUSED: Final = {
    "revoked": "This access was revoked.",
    "expired": "This access has expired.",
    "party_removed": "The party this access was given to is no longer a party of the case.",
    "case_ended": "The case ended long enough ago that its parties no longer read it here.",
}

_party_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PartyToken",
    description="A party's access token (jlp_…), handed to them by the mediator: reads that party's own case only.",
)


def _challenge(error: str | None = None) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")}


def _unknown() -> Problem:
    return Problem(
        401,
        "Unknown access token",
        "This is not an access token of a mediation case. Ask your mediator for a new link.",
        slug="invalid-party-token",
        headers=_challenge("invalid_token"),
    )


def refused(error: AccessRefused) -> Problem:
    reason = REFUSED.get(error.why, "This access is not in force.")
    return Problem(
        401,
        "Access not in force",
        f"{reason} Ask your mediator for a new link.",
        slug="party-access-not-in-force",
        headers=_challenge("invalid_token"),
        reason=error.why,
    )


async def current_party(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_party_bearer)]
) -> AsyncIterator[PartySession]:
    """The party's session, or a ``401`` (``403`` for a staff token)."""
    if credentials is None:
        raise Problem(
            401,
            "Access token required",
            "Send the access token your mediator gave you as 'Authorization: Bearer jlp_…'.",
            slug="party-token-required",
            headers=_challenge(),
        )
    token = credentials.credentials
    if not looks_like_party_token(token):
        if is_staff_token(request, token):
            raise Problem(
                403,
                "Parties only",
                "These routes show a party their own case; staff read cases at /cases/{case_id}.",
                slug="staff-token-on-party-route",
            )
        raise _unknown()
    context = context_of(request)
    try:
        session = await open_session(context.store, token, context.clock())
    except UnknownPartyToken:
        raise _unknown() from None
    except AccessRefused as error:
        raise refused(error) from None
    # Ids only on the request's log lines: never the token, never a name.
    with log_context(caseid=session.case_id, party_access=session.access.access_id):
        yield session


Party = Annotated[PartySession, Depends(current_party)]


@dataclass(frozen=True)
class PartyActor(Staff):
    """A party acting through their access, as the command kit records who acted.

    ``run_command`` takes the kernel's ``Staff``: its ``id`` scopes idempotency keys, its ``actor`` goes into events.
    A party is neither staff nor holder of any role, so ``roles`` is empty; the actor names the party and the access
    used (``party:party-5/access-2``), so the trail shows who answered and through which link.
    """

    party_id: str = ""
    access_id: str = ""

    @property
    def actor(self) -> str:
        return f"party:{self.party_id}/{self.access_id}"

    @classmethod
    def of(cls, session: PartySession) -> "PartyActor":
        # Idempotency keys are kept beside the caller's id in a 200-character column: a short digest of where the
        # access lives (case ids run to 100 characters) keeps every key unique per access and within the column.
        where = hashlib.sha256(f"{session.case_id}/{session.access.access_id}".encode()).hexdigest()[:32]
        access_id = session.access.access_id
        return cls(id=f"party-{where}", roles=frozenset(), party_id=session.party_id, access_id=access_id)
