"""A party's own case, read with the token the mediator handed them (``Authorization: Bearer jlp_…``).

- ``GET /party/case``: the case as the party reads it (``party_schemas``); ``ETag`` is its version.
- ``GET /party/case/agreement.html`` and ``.pdf``: the agreement (人民调解协议书), the same document staff print, with
  the other people's names withheld.
- ``POST /party/case/meetings/{meeting_id}/rsvp``: the party's own answer to an invitation, under the same rules as
  the desk recording it (before the meeting starts); ``Idempotency-Key`` and ``If-Match`` as for every command.

The case is the token's: there is no case id to change in these paths, and a party token on the desk's routes is
refused (``403``). Answers carry ``Cache-Control: no-store``: they are one person's view, fetched with a secret.
"""

from datetime import datetime
from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from jinlin.store import Transaction
from jinlin.web import CommandResult, etag_of, problem_responses, run_command
from mediation.adapters.documents.agreement import agreement_document
from mediation.adapters.http.dependencies import MeetingId, context_of
from mediation.adapters.http.documents import HTML, PDF, Form, agreement_of, document_response
from mediation.adapters.http.party_auth import Party, PartyActor
from mediation.adapters.http.party_schemas import PartyCaseView, PartyRsvp
from mediation.adapters.http.party_views import party_case_view
from mediation.adapters.http.running import DOCS
from mediation.application.changes import change
from mediation.application.loading import case_stream
from mediation.application.parties import names_for_party
from mediation.application.party_sessions import PartySession
from mediation.domain import CaseEvent, CaseState, answer_invitation

router = APIRouter(tags=["a party's own case"])
NO_STORE: Final = {"Cache-Control": "no-store"}


async def _names(request: Request, session: PartySession) -> dict[str, str]:
    context = context_of(request)
    parties = {party_id: record.party for party_id, record in session.state.parties.items()}
    async with context.store.engines.reader.connect() as conn:
        return await names_for_party(conn, context, parties, session.party_id)


@router.get("/party/case", response_model=PartyCaseView, responses=problem_responses(401, 403))
async def own_case(request: Request, party: Party) -> Response:
    """Your case: its state and deadlines, the parties, your meetings and your answers, the agreement and who must
    do what by when."""
    view = party_case_view(party.state, party.access, await _names(request, party), context_of(request).clock())
    headers = {"ETag": etag_of(party.state.version), **NO_STORE}
    return JSONResponse(view.model_dump(mode="json"), headers=headers)


async def _agreement(request: Request, party: PartySession, form: Form) -> Response:
    agreement = agreement_of(party.state)
    document = agreement_document(party.state, agreement, await _names(request, party))
    response = document_response(document, form, party.state, f"agreement-{party.case_id}")
    response.headers.update(NO_STORE)
    return response


@router.get("/party/case/agreement.html", response_class=Response, responses={**HTML, **problem_responses(401, 403)})
async def own_agreement_page(request: Request, party: Party) -> Response:
    """The agreement (人民调解协议书) of your case, in force or the draft you are asked to sign."""
    return await _agreement(request, party, "html")


@router.get("/party/case/agreement.pdf", response_class=Response, responses={**PDF, **problem_responses(401, 403)})
async def own_agreement_pdf(request: Request, party: Party) -> Response:
    """The agreement (人民调解协议书) of your case as an A4 PDF."""
    return await _agreement(request, party, "pdf")


@router.post("/party/case/meetings/{meeting_id}/rsvp", response_model=PartyCaseView, **DOCS)
async def answer(meeting_id: MeetingId, body: PartyRsvp, request: Request, party: Party) -> Response:
    """Your answer to an invitation (yes / no / maybe), before the meeting starts; a later answer replaces it. The
    desk sees it as theirs would be, recorded by you (``actor`` ``party:<party_id>/<access_id>``)."""
    context = context_of(request)
    now = context.clock()
    access_id = party.access.access_id

    async def handle(tx: Transaction) -> CommandResult:
        def decide(state: CaseState, at: datetime) -> list[CaseEvent]:
            return answer_invitation(state, access_id=access_id, meeting_id=meeting_id, rsvp=body.rsvp, at=at)

        state = await change(tx, party.case_id, decide, now)
        parties = {party_id: record.party for party_id, record in state.parties.items()}
        names = await names_for_party(tx.connection, context, parties, party.party_id)
        view = party_case_view(state, state.party_access[access_id], names, now)
        return CommandResult(view, version=state.version, headers=NO_STORE)

    return await run_command(
        request,
        context.store,
        handle,
        actor=PartyActor.of(party),
        scope="mediation.party_rsvp",
        stream=case_stream(party.case_id),
        caseid=party.case_id,
        status_code=200,
    )
