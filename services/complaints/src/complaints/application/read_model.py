"""The complaints list: one row per complaint, kept in step with its events in the same transaction.

Rows hold personal data only as the sealed text and the person reference, as the events do.
Times are stored as ISO 8601 UTC strings of one fixed shape, so they compare and sort as text.
"""

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Final

from pydantic_core import from_json
from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from complaints.domain import (
    AGGREGATE,
    CallBackRecorded,
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintEscalatedToMediation,
    ComplaintEvent,
    ComplaintFiled,
    ComplaintLinkedToCase,
    ComplaintMarkedDuplicate,
    ComplaintMarkedOverdue,
    ComplaintReassigned,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResolvedByAgreement,
    ComplaintReturnedFromMediation,
    ComplaintState,
    ComplaintWithdrawn,
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    InformationReceived,
    InformationRequested,
    NoteAdded,
    registry,
)
from complaints.domain.state import replay
from complaints.domain.status import DEADLINE_APPLIES, Status, open311_status
from jinlin.store import StoredEvent
from jinlin.store.projection import LogBatch, Projection
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


# -- the row fold -------------------------------------------------------------------------------------------------
#
# The row holds everything its own next version depends on, so each event is folded into the row itself, from the
# event's stored data: no pydantic model, no domain state, no reading back. ``row_of`` over the domain's state is
# the specification, and the fallback: an event the fold does not know (a new type, an older version to upcast) or
# finds anything unusual in is folded through the domain instead (``_Unfoldable``). Tests hold the two equal over
# every kind of history (services/complaints/tests/application/test_read_model.py).

Row = dict[str, Any]

_STREAM_PREFIX: Final = AGGREGATE + "."
_FILED, _ACKNOWLEDGED, _ASSIGNED = Status.FILED.value, Status.ACKNOWLEDGED.value, Status.ASSIGNED.value
_OPEN311: Final = {status.value: open311_status(status).value for status in Status}
_DEADLINE_APPLIES: Final = frozenset(status.value for status in DEADLINE_APPLIES)
# An instant as pydantic writes it: RFC 3339, UTC with a "Z" (made in place), or with an offset. Anything else, the
# domain decodes.
_UTC_INSTANT: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))?Z")
_OFFSET_INSTANT: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?[+-][0-9]{2}:[0-9]{2}"
)


