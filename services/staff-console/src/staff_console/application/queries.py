"""What the pages read from the console's own tables (never from another service's store)."""

import json
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from staff_console.application.complaints_view import ENDED, is_overdue
from staff_console.application.tables import (
    balance_points,
    bills,
    disbursements,
    escrow_accounts,
    event_households,
    events_log,
    handover_households,
    handovers,
    households,
    ledger_balances,
    mediation_cases,
)
from staff_console.application.tables import complaints as complaints_table
from staff_console.domain.timeline import ChainLink

Row = dict[str, Any]
FEED_COLUMNS = [c for c in events_log.c if c.name != "envelope"]


def _rows(result: Iterable[Any]) -> list[Row]:
    return [dict(row._mapping) for row in result]


# -- the event log --------------------------------------------------------------------------------------------------


async def feed(
    conn: AsyncConnection,
    services: Collection[str],
    *,
    service: str | None = None,
    compound: str | None = None,
    case: str | None = None,
    limit: int = 100,
) -> list[Row]:
    query = select(events_log).where(events_log.c.service.in_(list(services)))
    if service:
        query = query.where(events_log.c.service == service)
    if compound:
        query = query.where(events_log.c.compound == compound)
    if case:
        query = query.where(events_log.c.caseid == case)
    return _rows(await conn.execute(query.order_by(events_log.c.received.desc()).limit(limit)))


async def read_after(conn: AsyncConnection, received: int, limit: int = 500) -> list[Row]:
    query = select(events_log).where(events_log.c.received > received).order_by(events_log.c.received).limit(limit)
    return _rows(await conn.execute(query))


async def last_received(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.max(events_log.c.received)))).scalar() or 0)


async def counts_by_service(conn: AsyncConnection) -> dict[str, int]:
    query = select(events_log.c.service, func.count()).group_by(events_log.c.service)
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def compounds(conn: AsyncConnection) -> list[str]:
    query = select(events_log.c.compound).where(events_log.c.compound.is_not(None)).distinct()
    return sorted(row[0] for row in await conn.execute(query))


async def subject_events(conn: AsyncConnection, service: str, subject: str) -> list[Row]:
    query = (
        select(events_log)
        .where(events_log.c.service == service, events_log.c.subject == subject)
        .order_by(events_log.c.sequence)
    )
    return _rows(await conn.execute(query))


# -- complaints -----------------------------------------------------------------------------------------------------


async def complaint_queue(
    conn: AsyncConnection, view: str, *, staff_id: str, team: Collection[str], now: str, limit: int = 300
) -> list[Row]:
    """Overdue first, then by deadline. ``view``: all, open, mine, team or overdue."""
    query = select(complaints_table)
    if view in ("open", "mine", "team", "overdue"):
        query = query.where(complaints_table.c.status.not_in(list(ENDED)))
    if view == "mine":
        query = query.where(complaints_table.c.assignee_id == staff_id)
    elif view == "team":
        query = query.where(complaints_table.c.assignee_id.in_(list(team) or [staff_id]))
    rows = _rows(await conn.execute(query.order_by(complaints_table.c.due_at).limit(limit)))
    for row in rows:
        row["overdue"] = is_overdue(row, now)
    if view == "overdue":
        rows = [row for row in rows if row["overdue"]]
    ended = {row["complaint_id"] for row in rows if row["status"] in ENDED}
    rows.sort(key=lambda row: (row["complaint_id"] in ended, not row["overdue"], row["due_at"]))
    return rows


async def complaint(conn: AsyncConnection, complaint_id: str, now: str) -> Row | None:
    row = (await conn.execute(select(complaints_table).where(complaints_table.c.complaint_id == complaint_id))).first()
    if row is None:
        return None
    found = dict(row._mapping)
    found["overdue"] = is_overdue(found, now)
    return found


