"""Reading the read models: the case board, upcoming meetings, obligations by obligor and deadline, parties and
statistics.

"Overdue" means what a mediator means by it: an open obligation of an agreement in effect whose due instant has
passed, whether or not the watcher has recorded it yet (it runs every few seconds, and a late obligation must never
look on time in between). The board order is the domain's (``mediation.domain.board``) computed in SQL: cases with
overdue obligations first (longest overdue first), then cases past their month, then the rest by their next
deadline, cases awaiting acceptance after them (oldest first), ended cases last (latest first).
"""

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mediation.application.read_model import case_view, instant, meeting_view, obligation_view, party_view
from mediation.domain import ENDED, CaseStatus

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
ENDED_VALUES: Final = sorted(status.value for status in ENDED)
AGREED_VALUES: Final = (CaseStatus.AGREEMENT_IN_EFFECT.value, CaseStatus.CLOSED.value)
MEETINGS_HELD_IN: Final = (CaseStatus.ACCEPTED.value, CaseStatus.AGREEMENT_IN_EFFECT.value)
SECONDS_A_DAY: Final = 86_400


# --- the board -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilter:
    status: Sequence[str] = ()
    compound_id: str | None = None
    mediator_id: str | None = None
    party: str | None = None
    """An organisation's name or a person reference: the cases it is a party to."""
    overdue: bool | None = None


def _overdue(now: datetime) -> ColumnElement[bool]:
    view = case_view.c
    return and_(view.status == CaseStatus.AGREEMENT_IN_EFFECT.value, view.next_deadline < instant(now))


def _past_its_month(now: datetime) -> ColumnElement[bool]:
    view = case_view.c
    return and_(view.status == CaseStatus.ACCEPTED.value, view.next_deadline < instant(now))


def _board_group(now: datetime) -> ColumnElement[int]:
    return case(
        (case_view.c.status.in_(ENDED_VALUES), 3),
        (_overdue(now), 0),
        (_past_its_month(now), 1),
        else_=2,
    )


def overdue_count(now: datetime) -> ColumnElement[int]:
    """Open obligations of the case already past their due instant (0 unless its agreement is in effect)."""
    obligations = obligation_view.c
    late = (
        select(func.count())
        .where(
            obligations.case_id == case_view.c.case_id,
            obligations.status == "open",
            obligations.due_at < instant(now),
        )
        .correlate(case_view)
        .scalar_subquery()
    )
    return case((case_view.c.status == CaseStatus.AGREEMENT_IN_EFFECT.value, late), else_=0)


def _board_conditions(query: BoardFilter, now: datetime) -> list[ColumnElement[bool]]:
    view = case_view.c
    conditions: list[ColumnElement[bool]] = []
    if query.status:
        conditions.append(view.status.in_(list(query.status)))
    if query.compound_id is not None:
        conditions.append(view.compound_id == query.compound_id)
    if query.mediator_id is not None:
        conditions.append(view.mediator_id == query.mediator_id)
    if query.party is not None:
        parties = party_view.c
        conditions.append(
            exists().where(
                parties.case_id == view.case_id,
                or_(parties.organisation == query.party, parties.person_ref == query.party),
            )
        )
    if query.overdue is True:
        conditions.append(_overdue(now))
    elif query.overdue is False:
        conditions.append(~_overdue(now) | view.next_deadline.is_(None))
    return conditions


