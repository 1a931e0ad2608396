"""The read models: one row per case (the board), and its parties, meetings and obligations, kept in step with the
case's events in the same transaction, by folding them through the domain's own ``apply``.

Rows hold a resident party only as the person reference and the sealed name, as the events do. Instants are stored
as ISO 8601 UTC text of one fixed shape, so they compare and sort as text on SQLite and PostgreSQL alike.

``mediation_obligation_view`` doubles as the index of open terms that another service's event fulfils
(``fulfilled_by_type``, ``status``): the fulfilment consumer looks there instead of replaying every case.
"""

import json
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store import StoredEvent
from jinlin.store.projection import LogBatch
from jinlin.store.schema import events
from mediation.domain import (
    AGGREGATE,
    AgreementTookEffect,
    AttendanceRecorded,
    CaseOpened,
    CaseState,
    MeetingCancelled,
    MeetingRescheduled,
    MeetingScheduled,
    MinutesRecorded,
    ObligationDueDateExtended,
    ObligationFulfilled,
    ObligationMarkedOverdue,
    ObligationWaived,
    PartiesInvited,
    PartyAdded,
    PartyInformedOfRights,
    PartyRemoved,
    RsvpRecorded,
    apply,
    next_deadline,
    registry,
    replay,
)
from mediation.domain.events import CaseEvent

metadata = MetaData()