async def complaint_figures(conn: AsyncConnection, now: str) -> dict[str, Any]:
    rows = _rows(await conn.execute(select(complaints_table)))
    by_category: Counter[str] = Counter(row["category_code"] for row in rows)
    months: dict[str, list[int]] = {}
    for row in rows:
        month = _shanghai_month(row["filed_at"])
        received, late = months.setdefault(month, [0, 0])
        months[month] = [received + 1, late + (1 if row["overdue_marked"] or is_overdue(row, now) else 0)]
    return {
        "total": len(rows),
        "open": sum(1 for row in rows if row["status"] not in ENDED),
        "overdue": sum(1 for row in rows if is_overdue(row, now)),
        "by_category": by_category.most_common(),
        "by_month": sorted(months.items())[-6:],
    }


def _shanghai_month(instant: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(instant).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


# -- mediation ------------------------------------------------------------------------------------------------------


async def mediation_board(conn: AsyncConnection) -> list[Row]:
    return _rows(await conn.execute(select(mediation_cases).order_by(mediation_cases.c.updated_at.desc())))


async def mediation_case(conn: AsyncConnection, case_id: str) -> Row | None:
    row = (await conn.execute(select(mediation_cases).where(mediation_cases.c.case_id == case_id))).first()
    return dict(row._mapping) if row else None


# -- escrow ---------------------------------------------------------------------------------------------------------


async def escrow_accounts_list(conn: AsyncConnection) -> list[Row]:
    return _rows(await conn.execute(select(escrow_accounts).order_by(escrow_accounts.c.compound_id)))


async def escrow_account(conn: AsyncConnection, account_id: str) -> Row | None:
    row = (await conn.execute(select(escrow_accounts).where(escrow_accounts.c.account_id == account_id))).first()
    return dict(row._mapping) if row else None


async def household_ledgers(conn: AsyncConnection, account_id: str) -> list[Row]:
    """Per household of the account: money held free, money reserved for payments out, billed, arrears share."""
    query = select(ledger_balances).where(ledger_balances.c.account_id == account_id)
    held: dict[str, dict[str, int]] = {}
    for row in await conn.execute(query):
        kind, _, household_id = row.ledger_account.partition(":")
        if kind in ("household", "reserved") and household_id:
            held.setdefault(household_id, {"household": 0, "reserved": 0})[kind] = -int(row.signed_fen)
    if not held:
        return []
    details = {
        row.household_id: dict(row._mapping)
        for row in await conn.execute(select(households).where(households.c.household_id.in_(list(held))))
    }
    result = []
    for household_id, balance in sorted(held.items()):
        detail = details.get(household_id, {})
        result.append(
            {
                "household_id": household_id,
                "label": detail.get("label"),
                "held_fen": balance["household"],
                "reserved_fen": balance["reserved"],
                "billed_fen": detail.get("billed_fen") or 0,
                "share_fen": detail.get("share_fen"),
            }
        )
    return result


async def account_disbursements(
    conn: AsyncConnection, account_id: str | None = None, status: str | None = None
) -> list[Row]:
    query = select(disbursements)
    if account_id:
        query = query.where(disbursements.c.account_id == account_id)
    if status:
        query = query.where(disbursements.c.status == status)
    rows = _rows(await conn.execute(query.order_by(disbursements.c.requested_at.desc())))
    for row in rows:
        row["required"] = json.loads(row["required_roles"])
        row["signed"] = json.loads(row["signatures"])
        row["evidence_list"] = json.loads(row["evidence"])
    return rows


def awaiting(row: Row, signer_roles: Collection[str], staff_id: str) -> bool:
    """Whether this payment out still needs a signature in one of ``signer_roles``, and not already mine."""
    if row["status"] != "requested":
        return False
    signed_roles = {s.get("role") for s in row["signed"]}
    # The escrow service records a staff member's signature under their id with dots made underscores.
    if any(s.get("signer_id") in (staff_id, staff_id.replace(".", "_")) for s in row["signed"]):
        return False
    return any(role in signer_roles and role not in signed_roles for role in row["required"])


async def balance_history(conn: AsyncConnection) -> dict[str, list[tuple[str, int]]]:
    query = select(balance_points).order_by(balance_points.c.point)
    history: dict[str, list[tuple[str, int]]] = {}
    for row in await conn.execute(query):
        history.setdefault(row.account_id, []).append((row.time, int(row.balance_fen)))
    return history


async def household(conn: AsyncConnection, household_id: str) -> Row | None:
    row = (await conn.execute(select(households).where(households.c.household_id == household_id))).first()
    return dict(row._mapping) if row else None


async def household_bills(conn: AsyncConnection, household_id: str) -> list[Row]:
    query = select(bills).where(bills.c.household_id == household_id).order_by(bills.c.period)
    return _rows(await conn.execute(query))


async def household_events(conn: AsyncConnection, household_id: str) -> list[Row]:
    query = (
        select(events_log)
        .join(event_households, event_households.c.event_id == events_log.c.id)
        .where(event_households.c.household_id == household_id)
        .order_by(events_log.c.time, events_log.c.sequence)
    )
    return _rows(await conn.execute(query))


# -- handover -------------------------------------------------------------------------------------------------------


async def handover_list(conn: AsyncConnection) -> list[Row]:
    rows = _rows(await conn.execute(select(handovers).order_by(handovers.c.compound_id)))
    for row in rows:
        row |= await _meter_counts(conn, row["compound_id"])
    return rows


async def _meter_counts(conn: AsyncConnection, compound_id: str) -> Row:
    query = (
        select(
            func.count(households.c.meter_installed_at),
            func.count(households.c.switched_at),
        )
        .select_from(
            handover_households.join(households, households.c.household_id == handover_households.c.household_id)
        )
        .where(handover_households.c.compound_id == compound_id)
    )
    installed, switched = (await conn.execute(query)).one()
    return {"installed": int(installed), "switched": int(switched)}


async def handover(conn: AsyncConnection, compound_id: str) -> Row | None:
    row = (await conn.execute(select(handovers).where(handovers.c.compound_id == compound_id))).first()
    if row is None:
        return None
    return dict(row._mapping) | await _meter_counts(conn, compound_id)


async def handover_household_rows(conn: AsyncConnection, compound_id: str) -> list[Row]:
    query = (
        select(households)
        .join(handover_households, handover_households.c.household_id == households.c.household_id)
        .where(handover_households.c.compound_id == compound_id)
        .order_by(households.c.label, households.c.household_id)
    )
    return _rows(await conn.execute(query))


# -- the timeline ---------------------------------------------------------------------------------------------------


async def chain_links(conn: AsyncConnection, positions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], ChainLink]:
    wanted = list(set(positions))
    links: dict[tuple[str, int], ChainLink] = {}
    for start in range(0, len(wanted), 300):
        batch = wanted[start : start + 300]
        query = select(events_log.c.service, events_log.c.sequence, events_log.c.hash, events_log.c.prevhash).where(
            tuple_(events_log.c.service, events_log.c.sequence).in_(batch)
        )
        for row in await conn.execute(query):
            links[(row.service, int(row.sequence))] = ChainLink(int(row.sequence), row.hash, row.prevhash)
    return links


