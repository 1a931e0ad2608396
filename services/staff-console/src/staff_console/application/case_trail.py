"""Which events of the console's log make up a case's trail.

1. The events that carry the case id (``caseid``).
2. Each complaint's history from before it joined the case (``domain.case_moves``): the events of its own stream
   that carry the case it left, recorded before it left, followed back through every earlier move.
3. Every event that caused one of those or was caused by one, directly or not: an escrow payment that fulfilled a
   term of the case's agreement belongs to the trail although it carries its account's own case id.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from staff_console.application.projector import parse_envelope
from staff_console.application.tables import events_log
from staff_console.domain.case_moves import COMPLAINTS, CaseMove, may_move, moves_into
from staff_console.domain.timeline import LoggedEvent

Row = dict[str, Any]
MAX_MOVES = 100
"""A complaint moves once or twice in its life; this only stops a forged log that moves in circles."""


def _rows(result: Iterable[Any]) -> list[Row]:
    return [dict(row._mapping) for row in result]


def _logged(rows: Iterable[Row]) -> list[LoggedEvent]:
    return [LoggedEvent(row["service"], parse_envelope(row["envelope"])) for row in rows]


async def case_events(conn: AsyncConnection, case_id: str, *, max_rounds: int = 10) -> list[LoggedEvent]:
    """The case's trail, unordered (``domain.timeline`` orders it); ``max_rounds`` bounds the causal links followed."""
    rows = _rows(await conn.execute(select(events_log).where(events_log.c.caseid == case_id)))
    rows += await _histories_before_joining(conn, case_id, rows)
    rows += await _causes_and_effects(conn, rows, max_rounds)
    return _logged(rows)


async def _histories_before_joining(conn: AsyncConnection, case_id: str, rows: list[Row]) -> list[Row]:
    held = {row["id"] for row in rows}
    found: list[Row] = []
    waiting = [(case_id, rows)]
    followed: set[CaseMove] = set()
    while waiting and len(followed) < MAX_MOVES:
        into, among = waiting.pop()
        candidates = _logged(row for row in among if may_move(row["service"], row["type"]))
        for move in moves_into(into, candidates):
            if move in followed:
                continue
            followed.add(move)
            history = await _history_before(conn, move)
            found += [row for row in history if row["id"] not in held]
            held |= {row["id"] for row in history}
            # The complaint may have come into the previous case from yet another one.
            waiting.append((move.previous_case_id, history))
    return found


async def _history_before(conn: AsyncConnection, move: CaseMove) -> list[Row]:
    """The moved complaint's own events in the case it left, up to the move (never the case's other complaints)."""
    query = select(events_log).where(
        events_log.c.service == COMPLAINTS,
        events_log.c.subject == move.subject,
        events_log.c.caseid == move.previous_case_id,
        events_log.c.sequence < move.sequence,
    )
    return _rows(await conn.execute(query))


async def _causes_and_effects(conn: AsyncConnection, rows: list[Row], max_rounds: int) -> list[Row]:
    seen = {row["id"] for row in rows}
    found: list[Row] = []
    frontier = list(rows)
    for _ in range(max_rounds):
        if not frontier:
            break
        ids = [row["id"] for row in frontier]
        causes = [row["causationid"] for row in frontier]
        linked = _rows(
            await conn.execute(
                select(events_log).where(
                    or_(events_log.c.causationid.in_(ids), events_log.c.id.in_(causes)),
                    events_log.c.id.not_in(list(seen)),
                )
            )
        )
        frontier = linked
        seen |= {row["id"] for row in linked}
        found += linked
    return found
