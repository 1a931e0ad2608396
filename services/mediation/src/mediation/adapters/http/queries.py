"""What the mediation desk reads: the case board, one case with its whole history, its parties, upcoming meetings,
obligations by obligor and deadline, and statistics."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from jinlin.web import problem_responses, versioned_response
from mediation.adapters.http.dependencies import CaseId, Reader, context_of, may_read_names
from mediation.adapters.http.errors import case_not_found_problem
from mediation.adapters.http.schemas import (
    BoardPage,
    CaseDetail,
    HistoryEntry,
    Instant,
    ObligationPage,
    ObligationRow,
    PartyDetailsOut,
    Statistics,
    UpcomingMeeting,
)
from mediation.adapters.http.views import case_view, summary_of
from mediation.application.loading import read_case
from mediation.application.parties import opened_name
from mediation.application.queries import (
    BoardFilter,
    MeetingFilter,
    ObligationFilter,
    StatisticsFilter,
    case_board,
    case_exists,
    case_parties,
    obligations_by_obligor,
    statistics_by,
    statistics_source,
    summarise,
    upcoming_meetings,
)
from mediation.domain import CaseStatus, ObligationStatus, PartyDetails, PartyKind

router = APIRouter(tags=["case queries"])
# Sealed values mean nothing to a reader of the history; ``/parties`` opens the names for those entitled. Nor does
# the digest of a party's secret, which nobody needs to see to follow the case.
_SEALED_FIELDS = {"person_name_enc", "token_sha256"}
Text100 = Annotated[str | None, Query(max_length=200)]


def _without_sealed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_sealed(item) for key, item in value.items() if key not in _SEALED_FIELDS}
    if isinstance(value, list):
        return [_without_sealed(item) for item in value]
    return value


@router.get("/cases", response_model=BoardPage, responses=problem_responses(422))
async def board(
    request: Request,
    _staff: Reader,
    status: Annotated[list[CaseStatus] | None, Query(description="One or more states")] = None,
    compound_id: Text100 = None,
    mediator_id: Text100 = None,
    party: Annotated[str | None, Query(max_length=200, description="An organisation's name or a person_ref")] = None,
    overdue: Annotated[bool | None, Query(description="Only cases with (or without) overdue obligations")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> BoardPage:
    """The case board: cases with overdue obligations first (the longest overdue first), then cases past their
    month, then by next deadline; cases awaiting acceptance after those, ended cases last."""
    context = context_of(request)
    now = context.clock()
    query = BoardFilter(
        status=[s.value for s in status or ()],
        compound_id=compound_id,
        mediator_id=mediator_id,
        party=party,
        overdue=overdue,
    )
    async with context.store.engines.reader.connect() as conn:
        rows, total = await case_board(conn, query, now, page=page, page_size=page_size)
    return BoardPage(items=[summary_of(row) for row in rows], total=total, page=page, page_size=page_size)


@router.get("/cases/{case_id}", response_model=CaseDetail, responses=problem_responses(404))
async def one(case_id: CaseId, request: Request, _staff: Reader) -> Response:
    """The case and its full history, from its events. ``ETag`` is its version."""
    context = context_of(request)
    state, stored = await read_case(context.store, case_id)
    if state is None:
        raise case_not_found_problem(case_id)
    history = [
        HistoryEntry(
            sequence=event.sequence,
            version=event.envelope.streamversion,
            type=event.type,
            time=datetime.fromisoformat(event.envelope.time),
            actor=event.envelope.actor,
            causationid=event.envelope.causationid,
            caseid=event.envelope.caseid,
            data=_without_sealed(event.data),
        )
        for event in stored
    ]
    detail = CaseDetail(**case_view(state, context.clock()).model_dump(), history=history)
    return versioned_response(request, detail.model_dump(mode="json"), state.version)


@router.get("/cases/{case_id}/parties", response_model=list[PartyDetailsOut], responses=problem_responses(404))
async def parties(case_id: CaseId, request: Request, staff: Reader) -> list[PartyDetailsOut]:
    """The case's parties. A resident's name is shown to mediators and supervisors when this service sealed it
    (a party a mediator added) and its key still exists; names referred by the complaints desk stay sealed here."""
    context = context_of(request)
    entitled = may_read_names(staff)
    answer = []
    async with context.store.engines.reader.connect() as conn:
        if not await case_exists(conn, case_id):
            raise case_not_found_problem(case_id)
        for row in await case_parties(conn, case_id):
            sealed = row["person_name_enc"] is not None
            name = None
            if entitled and sealed:
                details = PartyDetails(
                    kind=PartyKind(row["kind"]), person_ref=row["person_ref"], person_name_enc=row["person_name_enc"]
                )
                name = await opened_name(conn, context, details)
            answer.append(
                PartyDetailsOut.model_validate(row | {"name": name, "name_withheld": sealed and name is None})
            )
    return answer


@router.get("/meetings/upcoming", response_model=list[UpcomingMeeting], responses=problem_responses(422))
async def meetings(
    request: Request,
    _staff: Reader,
    until: Annotated[Instant | None, Query(description="Only meetings starting before this instant")] = None,
    compound_id: Text100 = None,
    mediator_id: Text100 = None,
    case_id: Text100 = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[UpcomingMeeting]:
    """Scheduled meetings that have not ended, soonest first, with invitations, RSVPs and attendance so far."""
    context = context_of(request)
    query = MeetingFilter(until=until, compound_id=compound_id, mediator_id=mediator_id, case_id=case_id)
    async with context.store.engines.reader.connect() as conn:
        rows = await upcoming_meetings(conn, query, context.clock(), limit=limit)
    return [UpcomingMeeting.model_validate(row) for row in rows]


@router.get("/obligations", response_model=ObligationPage, responses=problem_responses(422))
async def obligations(
    request: Request,
    _staff: Reader,
    obligor: Annotated[str | None, Query(max_length=200, description="An organisation's name or a person_ref")] = None,
    obligor_kind: PartyKind | None = None,
    status: Annotated[list[ObligationStatus] | None, Query()] = None,
    overdue: bool | None = None,
    due_before: Instant | None = None,
    compound_id: Text100 = None,
    case_id: Text100 = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ObligationPage:
    """Who must do what by when: obligations grouped by obligor, each obligor's by due instant (soonest first).
    ``overdue`` includes open obligations already late that the watcher has not recorded yet."""
    context = context_of(request)
    query = ObligationFilter(
        obligor=obligor,
        obligor_kind=obligor_kind.value if obligor_kind else None,
        status=[s.value for s in status or ()],
        overdue=overdue,
        due_before=due_before,
        compound_id=compound_id,
        case_id=case_id,
    )
    async with context.store.engines.reader.connect() as conn:
        rows, total = await obligations_by_obligor(conn, query, context.clock(), page=page, page_size=page_size)
    return ObligationPage(
        items=[ObligationRow.model_validate(row) for row in rows], total=total, page=page, page_size=page_size
    )


@router.get("/statistics", response_model=Statistics, responses=problem_responses(422))
async def statistics(
    request: Request,
    _staff: Reader,
    group_by: Literal["month", "compound", "origin"] = "month",
    opened_from: Instant | None = None,
    opened_to: Instant | None = None,
    compound_id: Text100 = None,
) -> Statistics:
    """Cases opened, settled by agreement, ended without agreement, median days from acceptance to agreement,
    and obligations fulfilled on time, per month (Shanghai time) of opening, compound or origin."""
    context = context_of(request)
    now = context.clock()
    query = StatisticsFilter(opened_from=opened_from, opened_to=opened_to, compound_id=compound_id)
    async with context.store.engines.reader.connect() as conn:
        cases, rows = await statistics_source(conn, query)
    return Statistics.model_validate(
        {
            "group_by": group_by,
            "rows": statistics_by(group_by, cases, rows, now),
            "total": summarise("total", cases, rows, now),
        }
    )