async def chain_segment(conn: AsyncConnection, service: str, first: int, last: int) -> list[Row]:
    query = (
        select(events_log.c.sequence, events_log.c.hash, events_log.c.prevhash)
        .where(events_log.c.service == service, events_log.c.sequence.between(first, last))
        .order_by(events_log.c.sequence)
    )
    return _rows(await conn.execute(query))


async def chain_heads(conn: AsyncConnection) -> dict[str, Row]:
    latest = select(events_log.c.service, func.max(events_log.c.sequence).label("sequence")).group_by(
        events_log.c.service
    )
    heads: dict[str, Row] = {}
    for row in (await conn.execute(latest)).all():
        hit = (
            await conn.execute(
                select(events_log.c.hash).where(
                    and_(events_log.c.service == row.service, events_log.c.sequence == row.sequence)
                )
            )
        ).scalar()
        heads[row.service] = {"sequence": int(row.sequence), "hash": hit}
    return heads


async def find_case_of(conn: AsyncConnection, reference: str) -> str | None:
    """The case id for a case id, a complaint id or any subject the console has seen."""
    query = (
        select(events_log.c.caseid)
        .where(or_(events_log.c.caseid == reference, events_log.c.subject == reference))
        .order_by(events_log.c.received.desc())
        .limit(1)
    )
    return (await conn.execute(query)).scalar()