def _loads(text: str) -> Any:
    """An event's stored JSON data: pydantic-core's parser (twice as fast), the standard library's for what it refuses
    (the two agree on everything else)."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


class _Unfoldable(Exception):
    """The row fold cannot take this event: fold it through the domain."""


def _instant_text(value: object) -> str:
    """An event's stored instant in the read model's shape: what ``instant`` makes of the decoded datetime."""
    if type(value) is not str:
        raise _Unfoldable
    try:
        utc = _UTC_INSTANT.fullmatch(value)
        if utc is not None:
            datetime.fromisoformat(value)  # the calendar's check: no 30 February, no hour 24
            whole, fraction = utc.groups()
            return f"{whole}.{(fraction or '').ljust(6, '0')}+00:00"
        if _OFFSET_INSTANT.fullmatch(value) is None:
            raise _Unfoldable
        return datetime.fromisoformat(value).astimezone(UTC).isoformat(timespec="microseconds")
    except (ValueError, OverflowError):
        raise _Unfoldable from None


def _filed_row(data: Mapping[str, Any], at: str) -> Row:
    complaint_id = data["complaint_id"]
    return {
        "complaint_id": complaint_id,
        "case_id": complaint_id,
        "status": _FILED,
        "open311_status": _OPEN311[_FILED],
        "category_code": data["category_code"],
        "compound_id": data["compound_id"],
        "building": data.get("building"),
        "unit": data.get("unit"),
        "channel": data["channel"],
        "hotline_reference": data.get("hotline_reference"),
        "priority": data["priority"],
        "description": data["description"],
        "assignee_kind": None,
        "assignee_id": None,
        "assignee_name": None,
        "deadline_number": 1,
        "due_at": _instant_text(data["due_at"]),
        "paused_at": None,
        "deadline_applies": _FILED in _DEADLINE_APPLIES,
        "overdue_marked": False,
        "ever_overdue": False,
        "filed_at": at,
        "acknowledged_at": None,
        "resolved_at": None,
        "first_resolved_at": None,
        "closed_at": None,
        "last_outcome": None,
        "satisfaction": None,
        "reopen_count": 0,
        "escalated": False,
        "agreement_id": None,
        "duplicate_of": None,
        "reporter_ref": data["reporter_ref"],
        "reporter_name_enc": data.get("reporter_name_enc"),
        "reporter_phone_enc": data.get("reporter_phone_enc"),
        "version": 1,
        "updated_at": at,
    }


def _handling_status(row: Row) -> str:
    # ComplaintState.handling_status
    return _ASSIGNED if row["assignee_kind"] is not None else _ACKNOWLEDGED


def _new_deadline(row: Row, data: Mapping[str, Any]) -> None:
    # DeadlineClock.next, after the domain's check that deadlines follow each other
    number = data["deadline_number"]
    if type(number) is not int or number != row["deadline_number"] + 1:
        raise _Unfoldable
    row["due_at"] = _instant_text(data["due_at"])
    row["deadline_number"] = number
    row["paused_at"] = None
    row["overdue_marked"] = False


def _unchanged(row: Row, data: Mapping[str, Any], at: str) -> None:
    pass


def _acknowledged(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = _ACKNOWLEDGED
    row["acknowledged_at"] = at


def _assigned(row: Row, data: Mapping[str, Any], at: str) -> None:
    assignee = data["assignee"]
    row["assignee_kind"], row["assignee_id"], row["assignee_name"] = assignee["kind"], assignee["id"], assignee["name"]
    if row["status"] == _ACKNOWLEDGED:
        row["status"] = _ASSIGNED


def _information_requested(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = Status.AWAITING_INFORMATION.value
    row["paused_at"] = at


def _information_received(row: Row, data: Mapping[str, Any], at: str) -> None:
    _new_deadline(row, data)
    row["status"] = _handling_status(row)


def _extension_approved(row: Row, data: Mapping[str, Any], at: str) -> None:
    _new_deadline(row, data)


def _resolved(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = Status.RESOLVED.value
    row["resolved_at"] = at


def _called_back(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["last_outcome"] = data["outcome"]
    row["satisfaction"] = data.get("satisfaction")


def _closed(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = Status.CLOSED.value
    row["closed_at"] = at


def _reopened(row: Row, data: Mapping[str, Any], at: str) -> None:
    _new_deadline(row, data)
    row["status"] = _handling_status(row)
    row["reopen_count"] += 1
    row["resolved_at"] = None


def _withdrawn(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = Status.WITHDRAWN.value
    row["closed_at"] = at


def _marked_overdue(row: Row, data: Mapping[str, Any], at: str) -> None:
    if data["deadline_number"] != row["deadline_number"]:
        raise _Unfoldable
    row["overdue_marked"] = True


def _marked_duplicate(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = Status.DUPLICATE.value
    row["duplicate_of"] = data["duplicate_of"]
    row["case_id"] = data["case_id"]
    row["closed_at"] = at


def _linked_to_case(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["case_id"] = data["case_id"]


def _escalated(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = Status.ESCALATED.value
    row["escalated"] = True


def _resolved_by_agreement(row: Row, data: Mapping[str, Any], at: str) -> None:
    row["status"] = Status.RESOLVED_BY_AGREEMENT.value
    row["agreement_id"] = data["agreement_id"]
    row["resolved_at"] = at


def _returned_from_mediation(row: Row, data: Mapping[str, Any], at: str) -> None:
    _new_deadline(row, data)
    row["status"] = _handling_status(row)


Step = Callable[[Row, Mapping[str, Any], str], None]

# Each step is written for one version of its event's data: a newer version folds through the domain (and a test
# fails) until its step is revised.
_STEPS_BY_MODEL: Final[tuple[tuple[type[ComplaintEvent], int, Step], ...]] = (
    (ComplaintAcknowledged, 1, _acknowledged),
    (ComplaintAssigned, 1, _assigned),
    (ComplaintReassigned, 1, _assigned),
    (NoteAdded, 1, _unchanged),
    (InformationRequested, 1, _information_requested),
    (InformationReceived, 1, _information_received),
    (ExtensionRequested, 1, _unchanged),
    (ExtensionApproved, 1, _extension_approved),
    (ExtensionRefused, 1, _unchanged),
    (ComplaintResolved, 1, _resolved),
    (CallBackRecorded, 1, _called_back),
    (ComplaintClosed, 1, _closed),
    (ComplaintReopened, 1, _reopened),
    (ComplaintWithdrawn, 1, _withdrawn),
    (ComplaintMarkedOverdue, 1, _marked_overdue),
    (ComplaintMarkedDuplicate, 1, _marked_duplicate),
    (ComplaintLinkedToCase, 1, _linked_to_case),
    (ComplaintEscalatedToMediation, 1, _escalated),
    (ComplaintResolvedByAgreement, 1, _resolved_by_agreement),
    (ComplaintReturnedFromMediation, 1, _returned_from_mediation),
)
_STEPS: Final[dict[str, Step]] = {
    registry.type_of(model): step for model, version, step in _STEPS_BY_MODEL if model.event_version == version
}
_FILED_TYPE: Final = registry.type_of(ComplaintFiled) if ComplaintFiled.event_version == 1 else None


def fold_row(previous: Row | None, type_: str, data: Mapping[str, Any], version: int) -> Row:
    """The row after the complaint's event number ``version``, given the row before it (``None`` before the filing).

    Equal to ``row_of(apply(state, decoded event), previous)``; raises ``_Unfoldable`` where it cannot tell (then
    ``previous`` is untouched).
    """
    try:
        at = _instant_text(data["occurred_at"])
        if previous is None:
            if type_ != _FILED_TYPE or version != 1:
                raise _Unfoldable
            return _filed_row(data, at)
        step = _STEPS.get(type_)
        if step is None or version != previous["version"] + 1 or data["complaint_id"] != previous["complaint_id"]:
            raise _Unfoldable
        row = dict(previous)
        step(row, data, at)
    except (KeyError, TypeError):
        raise _Unfoldable from None
    status = row["status"]
    row["open311_status"] = _OPEN311[status]
    row["deadline_applies"] = status in _DEADLINE_APPLIES
    row["ever_overdue"] = row["overdue_marked"] or row["ever_overdue"]
    row["first_resolved_at"] = row["first_resolved_at"] or row["resolved_at"]
    row["version"] = version
    row["updated_at"] = at
    return row


# -- the projection ------------------------------------------------------------------------------------------------

_READ_ROW = select(complaint_view).where(complaint_view.c.complaint_id == bindparam("complaint_id"))
_READ_ROWS = select(complaint_view).where(complaint_view.c.complaint_id.in_(bindparam("ids", expanding=True)))
_STREAM_UP_TO = (
    select(events.c.stream_version, events.c.type, events.c.data)
    .where(events.c.stream == bindparam("stream"), events.c.stream_version <= bindparam("version"))
    .order_by(events.c.stream_version)
)
_READ_CHUNK: Final = 1000  # complaint ids per query (well under every driver's limit of bound parameters)


class ComplaintListProjection(Projection):
    """Folds each complaint event into its row (see ``fold_row``), one upsert per event; a rebuild folds a batch of
    the log at once and writes each complaint's last row of the batch once.

    The rows of recently changed complaints are kept (a bounded cache), so an event needs no reading back: a kept
    row that is not exactly one version behind (another process wrote meanwhile) is read from the table, and one
    that is not there either is folded again from the complaint's stream. The store calls ``forget`` after every
    rollback (a kept row may then hold events that never happened), before a rebuild and when one fails.
    """

    name = "complaint_list"
    tables = (complaint_view,)

    def __init__(self, cache_size: int = 10_000) -> None:
        self._rows: OrderedDict[str, Row] = OrderedDict()
        self._cache_size = cache_size

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        if not event.stream.startswith(_STREAM_PREFIX):
            return
        complaint_id = event.envelope.subject
        version = event.envelope.streamversion
        previous = await self._row_before(conn, complaint_id, version)
        try:
            row = fold_row(previous, event.type, event.data, version)
        except _Unfoldable:
            row = await _domain_row(conn, complaint_id, version, previous)
        self._remember(complaint_id, row)
        await _write(conn, [row])

    async def apply_batch(self, conn: AsyncConnection, batch: LogBatch) -> None:
        columns = batch.columns("stream", "subject", "stream_version", "type", "data")
        # The batch's events by complaint, in log order: only each complaint's own order matters.
        by_complaint: dict[str, list[tuple[int, str, str]]] = {}
        for stream, subject, version, type_, data in map(columns, batch.rows):
            if stream.startswith(_STREAM_PREFIX):
                found = by_complaint.get(subject)
                if found is None:
                    by_complaint[subject] = [(version, type_, data)]
                else:
                    found.append((version, type_, data))
        if not by_complaint:
            return
        before = await self._rows_before(conn, {cid: found[0][0] for cid, found in by_complaint.items()})
        folded: list[Row] = []
        loads = _loads
        for complaint_id, found in by_complaint.items():
            row = before[complaint_id]
            for version, type_, data in found:
                try:
                    row = fold_row(row, type_, loads(data), version)
                except _Unfoldable:
                    row = await _domain_row(conn, complaint_id, version, row)
            assert row is not None
            folded.append(row)
            self._remember(complaint_id, row)
        await _write(conn, folded)

    def forget(self) -> None:
        self._rows.clear()

    def _remember(self, complaint_id: str, row: Row) -> None:
        self._rows[complaint_id] = row
        self._rows.move_to_end(complaint_id)
        if len(self._rows) > self._cache_size:
            self._rows.popitem(last=False)

    def _kept(self, complaint_id: str, version: int) -> Row | None:
        kept = self._rows.get(complaint_id)
        return kept if kept is not None and kept["version"] == version else None

    async def _row_before(self, conn: AsyncConnection, complaint_id: str, version: int) -> Row | None:
        """The complaint's row as of its event ``version - 1`` (``None`` before the filing)."""
        return (await self._rows_before(conn, {complaint_id: version}))[complaint_id]

    async def _rows_before(self, conn: AsyncConnection, first_versions: dict[str, int]) -> dict[str, Row | None]:
        """Each complaint's row as of the event before the one given: kept, else read (one query for all), else
        folded again from its stream."""
        before: dict[str, Row | None] = {}
        unknown: list[str] = []
        for complaint_id, version in first_versions.items():
            if version == 1:
                before[complaint_id] = None
            elif (kept := self._kept(complaint_id, version - 1)) is not None:
                before[complaint_id] = kept
            else:
                unknown.append(complaint_id)
        for start in range(0, len(unknown), _READ_CHUNK):
            chunk = unknown[start : start + _READ_CHUNK]
            if len(chunk) == 1:  # the command path's case
                read = await conn.execute(_READ_ROW, {"complaint_id": chunk[0]})
            else:
                read = await conn.execute(_READ_ROWS, {"ids": chunk})
            for found in read.all():
                row = dict(found._mapping)
                if row["version"] == first_versions[row["complaint_id"]] - 1:
                    before[row["complaint_id"]] = row
        for complaint_id in unknown:
            if complaint_id not in before:
                before[complaint_id] = await _row_from_stream(conn, complaint_id, first_versions[complaint_id] - 1)
        return before


