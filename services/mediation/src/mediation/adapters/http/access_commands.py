"""The desk gives a party access to their own case, and takes it back (see ``domain.access``).

Granting answers the party's token once. The command kit stores each answer to replay it for a retry with the same
``Idempotency-Key``; the token must not be stored, so the answer is stored without it and the token is added to the
first answer only, on its way out. A retry gets ``"token": null``: the desk revokes that access and grants another.
"""

import json
from datetime import datetime, timedelta
from typing import Final

from fastapi import APIRouter, Request, Response

from jinlin.store import Transaction
from jinlin.web import REPLAYED_HEADER, CommandResult, run_command
from mediation.adapters.http.dependencies import AccessId, CaseId, Desk, PartyId, context_of
from mediation.adapters.http.running import DOCS, change_case
from mediation.adapters.http.schemas import CaseView, GrantPartyAccess, PartyAccessIssued, RevokePartyAccess
from mediation.application import party_tokens
from mediation.application.changes import change
from mediation.application.loading import case_stream
from mediation.domain import CaseEvent, CaseState, access_ends_at, grant_party_access, revoke_party_access

router = APIRouter(tags=["party access"])
PARTY_CASE: Final = "/party/case"


def _issued(state: CaseState) -> PartyAccessIssued:
    access = list(state.party_access.values())[-1]  # the one just granted: accesses are kept in grant order
    return PartyAccessIssued(
        access_id=access.access_id,
        case_id=state.case_id,
        party_id=access.party_id,
        expires_at=access.expires_at,
        ends_at=access_ends_at(state, access),
        token=None,
        read_at=PARTY_CASE,
    )


def with_token_once(response: Response, token: str) -> Response:
    """The first answer with the token in it; a replayed answer (or a refusal) as it is."""
    if response.status_code != 201 or response.headers.get(REPLAYED_HEADER) is not None:
        return response
    body = json.loads(bytes(response.body))
    body["token"] = token
    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
    # Nothing between here and the party may keep it.
    headers["cache-control"] = "no-store"
    return Response(json.dumps(body, ensure_ascii=False).encode(), status_code=201, headers=headers)


@router.post("/cases/{case_id}/parties/{party_id}/access", status_code=201, response_model=PartyAccessIssued, **DOCS)
async def grant_access(
    case_id: CaseId, party_id: PartyId, body: GrantPartyAccess, request: Request, staff: Desk
) -> Response:
    """Give a party read access to their own case: a secret token (``jlp_…``), answered once, which the party sends
    as ``Authorization: Bearer <token>`` to ``/party/case``. Only its SHA-256 is recorded (``PartyAccessGranted``).
    It works for ``valid_days`` at most, and stops when revoked, when the party leaves the case, or 90 days after
    the case ended. A party may hold several (each revoked on its own)."""
    context = context_of(request)
    now = context.clock()
    token = party_tokens.new_token(case_id)
    token_sha256 = party_tokens.digest(token)

    def decide(state: CaseState, at: datetime) -> list[CaseEvent]:
        return grant_party_access(
            state,
            party_id=party_id,
            token_sha256=token_sha256,
            expires_at=at + timedelta(days=body.valid_days),
            at=at,
        )

    async def handle(tx: Transaction) -> CommandResult:
        state = await change(tx, case_id, decide, now)
        return CommandResult(_issued(state), version=state.version)

    response = await run_command(
        request,
        context.store,
        handle,
        actor=staff,
        scope="mediation.grant_party_access",
        stream=case_stream(case_id),
        caseid=case_id,
        status_code=201,
    )
    return with_token_once(response, token)


@router.post("/cases/{case_id}/parties/{party_id}/access/{access_id}/revoke", response_model=CaseView, **DOCS)
async def revoke_access(
    case_id: CaseId, party_id: PartyId, access_id: AccessId, body: RevokePartyAccess, request: Request, staff: Desk
) -> Response:
    """The access stops working at once (the link was lost or shared, or is no longer needed)."""
    return await change_case(
        request, staff, case_id, "revoke_party_access",
        lambda state, at: revoke_party_access(state, party_id=party_id, access_id=access_id, reason=body.reason, at=at),
    )  # fmt: skip