async def case_board(
    conn: AsyncConnection, query: BoardFilter, now: datetime, *, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the board in its order, each row with ``overdue_obligations`` and ``past_its_month``; and the
    total matching."""
    view = case_view.c
    conditions = _board_conditions(query, now)
    total = (await conn.execute(select(func.count()).select_from(case_view).where(*conditions))).scalar_one()
    group = _board_group(now)
    ended = group == 3
    no_deadline = case((and_(group == 2, view.next_deadline.is_(None)), 1), else_=0)
    rows = (
        await conn.execute(
            select(
                case_view,
                overdue_count(now).label("overdue_obligations"),
                _past_its_month(now).label("past_its_month"),
            )
            .where(*conditions)
            .order_by(
                group,
                no_deadline,
                case((ended, None), else_=func.coalesce(view.next_deadline, view.opened_at)),
                case((ended, func.coalesce(view.ended_at, view.updated_at)), else_=None).desc(),
                view.case_id,
            )
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    return [_case_row(dict(row._mapping)) for row in rows], int(total)


def _case_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return dict(row) | {
        "complaint_ids": json.loads(row["complaint_ids"]),
        "past_its_month": bool(row["past_its_month"]),
    }


# --- meetings ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingFilter:
    until: datetime | None = None
    compound_id: str | None = None
    mediator_id: str | None = None
    case_id: str | None = None


async def upcoming_meetings(
    conn: AsyncConnection, query: MeetingFilter, now: datetime, *, limit: int
) -> list[dict[str, Any]]:
    """Scheduled meetings of cases being mediated (or whose agreement is being carried out) that have not ended yet,
    soonest first."""
    meetings, cases = meeting_view.c, case_view.c
    conditions: list[ColumnElement[bool]] = [
        meetings.status == "scheduled",
        meetings.ends_at > instant(now),
        cases.status.in_(MEETINGS_HELD_IN),
    ]
    if query.until is not None:
        conditions.append(meetings.starts_at < instant(query.until))
    for column, value in (
        (cases.compound_id, query.compound_id),
        (cases.mediator_id, query.mediator_id),
        (cases.case_id, query.case_id),
    ):
        if value is not None:
            conditions.append(column == value)
    rows = (
        await conn.execute(
            select(meeting_view, cases.compound_id, cases.mediator_id, cases.mediator_name)
            .join(case_view, cases.case_id == meetings.case_id)
            .where(*conditions)
            .order_by(meetings.starts_at, meetings.case_id, meetings.meeting_id)
            .limit(limit)
        )
    ).all()
    return [
        dict(row._mapping)
        | {key: json.loads(row._mapping[key]) for key in ("agenda", "invited", "rsvps", "attendance")}
        for row in rows
    ]


# --- obligations ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationFilter:
    obligor: str | None = None
    """An organisation's name or a person reference."""
    obligor_kind: str | None = None
    status: Sequence[str] = ()
    overdue: bool | None = None
    due_before: datetime | None = None
    compound_id: str | None = None
    case_id: str | None = None


def _late(now: datetime) -> ColumnElement[bool]:
    obligations = obligation_view.c
    return and_(
        obligations.status == "open",
        obligations.due_at < instant(now),
        case_view.c.status == CaseStatus.AGREEMENT_IN_EFFECT.value,
    )


async def obligations_by_obligor(
    conn: AsyncConnection, query: ObligationFilter, now: datetime, *, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """Obligations grouped by who must perform them (organisation, else person reference), each obligor's by due
    instant, soonest first; with ``overdue`` per row."""
    obligations, cases = obligation_view.c, case_view.c
    conditions: list[ColumnElement[bool]] = []
    if query.obligor is not None:
        conditions.append(
            or_(obligations.obligor_organisation == query.obligor, obligations.obligor_person_ref == query.obligor)
        )
    for column, value in (
        (obligations.obligor_kind, query.obligor_kind),
        (cases.compound_id, query.compound_id),
        (obligations.case_id, query.case_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.status:
        conditions.append(obligations.status.in_(list(query.status)))
    if query.overdue is True:
        conditions.append(_late(now))
    elif query.overdue is False:
        conditions.append(~_late(now))
    if query.due_before is not None:
        conditions.append(obligations.due_at < instant(query.due_before))
    joined = obligation_view.join(case_view, cases.case_id == obligations.case_id)
    total = (await conn.execute(select(func.count()).select_from(joined).where(*conditions))).scalar_one()
    obligor_key = func.coalesce(obligations.obligor_organisation, obligations.obligor_person_ref, obligations.obligor)
    rows = (
        await conn.execute(
            select(
                obligation_view,
                cases.compound_id,
                cases.mediator_id,
                cases.status.label("case_status"),
                _late(now).label("overdue"),
            )
            .select_from(joined)
            .where(*conditions)
            .order_by(obligor_key, obligations.due_at, obligations.case_id, obligations.term_id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    return [
        dict(row._mapping)
        | {
            "overdue": bool(row._mapping["overdue"]),
            "fulfilled_by_match": json.loads(row._mapping["fulfilled_by_match"])
            if row._mapping["fulfilled_by_match"]
            else None,
        }
        for row in rows
    ], int(total)


# --- parties -------------------------------------------------------------------------------------------------------


async def case_parties(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(select(party_view).where(party_view.c.case_id == case_id).order_by(party_view.c.joined_at))
    ).all()
    # party-2 before party-10: by the number the case gave them.
    ordered = sorted((dict(row._mapping) for row in rows), key=lambda row: int(str(row["party_id"]).split("-")[-1]))
    return ordered


async def case_exists(conn: AsyncConnection, case_id: str) -> bool:
    query = select(case_view.c.case_id).where(case_view.c.case_id == case_id)
    return (await conn.execute(query)).first() is not None


# --- statistics ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticsFilter:
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    compound_id: str | None = None


async def statistics_source(
    conn: AsyncConnection, query: StatisticsFilter
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The statistics' source rows: the cases opened in the period, and their obligations."""
    view = case_view.c
    conditions: list[ColumnElement[bool]] = []
    if query.opened_from is not None:
        conditions.append(view.opened_at >= instant(query.opened_from))
    if query.opened_to is not None:
        conditions.append(view.opened_at < instant(query.opened_to))
    if query.compound_id is not None:
        conditions.append(view.compound_id == query.compound_id)
    cases = [dict(row._mapping) for row in (await conn.execute(select(case_view).where(*conditions))).all()]
    obligations = [
        dict(row._mapping)
        for row in (
            await conn.execute(
                select(obligation_view, view.status.label("case_status"))
                .join(case_view, view.case_id == obligation_view.c.case_id)
                .where(*conditions)
            )
        ).all()
    ]
    return cases, obligations


def _month(row: Mapping[str, Any]) -> str:
    # Months as the people of the center count them, in their own time zone.
    return datetime.fromisoformat(row["opened_at"]).astimezone(SHANGHAI).strftime("%Y-%m")


GROUPINGS: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "month": _month,
    "compound": lambda row: str(row["compound_id"] or "（无小区）"),
    "origin": lambda row: str(row["origin"]),
}


def _days(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / SECONDS_A_DAY


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(
    group: str, cases: Sequence[Mapping[str, Any]], obligations: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    agreed = [row for row in cases if row["status"] in AGREED_VALUES]
    days_to_agreement = [
        _days(row["accepted_at"], row["agreement_took_effect_at"])
        for row in agreed
        if row["accepted_at"] and row["agreement_took_effect_at"]
    ]
    fulfilled = [row for row in obligations if row["status"] == "fulfilled"]
    on_time = [row for row in fulfilled if row["settled_at"] <= row["due_at"]]
    late_open = [
        row
        for row in obligations
        if row["status"] == "open"
        and row["case_status"] == CaseStatus.AGREEMENT_IN_EFFECT.value
        and row["due_at"] < instant(now)
    ]
    return {
        "group": group,
        "cases_opened": len(cases),
        "being_mediated": sum(1 for row in cases if row["status"] in ("opened", "accepted")),
        "settled_by_agreement": len(agreed),
        "closed": sum(1 for row in cases if row["status"] == CaseStatus.CLOSED.value),
        "ended_without_agreement": sum(1 for row in cases if row["status"] == CaseStatus.ENDED_WITHOUT_AGREEMENT.value),
        "declined": sum(1 for row in cases if row["status"] == CaseStatus.DECLINED.value),
        "median_days_to_agreement": round(statistics.median(days_to_agreement), 1) if days_to_agreement else None,
        "obligations": len(obligations),
        "obligations_fulfilled": len(fulfilled),
        "obligations_fulfilled_on_time": len(on_time),
        "obligations_waived": sum(1 for row in obligations if row["status"] == "waived"),
        "obligations_overdue": len(late_open),
        "on_time_rate": _rate(len(on_time), len(fulfilled) + len(late_open)),
    }


def statistics_by(
    group_by: str, cases: Sequence[Mapping[str, Any]], obligations: Sequence[Mapping[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    key = GROUPINGS[group_by]
    group_of_case = {row["case_id"]: key(row) for row in cases}
    case_groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    obligation_groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in cases:
        case_groups[group_of_case[row["case_id"]]].append(row)
    for row in obligations:
        obligation_groups[group_of_case[row["case_id"]]].append(row)
    return [summarise(name, case_groups[name], obligation_groups[name], now) for name in sorted(case_groups)]