async def _replay(conn: AsyncConnection, complaint_id: str, version: int) -> ComplaintState:
    stream = {"stream": _STREAM_PREFIX + complaint_id, "version": version}
    rows = (await conn.execute(_STREAM_UP_TO, stream)).all()
    return replay(registry.decode(row.type, json.loads(row.data)) for row in rows)


async def _domain_row(conn: AsyncConnection, complaint_id: str, version: int, previous: Row | None) -> Row:
    """The row after event ``version``, through the domain: its state replayed, then ``row_of``."""
    return row_of(await _replay(conn, complaint_id, version), previous)


async def _row_from_stream(conn: AsyncConnection, complaint_id: str, version: int) -> Row | None:
    """The row after the complaint's first ``version`` events, folded from its stream (no row at hand to go on)."""
    row: Row | None = None
    stream = {"stream": _STREAM_PREFIX + complaint_id, "version": version}
    for event in (await conn.execute(_STREAM_UP_TO, stream)).all():
        try:
            row = fold_row(row, event.type, json.loads(event.data), event.stream_version)
        except _Unfoldable:
            row = await _domain_row(conn, complaint_id, event.stream_version, row)
    return row


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
# ... and compiled once per dialect, its parameters in order: executed straight on the driver, rows as tuples.
_COMPILED: dict[tuple[str, str], tuple[str, Callable[[Row], tuple[Any, ...]]] | None] = {}


