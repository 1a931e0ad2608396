"""Reading the complaints list: filters, paging, the overdue rule, and statistics.

"Overdue" counts what a supervisor means by it: complaints marked overdue by the watcher, and complaints that are
still open and already past their deadline but not yet marked (the watcher runs every few seconds, and a late
complaint must never look on time in between). Time spent waiting for the resident never counts.
"""

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from complaints.application.read_model import complaint_view, instant
from complaints.domain.callback import REALLY_RESOLVED

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class ComplaintFilter:
    status: Sequence[str] = ()
    category_code: str | None = None
    compound_id: str | None = None
    assignee_id: str | None = None
    channel: str | None = None
    case_id: str | None = None
    overdue: bool | None = None
    filed_from: datetime | None = None
    filed_to: datetime | None = None


def late_now(now: datetime) -> ColumnElement[bool]:
    """Still bound by a deadline and past it, by the clock that ran (a paused clock stopped at ``paused_at``)."""
    now_text = instant(now)
    view = complaint_view.c
    return and_(
        view.deadline_applies.is_(True),
        or_(
            and_(view.paused_at.is_(None), view.due_at < now_text),
            and_(view.paused_at.is_not(None), view.due_at < view.paused_at),
        ),
    )


def overdue_now(now: datetime) -> ColumnElement[bool]:
    """Overdue at this moment: marked late for the deadline in force, or late and not yet marked."""
    view = complaint_view.c
    return or_(and_(view.deadline_applies.is_(True), view.overdue_marked.is_(True)), late_now(now))


def is_row_late(row: Mapping[str, Any], now: datetime) -> bool:
    if not row["deadline_applies"]:
        return False
    stopped_at = row["paused_at"] or instant(now)
    return bool(row["due_at"] < stopped_at)


def was_ever_overdue(row: Mapping[str, Any], now: datetime) -> bool:
    """For statistics: overdue at some point, including the open complaints that are late right now."""
    return bool(row["ever_overdue"]) or is_row_late(row, now)


def _conditions(query: ComplaintFilter, now: datetime) -> list[ColumnElement[bool]]:
    view = complaint_view.c
    conditions: list[ColumnElement[bool]] = []
    if query.status:
        conditions.append(view.status.in_(list(query.status)))
    for column, value in (
        (view.category_code, query.category_code),
        (view.compound_id, query.compound_id),
        (view.assignee_id, query.assignee_id),
        (view.channel, query.channel),
        (view.case_id, query.case_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.overdue is True:
        conditions.append(overdue_now(now))
    elif query.overdue is False:
        conditions.append(~overdue_now(now))
    if query.filed_from is not None:
        conditions.append(view.filed_at >= instant(query.filed_from))
    if query.filed_to is not None:
        conditions.append(view.filed_at < instant(query.filed_to))
    return conditions


async def list_complaints(
    conn: AsyncConnection, query: ComplaintFilter, now: datetime, *, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """One page, late ones first, then by deadline; and the total matching."""
    conditions = _conditions(query, now)
    total = (await conn.execute(select(func.count()).select_from(complaint_view).where(*conditions))).scalar_one()
    rows = (
        await conn.execute(
            select(complaint_view)
            .where(*conditions)
            .order_by(late_now(now).desc(), complaint_view.c.due_at, complaint_view.c.complaint_id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    return [dict(row._mapping) for row in rows], int(total)


async def get_complaint_row(conn: AsyncConnection, complaint_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(complaint_view).where(complaint_view.c.complaint_id == complaint_id))).first()
    return dict(row._mapping) if row else None


async def rows_for_statistics(conn: AsyncConnection, query: ComplaintFilter, now: datetime) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(complaint_view).where(*_conditions(query, now)))).all()
    return [dict(row._mapping) for row in rows]


def _category(row: Mapping[str, Any]) -> str:
    return str(row["category_code"])


def _compound(row: Mapping[str, Any]) -> str:
    return str(row["compound_id"])


def _month(row: Mapping[str, Any]) -> str:
    return _shanghai_month(row["filed_at"])


GROUPINGS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "category": _category,
    "compound": _compound,
    "month": _month,
}


def _shanghai_month(filed_at: str) -> str:
    # Months as the people of the center count them, in their own time zone.
    return datetime.fromisoformat(filed_at).astimezone(SHANGHAI).strftime("%Y-%m")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(group: str, rows: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    resolved = [row for row in rows if row["first_resolved_at"]]
    hours = [
        (datetime.fromisoformat(row["first_resolved_at"]) - datetime.fromisoformat(row["filed_at"])).total_seconds()
        / 3600
        for row in resolved
    ]
    called_back = [row for row in rows if row["last_outcome"]]
    really = [row for row in called_back if row["last_outcome"] in REALLY_RESOLVED]
    satisfaction = [row["satisfaction"] for row in called_back if row["satisfaction"] is not None]
    closed = [row for row in rows if row["status"] == "closed"]
    ended = [row for row in rows if row["status"] in ("closed", "withdrawn", "duplicate")]
    return {
        "group": group,
        "received": len(rows),
        "open": len(rows) - len(ended),
        "overdue": sum(1 for row in rows if was_ever_overdue(row, now)),
        "resolved": len(resolved),
        "closed": len(closed),
        "median_hours_to_resolve": round(statistics.median(hours), 2) if hours else None,
        "closure_rate": _rate(len(closed), len(rows)),
        "called_back": len(called_back),
        "really_resolved": len(really),
        "real_resolution_rate": _rate(len(really), len(called_back)),
        "average_satisfaction": round(statistics.fmean(satisfaction), 2) if satisfaction else None,
    }


def statistics_by(group_by: str, rows: Sequence[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    key = GROUPINGS[group_by]
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return [summarise(name, members, now) for name, members in sorted(groups.items())]
