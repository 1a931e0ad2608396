"""The complaints list: one row per complaint, kept in step with its events in the same transaction.

Rows hold personal data only as the sealed text and the person reference, as the events do.
Times are stored as ISO 8601 UTC strings of one fixed shape, so they compare and sort as text.
"""

import json
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from complaints.domain import AGGREGATE, ComplaintState, registry
from complaints.domain.state import apply, replay
from complaints.domain.status import DEADLINE_APPLIES
from jinlin.store import StoredEvent
from jinlin.store.projection import Projection
from jinlin.store.schema import events

metadata = MetaData()

complaint_view = Table(
    "complaint_view",
    metadata,
    Column("complaint_id", String(100), primary_key=True),
    Column("case_id", String(100), nullable=False, index=True),
    Column("status", String(40), nullable=False, index=True),
    Column("open311_status", String(10), nullable=False),
    Column("category_code", String(100), nullable=False, index=True),
    Column("compound_id", String(100), nullable=False, index=True),
    Column("building", String(50)),
    Column("unit", String(50)),
    Column("channel", String(40), nullable=False),
    Column("hotline_reference", String(40)),
    Column("priority", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("assignee_kind", String(40)),
    Column("assignee_id", String(100), index=True),
    Column("assignee_name", String(200)),
    Column("deadline_number", Integer, nullable=False),
    Column("due_at", String(32), nullable=False, index=True),
    Column("paused_at", String(32)),
    Column("deadline_applies", Boolean, nullable=False),
    Column("overdue_marked", Boolean, nullable=False),
    Column("ever_overdue", Boolean, nullable=False),
    Column("filed_at", String(32), nullable=False, index=True),
    Column("acknowledged_at", String(32)),
    Column("resolved_at", String(32)),
    Column("first_resolved_at", String(32)),
    Column("closed_at", String(32)),
    Column("last_outcome", String(40)),
    Column("satisfaction", Integer),
    Column("reopen_count", Integer, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("agreement_id", String(100)),
    Column("duplicate_of", String(100)),
    Column("reporter_ref", String(100), nullable=False, index=True),
    Column("reporter_name_enc", Text),
    Column("reporter_phone_enc", Text),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)
Index("ix_complaint_view_open_due", complaint_view.c.deadline_applies, complaint_view.c.due_at)


def instant(value: datetime | None) -> str | None:
    """The one text shape of an instant in the read model: UTC, microseconds, ``+00:00`` (sorts as text)."""
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def row_of(state: ComplaintState, previous: dict[str, object] | None) -> dict[str, object]:
    ever_overdue = state.clock.overdue_marked or bool(previous and previous.get("ever_overdue"))
    first_resolved = (previous or {}).get("first_resolved_at") or instant(state.resolved_at)
    return {
        "complaint_id": state.complaint_id,
        "case_id": state.case_id,
        "status": state.status.value,
        "open311_status": state.open311_status.value,
        "category_code": state.category_code,
        "compound_id": state.compound_id,
        "building": state.building,
        "unit": state.unit,
        "channel": state.channel.value,
        "hotline_reference": state.hotline_reference,
        "priority": state.priority.value,
        "description": state.description,
        "assignee_kind": state.assignee.kind.value if state.assignee else None,
        "assignee_id": state.assignee.id if state.assignee else None,
        "assignee_name": state.assignee.name if state.assignee else None,
        "deadline_number": state.clock.number,
        "due_at": instant(state.clock.due_at),
        "paused_at": instant(state.clock.paused_at),
        "deadline_applies": state.status in DEADLINE_APPLIES,
        "overdue_marked": state.clock.overdue_marked,
        "ever_overdue": ever_overdue,
        "filed_at": instant(state.filed_at),
        "acknowledged_at": instant(state.acknowledged_at),
        "resolved_at": instant(state.resolved_at),
        "first_resolved_at": first_resolved,
        "closed_at": instant(state.closed_at),
        "last_outcome": state.last_call_back.outcome.value if state.last_call_back else None,
        "satisfaction": state.last_call_back.satisfaction if state.last_call_back else None,
        "reopen_count": state.reopen_count,
        "escalated": state.escalation_count > 0,
        "agreement_id": state.agreement_id,
        "duplicate_of": state.duplicate_of,
        "reporter_ref": state.reporter_ref,
        "reporter_name_enc": state.reporter_name_enc,
        "reporter_phone_enc": state.reporter_phone_enc,
        "version": state.version,
        "updated_at": instant(state.updated_at),
    }


class ComplaintListProjection(Projection):
    """Folds each complaint event into its row through the domain's own ``apply``.

    The states of recently changed complaints are cached, so an event costs one fold, not a replay of the stream;
    a cache entry that is not exactly one version behind (another process wrote meanwhile) is replayed instead.
    """

    name = "complaint_list"
    tables = (complaint_view,)

    def __init__(self, cache_size: int = 10_000) -> None:
        self._states: OrderedDict[str, ComplaintState] = OrderedDict()
        self._cache_size = cache_size

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        if not event.stream.startswith(AGGREGATE + "."):
            return
        complaint_id = event.envelope.subject
        domain_event = registry.decode(event.type, event.data)
        cached = self._states.get(complaint_id)
        if cached is not None and cached.version == event.envelope.streamversion - 1:
            state = apply(cached, domain_event)
        else:
            state = await self._replay_until(conn, complaint_id, event.envelope.streamversion)
        self._remember(complaint_id, state)
        previous = await self._row(conn, complaint_id)
        await _upsert(conn, row_of(state, previous))

    async def _replay_until(self, conn: AsyncConnection, complaint_id: str, version: int) -> ComplaintState:
        rows = (
            await conn.execute(
                select(events.c.type, events.c.data)
                .where(events.c.stream == f"{AGGREGATE}.{complaint_id}", events.c.stream_version <= version)
                .order_by(events.c.stream_version)
            )
        ).all()
        return replay(registry.decode(row.type, json.loads(row.data)) for row in rows)

    def _remember(self, complaint_id: str, state: ComplaintState) -> None:
        self._states[complaint_id] = state
        self._states.move_to_end(complaint_id)
        while len(self._states) > self._cache_size:
            self._states.popitem(last=False)

    def forget(self) -> None:
        self._states.clear()

    async def _row(self, conn: AsyncConnection, complaint_id: str) -> dict[str, object] | None:
        row = (await conn.execute(select(complaint_view).where(complaint_view.c.complaint_id == complaint_id))).first()
        return dict(row._mapping) if row else None


def _build_upsert(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(complaint_view)
    return statement.on_conflict_do_update(
        index_elements=[complaint_view.c.complaint_id],
        set_={
            column.name: statement.excluded[column.name] for column in complaint_view.c if column.name != "complaint_id"
        },
    )


# Built once per dialect and executed with each row as parameters: building it per event cost ~2 ms of CPU.
_UPSERTS = {dialect: _build_upsert(dialect) for dialect in ("sqlite", "postgresql")}


async def _upsert(conn: AsyncConnection, row: dict[str, object]) -> None:
    await conn.execute(_UPSERTS[conn.dialect.name], row)