def _compiled_upsert(dialect: Dialect) -> tuple[str, Callable[[Row], tuple[Any, ...]]] | None:
    key = (dialect.name, dialect.paramstyle)
    if key not in _COMPILED:
        compiled = _UPSERTS[dialect.name].compile(dialect=dialect)
        names = compiled.positiontup
        # SQLAlchemy's own conversions are skipped: only text, integers and booleans (which every driver takes as
        # they are, the rows holding real ``bool``s), with positional parameters.
        plain = all(
            column.type.bind_processor(dialect) is None or isinstance(column.type, Boolean)
            for column in complaint_view.c
        )
        _COMPILED[key] = (compiled.string, itemgetter(*names)) if plain and names else None
    return _COMPILED[key]


async def _write(conn: AsyncConnection, rows: list[Row]) -> None:
    """Upsert the rows: one statement, executed once per row (``executemany``)."""
    compiled = _compiled_upsert(conn.dialect)
    if compiled is None:  # a driver with named parameters: through SQLAlchemy
        await conn.execute(_UPSERTS[conn.dialect.name], rows)
        return
    statement, parameters = compiled
    if len(rows) == 1:
        await conn.exec_driver_sql(statement, parameters(rows[0]))
    else:
        await conn.exec_driver_sql(statement, [parameters(row) for row in rows])
