"""What the desk reads: the list with filters, one complaint with its history, the reporter, statistics."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from complaints.adapters.http.dependencies import (
    PERSONAL_DATA_READERS,
    READERS,
    ComplaintId,
    context_of,
    view_of,
)
from complaints.adapters.http.schemas import (
    ComplaintDetail,
    ComplaintPage,
    HistoryEntry,
    ReporterDetails,
    Statistics,
)
from complaints.application.loading import complaint_stream
from complaints.application.queries import (
    ComplaintFilter,
    get_complaint_row,
    list_complaints,
    rows_for_statistics,
    statistics_by,
    summarise,
)
from complaints.domain import Category, Channel
from complaints.domain.status import Status
from jinlin.web import Problem, Staff, problem_responses, require_roles, versioned_response

router = APIRouter(tags=["complaint queries"])
Reader = Annotated[Staff, Depends(require_roles(*READERS))]
# Sealed values mean nothing to a reader of the history; the reporter endpoint opens them for those entitled.
_SEALED_FIELDS = {"reporter_name_enc", "reporter_phone_enc", "person_name_enc"}


def _without_sealed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_sealed(item) for key, item in value.items() if key not in _SEALED_FIELDS}
    if isinstance(value, list):
        return [_without_sealed(item) for item in value]
    return value


@router.get("/complaints", response_model=ComplaintPage, responses=problem_responses(422))
async def list_all(
    request: Request,
    _staff: Reader,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    category_code: Annotated[str | None, Query(max_length=100)] = None,
    compound_id: Annotated[str | None, Query(max_length=100)] = None,
    assignee_id: Annotated[str | None, Query(max_length=100)] = None,
    channel: Channel | None = None,
    case_id: Annotated[str | None, Query(max_length=100)] = None,
    overdue: bool | None = None,
    filed_from: datetime | None = None,
    filed_to: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ComplaintPage:
    """Late complaints first, then by deadline."""
    context = context_of(request)
    now = context.clock()
    _require_aware(filed_from, "filed_from")
    _require_aware(filed_to, "filed_to")
    query = ComplaintFilter(
        status=[s.value for s in status or ()],
        category_code=category_code,
        compound_id=compound_id,
        assignee_id=assignee_id,
        channel=channel.value if channel else None,
        case_id=case_id,
        overdue=overdue,
        filed_from=filed_from,
        filed_to=filed_to,
    )
    async with context.store.engines.reader.connect() as conn:
        rows, total = await list_complaints(conn, query, now, page=page, page_size=page_size)
    return ComplaintPage(items=[view_of(row, now) for row in rows], total=total, page=page, page_size=page_size)


def _require_aware(value: datetime | None, name: str) -> None:
    if value is None:
        return
    if value.tzinfo is None:
        raise Problem(422, "Time without offset", f"{name} needs a UTC offset, e.g. +08:00.", slug="naive-time")
    if not 2000 <= value.year <= 2200:
        raise Problem(422, "Time out of range", f"{name} must fall between the years 2000 and 2200.", slug="bad-time")


@router.get("/complaints/{complaint_id}", response_model=ComplaintDetail, responses=problem_responses(404))
async def one(complaint_id: ComplaintId, request: Request, _staff: Reader) -> Response:
    """The complaint and its full history, from its events. ``ETag`` is its version."""
    context = context_of(request)
    now = context.clock()
    async with context.store.engines.reader.connect() as conn:
        row = await get_complaint_row(conn, complaint_id)
    if row is None:
        raise Problem(404, "No such complaint", f"There is no complaint {complaint_id}.", slug="complaint-not-found")
    events = await context.store.read_stream(complaint_stream(complaint_id))
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
        for event in events
    ]
    detail = ComplaintDetail(**view_of(row, now).model_dump(), history=history)
    return versioned_response(request, detail.model_dump(mode="json"), row["version"])


@router.get("/complaints/{complaint_id}/reporter", response_model=ReporterDetails, responses=problem_responses(404))
async def reporter(
    complaint_id: ComplaintId,
    request: Request,
    _staff: Annotated[Staff, Depends(require_roles(*PERSONAL_DATA_READERS))],
) -> ReporterDetails:
    """The reporter's name and phone, opened for the desk. ``erased`` once the person's key was destroyed."""
    context = context_of(request)
    async with context.store.engines.reader.connect() as conn:
        row = await get_complaint_row(conn, complaint_id)
        if row is None:
            raise Problem(
                404, "No such complaint", f"There is no complaint {complaint_id}.", slug="complaint-not-found"
            )
        ref = row["reporter_ref"]
        has_key = await context.vault.has_key(conn, ref)
        name = await context.vault.open(conn, ref, row["reporter_name_enc"]) if row["reporter_name_enc"] else None
        phone = await context.vault.open(conn, ref, row["reporter_phone_enc"]) if row["reporter_phone_enc"] else None
    sealed_any = bool(row["reporter_name_enc"] or row["reporter_phone_enc"])
    return ReporterDetails(reporter_ref=ref, name=name, phone=phone, erased=sealed_any and not has_key)


@router.get("/statistics", response_model=Statistics, responses=problem_responses(422))
async def statistics(
    request: Request,
    _staff: Reader,
    group_by: Literal["category", "compound", "month"] = "category",
    filed_from: datetime | None = None,
    filed_to: datetime | None = None,
    compound_id: Annotated[str | None, Query(max_length=100)] = None,
    category_code: Annotated[str | None, Query(max_length=100)] = None,
) -> Statistics:
    """Received, open, overdue (including those still open and already late), median time to resolve, closure rate,
    and the real resolution rate: the share of call-backs where the resident confirmed it fixed."""
    context = context_of(request)
    now = context.clock()
    _require_aware(filed_from, "filed_from")
    _require_aware(filed_to, "filed_to")
    query = ComplaintFilter(
        compound_id=compound_id, category_code=category_code, filed_from=filed_from, filed_to=filed_to
    )
    async with context.store.engines.reader.connect() as conn:
        rows = await rows_for_statistics(conn, query, now)
    return Statistics.model_validate(
        {"group_by": group_by, "rows": statistics_by(group_by, rows, now), "total": summarise("total", rows, now)}
    )


@router.get("/categories", response_model=list[Category])
async def categories(request: Request) -> list[Category]:
    """The catalogue: each category's questions and deadline rule (public, as Open311 services are)."""
    return list(context_of(request).catalogue.active())