case_view = Table(
    "mediation_case_view",
    metadata,
    Column("case_id", String(100), primary_key=True),
    Column("status", String(40), nullable=False, index=True),
    Column("origin", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("compound_id", String(100), index=True),
    Column("category_code", String(100)),
    Column("complaint_ids", Text, nullable=False),  # a JSON list
    Column("mediator_id", String(100), index=True),
    Column("mediator_name", String(100)),
    Column("opened_at", String(32), nullable=False, index=True),
    Column("accepted_at", String(32)),
    Column("due_at", String(32)),
    Column("next_deadline", String(32), index=True),
    Column("ended_at", String(32)),
    Column("agreement_id", String(100)),
    Column("agreement_took_effect_at", String(32)),
    Column("confirmation_deadline", String(32)),
    Column("open_obligations", Integer, nullable=False),
    Column("obligations", Integer, nullable=False),
    Column("parties", Integer, nullable=False),
    Column("rounds", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

party_view = Table(
    "mediation_party_view",
    metadata,
    Column("case_id", String(100), primary_key=True),
    Column("party_id", String(100), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("organisation", String(200), index=True),
    Column("person_ref", String(100), index=True),
    Column("person_name_enc", Text),
    Column("joined_at", String(32), nullable=False),
    Column("rights_informed_at", String(32)),
)

meeting_view = Table(
    "mediation_meeting_view",
    metadata,
    Column("case_id", String(100), primary_key=True),
    Column("meeting_id", String(100), primary_key=True),
    Column("place", String(200), nullable=False),
    Column("starts_at", String(32), nullable=False, index=True),
    Column("ends_at", String(32), nullable=False),
    Column("status", String(20), nullable=False),
    Column("agenda", Text, nullable=False),  # JSON list
    Column("invited", Text, nullable=False),  # JSON list of party ids
    Column("rsvps", Text, nullable=False),  # JSON object party id -> yes/no/maybe
    Column("attendance", Text, nullable=False),  # JSON object party id -> bool
    Column("minutes_recorded", Boolean, nullable=False),
    Column("times_rescheduled", Integer, nullable=False),
)

obligation_view = Table(
    "mediation_obligation_view",
    metadata,
    Column("case_id", String(100), primary_key=True),
    Column("term_id", String(100), primary_key=True),
    Column("agreement_id", String(100), nullable=False),
    Column("obligor", String(100), nullable=False),  # the party id within the case
    Column("obligor_kind", String(40), nullable=False),
    Column("obligor_organisation", String(200), index=True),
    Column("obligor_person_ref", String(100), index=True),
    Column("what", Text, nullable=False),
    Column("evidence_required", Text, nullable=False),
    Column("term_due_at", String(32), nullable=False),  # as agreed
    Column("due_at", String(32), nullable=False),  # in force (later if the parties agreed an extension)
    Column("status", String(20), nullable=False),
    Column("overdue_marked", Boolean, nullable=False),
    Column("times_marked_overdue", Integer, nullable=False),
    Column("settled_at", String(32)),
    Column("evidence", Text, nullable=False),
    Column("fulfilled_by_service", String(50)),
    Column("fulfilled_by_type", String(200)),
    Column("fulfilled_by_match", Text),  # JSON object
    Column("fulfilling_event_id", String(200)),
    Column("waiver_reason", Text),
)
Index("ix_mediation_obligation_fulfilled_by", obligation_view.c.fulfilled_by_type, obligation_view.c.status)
Index("ix_mediation_obligation_open_due", obligation_view.c.status, obligation_view.c.due_at)

PARTY_EVENTS: Final = (CaseOpened, PartyAdded, PartyRemoved, PartyInformedOfRights)
MEETING_EVENTS: Final = (
    MeetingScheduled,
    MeetingRescheduled,
    MeetingCancelled,
    PartiesInvited,
    RsvpRecorded,
    AttendanceRecorded,
    MinutesRecorded,
)
OBLIGATION_EVENTS: Final = (
    AgreementTookEffect,
    ObligationFulfilled,
    ObligationMarkedOverdue,
    ObligationDueDateExtended,
    ObligationWaived,
)


def instant(value: datetime | None) -> str | None:
    """The one text shape of an instant in the read models: UTC, microseconds, ``+00:00`` (sorts as text)."""
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def case_row(state: CaseState) -> dict[str, Any]:
    agreement = state.agreement
    in_effect = agreement is not None and agreement.took_effect_at is not None
    return {
        "case_id": state.case_id,
        "status": state.status.value,
        "origin": state.origin.value,
        "reason": state.reason,
        "compound_id": state.compound_id,
        "category_code": state.category_code,
        "complaint_ids": json.dumps(list(state.complaint_ids)),
        "mediator_id": state.mediator.id if state.mediator else None,
        "mediator_name": state.mediator.name if state.mediator else None,
        "opened_at": instant(state.opened_at),
        "accepted_at": instant(state.accepted_at),
        "due_at": instant(state.due_at),
        "next_deadline": instant(next_deadline(state)),
        "ended_at": instant(state.ended_at),
        "agreement_id": agreement.agreement_id if agreement else None,
        "agreement_took_effect_at": instant(agreement.took_effect_at) if agreement else None,
        "confirmation_deadline": instant(agreement.confirmation_deadline) if agreement and in_effect else None,
        "open_obligations": len(state.unsettled_term_ids),
        "obligations": len(state.obligations),
        "parties": len(state.parties),
        "rounds": state.rounds,
        "version": state.version,
        "updated_at": instant(state.updated_at),
    }


def party_rows(state: CaseState) -> list[dict[str, Any]]:
    return [
        {
            "case_id": state.case_id,
            "party_id": party_id,
            "kind": record.party.kind.value,
            "organisation": record.party.organisation,
            "person_ref": record.party.person_ref,
            "person_name_enc": record.party.person_name_enc,
            "joined_at": instant(record.joined_at),
            "rights_informed_at": instant(record.rights_informed_at),
        }
        for party_id, record in state.parties.items()
    ]


def meeting_rows(state: CaseState) -> list[dict[str, Any]]:
    return [
        {
            "case_id": state.case_id,
            "meeting_id": meeting.meeting_id,
            "place": meeting.place,
            "starts_at": instant(meeting.starts_at),
            "ends_at": instant(meeting.ends_at),
            "status": meeting.status.value,
            "agenda": json.dumps(list(meeting.agenda), ensure_ascii=False),
            "invited": json.dumps(list(meeting.invited)),
            "rsvps": json.dumps({party: rsvp.value for party, rsvp in meeting.rsvps.items()}),
            "attendance": json.dumps(dict(meeting.attendance)),
            "minutes_recorded": meeting.minutes is not None,
            "times_rescheduled": meeting.times_rescheduled,
        }
        for meeting in state.meetings.values()
    ]


def obligation_rows(state: CaseState) -> list[dict[str, Any]]:
    agreement_id = state.agreement.agreement_id if state.agreement else ""
    rows = []
    for obligation in state.obligations.values():
        term = obligation.term
        obligor = state.party(term.obligor)
        fulfilled_by = term.fulfilled_by
        rows.append(
            {
                "case_id": state.case_id,
                "term_id": term.term_id,
                "agreement_id": agreement_id,
                "obligor": term.obligor,
                "obligor_kind": obligor.party.kind.value if obligor else "other",
                "obligor_organisation": obligor.party.organisation if obligor else None,
                "obligor_person_ref": obligor.party.person_ref if obligor else None,
                "what": term.what,
                "evidence_required": term.evidence_required,
                "term_due_at": instant(term.due_at),
                "due_at": instant(obligation.due_at),
                "status": obligation.status.value,
                "overdue_marked": obligation.overdue_marked,
                "times_marked_overdue": obligation.times_marked_overdue,
                "settled_at": instant(obligation.settled_at),
                "evidence": obligation.evidence,
                "fulfilled_by_service": fulfilled_by.service if fulfilled_by else None,
                "fulfilled_by_type": fulfilled_by.event_type if fulfilled_by else None,
                "fulfilled_by_match": json.dumps(fulfilled_by.match, ensure_ascii=False) if fulfilled_by else None,
                "fulfilling_event_id": obligation.fulfilling_event.event_id if obligation.fulfilling_event else None,
                "waiver_reason": obligation.waiver_reason,
            }
        )
    return rows


_STREAM_PREFIX: Final = AGGREGATE + "."
_DELETE_CHUNK: Final = 1000  # case ids per statement (well under every driver's limit of bound parameters)


class CaseProjection:
    """Folds each case event into the case's rows.

    The states of recently changed cases are cached, so an event costs one fold, not a replay of the stream; a cache
    entry that is not exactly one version behind (another process wrote meanwhile) is replayed instead. The parties,
    meetings and obligations of a case are rewritten only by the events that change them.

    A rebuild folds a batch of the log at once (``apply_batch``): each case's rows are written once per batch, from
    its last state, and its parties, meetings and obligations from its state after the last event of the batch
    that changed them, which is what the event-by-event path leaves.
    """

    name = "mediation_cases"
    tables = (case_view, party_view, meeting_view, obligation_view)

    def __init__(self, cache_size: int = 10_000) -> None:
        self._states: OrderedDict[str, CaseState] = OrderedDict()
        self._cache_size = cache_size

    async def apply(self, conn: AsyncConnection, event: StoredEvent) -> None:
        if not event.stream.startswith(_STREAM_PREFIX):
            return
        case_id = event.envelope.subject
        domain_event = registry.decode(event.type, event.data)
        assert isinstance(domain_event, CaseEvent)
        cached = self._states.get(case_id)
        if cached is not None and cached.version == event.envelope.streamversion - 1:
            state = apply(cached, domain_event)
        else:
            state = await self._replay_until(conn, case_id, event.envelope.streamversion)
        self._remember(case_id, state)
        await conn.execute(_CASE_UPSERTS[conn.dialect.name], case_row(state))
        if isinstance(domain_event, PARTY_EVENTS):
            await _replace(conn, party_view, {case_id: party_rows(state)})
        if isinstance(domain_event, MEETING_EVENTS):
            await _replace(conn, meeting_view, {case_id: meeting_rows(state)})
        if isinstance(domain_event, OBLIGATION_EVENTS):
            await _replace(conn, obligation_view, {case_id: obligation_rows(state)})

    async def apply_batch(self, conn: AsyncConnection, batch: LogBatch) -> None:
        columns = batch.columns("stream", "subject", "stream_version", "type", "data")
        # The batch's events by case, in log order: only each case's own order matters.
        by_case: dict[str, list[tuple[int, str, str]]] = {}
        for stream, subject, version, type_, data in map(columns, batch.rows):
            if stream.startswith(_STREAM_PREFIX):
                by_case.setdefault(subject, []).append((version, type_, data))
        cases: list[dict[str, Any]] = []
        # Each case's state after the last event of the batch that changed these rows.
        parties: dict[str, CaseState] = {}
        meetings: dict[str, CaseState] = {}
        obligations: dict[str, CaseState] = {}
        for case_id, found in by_case.items():
            first = found[0][0]
            cached = self._states.get(case_id)
            state: CaseState | None
            if first == 1:
                state = None
            elif cached is not None and cached.version == first - 1:
                state = cached
            else:
                state = await self._replay_until(conn, case_id, first - 1)
            for _version, type_, data in found:
                domain_event = registry.decode(type_, json.loads(data))
                assert isinstance(domain_event, CaseEvent)
                state = apply(state, domain_event)
                if isinstance(domain_event, PARTY_EVENTS):
                    parties[case_id] = state
                if isinstance(domain_event, MEETING_EVENTS):
                    meetings[case_id] = state
                if isinstance(domain_event, OBLIGATION_EVENTS):
                    obligations[case_id] = state
            assert state is not None
            self._remember(case_id, state)
            cases.append(case_row(state))
        if cases:
            await conn.execute(_CASE_UPSERTS[conn.dialect.name], cases)
        await _replace(conn, party_view, {case_id: party_rows(s) for case_id, s in parties.items()})
        await _replace(conn, meeting_view, {case_id: meeting_rows(s) for case_id, s in meetings.items()})
        await _replace(conn, obligation_view, {case_id: obligation_rows(s) for case_id, s in obligations.items()})

    async def _replay_until(self, conn: AsyncConnection, case_id: str, version: int) -> CaseState:
        rows = (await conn.execute(_STREAM_UP_TO, {"stream": _STREAM_PREFIX + case_id, "version": version})).all()
        return replay(registry.decode(row.type, json.loads(row.data)) for row in rows)

    def _remember(self, case_id: str, state: CaseState) -> None:
        self._states[case_id] = state
        self._states.move_to_end(case_id)
        while len(self._states) > self._cache_size:
            self._states.popitem(last=False)

    def forget(self) -> None:
        self._states.clear()


_STREAM_UP_TO = (
    select(events.c.type, events.c.data)
    .where(events.c.stream == bindparam("stream"), events.c.stream_version <= bindparam("version"))
    .order_by(events.c.stream_version)
)


def _build_case_upsert(dialect: str) -> Any:
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_(case_view)
    return statement.on_conflict_do_update(
        index_elements=[case_view.c.case_id],
        set_={column.name: statement.excluded[column.name] for column in case_view.c if column.name != "case_id"},
    )


# Built once per dialect and executed with each row as parameters (``case_row`` gives every column): building and
# cache-keying the statement per event cost more than running it.
_CASE_UPSERTS: Final = {dialect: _build_case_upsert(dialect) for dialect in ("sqlite", "postgresql")}


async def _replace(conn: AsyncConnection, table: Table, rows_by_case: dict[str, list[dict[str, Any]]]) -> None:
    """Each case's rows of ``table`` replaced by the ones given."""
    case_ids = list(rows_by_case)
    for start in range(0, len(case_ids), _DELETE_CHUNK):
        await conn.execute(delete(table).where(table.c.case_id.in_(case_ids[start : start + _DELETE_CHUNK])))
    rows = [row for case_rows in rows_by_case.values() for row in case_rows]
    if rows:
        await conn.execute(insert(table), rows)
