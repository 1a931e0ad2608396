"""The complaints list: the row fold equals ``row_of`` over the domain's state, and a rebuilt read model equals the one
built live, whatever the batches, the caches, other processes and rollbacks (SQLite and PostgreSQL)."""

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from sqlalchemy import select

from complaints.application import read_model
from complaints.application.changes import record
from complaints.application.read_model import (
    ComplaintListProjection,
    Row,
    complaint_view,
    fold_row,
    instant,
    metadata,
    row_of,
)
from complaints.domain import (
    Assignee,
    AssigneeKind,
    CallBackOutcome,
    Channel,
    ComplaintEvent,
    ComplaintFiled,
    ComplaintState,
    DomainError,
    NoteVisibility,
    Priority,
    acknowledge,
    add_note,
    apply,
    approve_extension,
    assign,
    default_catalogue,
    escalate_to_mediation,
    file_complaint,
    link_to_case,
    mark_duplicate,
    mark_overdue,
    record_call_back,
    record_information,
    record_mediation_agreement,
    refuse_extension,
    registry,
    request_extension,
    request_information,
    resolve,
    return_from_mediation,
    withdraw,
)
from complaints.domain.mediation import MediationParty, PartyRole
from jinlin.cli.main import cli
from jinlin.events.canonical import canonical_json
from jinlin.events.time import UtcDatetime
from jinlin.store import CommandContext, EventStore, create_engines

CATALOGUE = default_catalogue()
T0 = datetime(2026, 3, 3, 1, 0, 0, 120_000, tzinfo=UTC)
NAME_ENC = "pd1:Zm9vYmFyYmF6cXV4eHl6c2VhbGVkLW5hbWUtY2lwaGVydGV4dA=="
ASSIGNEES = [
    Assignee(kind=AssigneeKind.TEAM, id="station-1", name="物业服务站"),
    Assignee(kind=AssigneeKind.UTILITY, id="state-grid", name="国网天长市供电公司"),
    Assignee(kind=AssigneeKind.HANDLER, id="handler-1", name="王五"),
]
PARTIES = [MediationParty(role=PartyRole.PROPERTY_COMPANY, organisation="物业公司")]

# -- histories the domain itself decides -----------------------------------------------------------------------------

Command = Callable[[ComplaintState, datetime, int], list[ComplaintEvent]]

COMMANDS: dict[str, Command] = {
    "acknowledge": lambda s, at, v: acknowledge(s, at=at),
    "assign": lambda s, at, v: assign(s, assignee=ASSIGNEES[v % 3], at=at, reason="换人" if v % 2 else ""),
    "note": lambda s, at, v: add_note(s, text="已联系", visibility=list(NoteVisibility)[v % 2], at=at),
    "request_information": lambda s, at, v: request_information(s, question="几楼？", at=at),
    "record_information": lambda s, at, v: record_information(s, answer="三楼", at=at),
    "request_extension": lambda s, at, v: request_extension(
        s, reason="需要协调", requested_due_at=max(s.clock.due_at, at) + timedelta(days=1 + v % 3), at=at
    ),
    "approve_extension": lambda s, at, v: approve_extension(s, at=at, note="同意" if v % 2 else ""),
    "refuse_extension": lambda s, at, v: refuse_extension(s, reason="不批准", at=at),
    "resolve": lambda s, at, v: resolve(s, resolution_note="已处理", at=at),
    "call_back": lambda s, at, v: record_call_back(
        s, outcome=list(CallBackOutcome)[v % 5], satisfaction=(v % 6) or None, at=at
    ),
    "withdraw": lambda s, at, v: withdraw(s, at=at, reason="不需要了" if v % 2 else ""),
    "mark_overdue": lambda s, at, v: mark_overdue(s, at=at),
    "mark_duplicate": lambda s, at, v: mark_duplicate(
        s, duplicate_of="c-other", duplicate_of_case_id=["case-9", s.case_id][v % 2], at=at
    ),
    "link_to_case": lambda s, at, v: link_to_case(s, case_id=f"case-{v % 3}", at=at),
    "escalate": lambda s, at, v: escalate_to_mediation(
        s,
        reason="多次协调未果",
        parties=PARTIES,
        at=at,
        complaint_ids=None if s.in_own_case else (s.complaint_id, "c-other"),
    ),
    "agreement": lambda s, at, v: record_mediation_agreement(s, agreement_id=f"agreement-{v % 4}", at=at),
    "return": lambda s, at, v: return_from_mediation(s, at=at, reason="调解未成"),
}
NAMES = list(COMMANDS)


@dataclass
class Step:
    """One command of a history: the state it was decided on and the events it recorded."""

    before: ComplaintState | None
    events: list[ComplaintEvent]


def filing(complaint_id: str, variant: int, at: datetime) -> list[ComplaintEvent]:
    hotline = variant % 5 == 4
    return file_complaint(
        CATALOGUE,
        complaint_id=complaint_id,
        category_code=["hallway_cleaning", "electricity", "water"][variant % 3],
        answers=[
            {"location": "stairwell", "problem": ["rubbish"]},
            {"issue": "arrears"},
            {"issue": "no_water"},
        ][variant % 3],
        description="楼道垃圾三天没人清理" if variant % 2 else "  停电了  ",
        channel=Channel.HOTLINE_12345 if hotline else list(Channel)[variant % 3],
        hotline_reference="HL-20260303-0001" if hotline else None,
        priority=list(Priority)[variant % 3],
        compound_id="jinyuan-huating",
        building="3栋" if variant % 4 else None,
        unit="2单元" if variant % 4 == 1 else None,
        reporter_ref=f"p-{complaint_id}",
        reporter_name_enc=NAME_ENC if variant % 2 else None,
        at=at,
    )


def history(complaint_id: str, variant: int, steps: list[tuple[str, int, int]]) -> list[Step]:
    """The filing, then each ``(command, minutes later, variant)`` the domain accepts (the others are skipped)."""
    at = T0 + timedelta(microseconds=variant)
    first = filing(complaint_id, variant, at)
    state = apply(None, first[0])
    done = [Step(None, first)]
    for name, minutes, v in steps:
        at = at + timedelta(minutes=minutes, microseconds=v * 37)
        if name == "mark_overdue":
            at = max(at, state.clock.due_at + timedelta(seconds=1))
        try:
            new = COMMANDS[name](state, at, v)
        except DomainError:
            continue
        done.append(Step(state, new))
        for event in new:
            state = apply(state, event)
    return done


def events_of(steps: list[Step]) -> list[ComplaintEvent]:
    return [event for step in steps for event in step.events]


SCRIPTED: list[list[tuple[str, int, int]]] = [
    # Every kind of event at least once.
    [
        ("acknowledge", 5, 0),
        ("assign", 5, 0),
        ("note", 5, 1),
        ("request_information", 5, 0),
        ("record_information", 600, 0),
        ("request_extension", 5, 1),
        ("approve_extension", 5, 1),
        ("request_extension", 5, 0),
        ("refuse_extension", 5, 0),
        ("mark_overdue", 5, 0),
        ("assign", 5, 1),
        ("link_to_case", 5, 1),
        ("escalate", 5, 0),
        ("return", 5, 0),
        ("escalate", 5, 0),
        ("agreement", 5, 1),
        ("call_back", 5, 2),  # not fixed: reopened
        ("mark_overdue", 5, 0),
        ("resolve", 5, 0),
        ("call_back", 5, 0),  # fixed: closed
    ],
    [("acknowledge", 1, 0), ("withdraw", 1, 1)],
    [("mark_duplicate", 1, 0)],
    [("acknowledge", 1, 0), ("resolve", 1, 0), ("call_back", 1, 3), ("resolve", 1, 0), ("call_back", 1, 1)],
]


def random_steps(rng: random.Random, count: int) -> list[tuple[str, int, int]]:
    return [(rng.choice(NAMES), rng.choice([0, 1, 30, 600, 20_000]), rng.randrange(100)) for _ in range(count)]


def final_state(events: list[ComplaintEvent]) -> ComplaintState:
    state: ComplaintState | None = None
    for event in events:
        state = apply(state, event)
    assert state is not None
    return state


def reference_rows(events: list[ComplaintEvent]) -> Iterator[Row]:
    """The rows after each event, as the read model was specified: ``row_of`` over the domain's state."""
    state: ComplaintState | None = None
    row: Row | None = None
    for event in events:
        state = apply(state, event)
        row = row_of(state, row)
        yield row


# -- the fold, without a database -------------------------------------------------------------------------------------


def test_every_complaint_event_has_a_step_of_its_current_version() -> None:
    complaint_events = {registry.type_of(m) for m in registry.models() if issubclass(m, ComplaintEvent)}
    assert set(read_model._STEPS) == complaint_events - {registry.type_of(ComplaintFiled)}
    assert registry.type_of(ComplaintFiled) == read_model._FILED_TYPE


def test_the_scripted_histories_hold_every_kind_of_event() -> None:
    types = {
        registry.type_of(e) for n, steps in enumerate(SCRIPTED) for e in events_of(history(f"c-{n}", n + 1, steps))
    }
    assert types == {registry.type_of(m) for m in registry.models() if issubclass(m, ComplaintEvent)}


def fold_all(events: list[ComplaintEvent]) -> Iterator[Row]:
    row: Row | None = None
    for version, event in enumerate(events, start=1):
        # As the store hands it over live, and as the log holds it (canonical JSON text).
        live = json.loads(event.model_dump_json())
        stored = read_model._loads(canonical_json(live).decode())
        assert stored == live
        folded = fold_row(row, registry.type_of(event), stored, version)
        assert row is None or folded is not row, "the row before is never changed"
        row = folded
        yield row


@pytest.mark.parametrize("n", range(len(SCRIPTED)))
def test_the_fold_equals_row_of_over_the_domain_state_scripted(n: int) -> None:
    events = events_of(history("c-1", n + 1, SCRIPTED[n]))
    assert list(fold_all(events)) == list(reference_rows(events))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.integers(0, 99),
    steps=st.lists(
        st.tuples(st.sampled_from(NAMES), st.sampled_from([0, 1, 30, 600, 20_000]), st.integers(0, 99)), max_size=40
    ),
)
def test_the_fold_equals_row_of_over_the_domain_state(variant: int, steps: list[tuple[str, int, int]]) -> None:
    events = events_of(history("c-1", variant, steps))
    assert list(fold_all(events)) == list(reference_rows(events))


UTC_DATETIME: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.timezones(), allow_imaginary=False
    )
)
def test_an_instant_as_stored_reads_as_the_domain_reads_it(moment: datetime) -> None:
    stored = json.loads(UTC_DATETIME.dump_json(moment))  # what an event's data holds
    assert read_model._instant_text(stored) == instant(UTC_DATETIME.validate_python(stored))
    offset = moment.isoformat()  # another shape pydantic accepts, with an offset
    if read_model._OFFSET_INSTANT.fullmatch(offset):
        assert read_model._instant_text(offset) == instant(UTC_DATETIME.validate_python(offset))


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T01:00:00Z",  # no such day
        "2026-03-03T24:00:00Z",
        "2026-03-03T01:00:60Z",
        "2026-03-03 01:00:00Z",
        "2026-W10-2T01:00:00Z",
        "20260303T010000Z",
        "2026-03-03T01:00:00",  # no timezone: the domain refuses it
        "2026-03-03T01:00:00.1234567Z",
        "2026-03-03T01:00:00+08:00:30",
        "2026-03-03T01:00:00,5Z",
        "１９９９-03-03T01:00:00Z",
        1772499600,
        None,
    ],
)
def test_an_unusual_instant_is_left_to_the_domain(text: object) -> None:
    with pytest.raises(read_model._Unfoldable):
        read_model._instant_text(text)


def test_an_event_the_fold_cannot_take_leaves_the_row_before_as_it_was() -> None:
    events = events_of(history("c-1", 1, [("acknowledge", 1, 0), ("assign", 1, 0)]))
    rows = list(fold_all(events[:2]))
    before = dict(rows[-1])
    data = json.loads(events[2].model_dump_json())
    for broken in ({**data, "assignee": {"kind": "team"}}, {**data, "complaint_id": "c-2"}, {**data, "occurred_at": 1}):
        with pytest.raises(read_model._Unfoldable):
            fold_row(rows[-1], registry.type_of(events[2]), broken, 3)
        assert rows[-1] == before
    with pytest.raises(read_model._Unfoldable):
        fold_row(rows[-1], registry.type_of(events[2]), data, 4)  # a version skipped
    with pytest.raises(read_model._Unfoldable):
        fold_row(None, registry.type_of(events[2]), data, 1)  # no filing first


# -- live and rebuilt, on the database ---------------------------------------------------------------------------------


def histories(count: int, seed: int) -> dict[str, list[Step]]:
    rng = random.Random(seed)
    found = {f"c-s{n}": history(f"c-s{n}", n + 1, steps) for n, steps in enumerate(SCRIPTED)}
    for n in range(count):
        found[f"c-r{n}"] = history(f"c-r{n}", rng.randrange(100), random_steps(rng, rng.randrange(1, 25)))
    return found


def interleaved(found: dict[str, list[Step]], seed: int) -> list[Step]:
    """Every history's commands, the histories shuffled together (each one's own order kept)."""
    rng = random.Random(seed)
    queues = {complaint_id: list(steps) for complaint_id, steps in found.items()}
    order: list[Step] = []
    while queues:
        complaint_id = rng.choice(sorted(queues))
        order.append(queues[complaint_id].pop(0))
        if not queues[complaint_id]:
            del queues[complaint_id]
    return order


def store_with(url: str, cache_size: int = 10_000) -> EventStore:
    return EventStore(create_engines(url), registry, projections=[ComplaintListProjection(cache_size=cache_size)])


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[list[EventStore]]:
    """Two "processes" on one database, one of them with a tiny cache; and a third that only rebuilds."""
    opened = [store_with(database_url), store_with(database_url, cache_size=2), store_with(database_url, cache_size=3)]
    await opened[0].create_schema(metadata)
    yield opened
    for store in opened:
        await store.close()


async def table_rows(store: EventStore) -> list[dict[str, Any]]:
    async with store.engines.reader.connect() as conn:
        rows = (await conn.execute(select(complaint_view).order_by(complaint_view.c.complaint_id))).all()
    return [dict(row._mapping) for row in rows]


async def play(stores: list[EventStore], steps: list[Step], seed: int) -> None:
    rng = random.Random(seed)
    for n, step in enumerate(steps):
        store = rng.choice(stores)
        async with store.transaction(CommandContext("staff:test", f"cmd-{n}")) as tx:
            await record(tx, step.before, step.events)


def expected_rows(found: dict[str, list[Step]]) -> list[dict[str, Any]]:
    return [list(reference_rows(events_of(found[complaint_id])))[-1] for complaint_id in sorted(found)]


async def test_the_live_read_model_is_the_specified_one_and_a_rebuild_gives_it_again(stores: list[EventStore]) -> None:
    found = histories(14, seed=1)
    await play(stores[:2], interleaved(found, seed=2), seed=3)
    live = await table_rows(stores[0])
    assert live == expected_rows(found)
    events = sum(len(events_of(steps)) for steps in found.values())
    for store, batch_size in ((stores[2], 5), (stores[2], 1), (stores[0], 10_000), (stores[1], 64)):
        assert await store.rebuild_projections(batch_size=batch_size) == events
        assert await table_rows(store) == live


async def test_events_the_fold_does_not_know_go_through_the_domain_live_and_rebuilt(
    stores: list[EventStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = {type_: step for n, (type_, step) in enumerate(read_model._STEPS.items()) if n % 2}
    monkeypatch.setattr(read_model, "_STEPS", kept)
    found = histories(6, seed=4)
    await play(stores[:2], interleaved(found, seed=5), seed=6)
    live = await table_rows(stores[0])
    assert live == expected_rows(found)
    monkeypatch.setattr(read_model, "_STEPS", {})
    assert await stores[2].rebuild_projections(batch_size=3) == sum(len(events_of(s)) for s in found.values())
    assert await table_rows(stores[2]) == live


async def test_a_row_read_back_or_folded_again_when_none_is_kept(stores: list[EventStore]) -> None:
    """A rebuild's batch meets complaints whose earlier events were in earlier batches: their rows are kept, read
    back from the table, or (when the table does not have them) folded again from their streams."""
    found = histories(5, seed=7)
    await play(stores[:1], interleaved(found, seed=8), seed=9)
    live = await table_rows(stores[0])
    projection = stores[2].projections[0]
    assert isinstance(projection, ComplaintListProjection)
    assert await stores[2].rebuild_projections(batch_size=4) == sum(len(events_of(s)) for s in found.values())
    assert await table_rows(stores[2]) == live
    # Live, with neither a kept row nor one in the table (the table emptied behind the store's back).
    extra = history("c-extra", 3, [("acknowledge", 1, 0), ("assign", 1, 0), ("note", 1, 0)])
    await play(stores[:1], extra, seed=0)
    async with stores[0].engines.writer.begin() as conn:
        await conn.execute(complaint_view.delete())
    stores[0].projections[0].forget()  # type: ignore[attr-defined]
    played = events_of(extra)
    state = final_state(played)
    more = add_note(state, text="补记", visibility=NoteVisibility.INTERNAL, at=state.updated_at + timedelta(hours=1))
    async with stores[0].transaction(CommandContext("staff:test", "cmd-more")) as tx:
        await record(tx, state, more)
    (row,) = await table_rows(stores[0])
    assert row == list(reference_rows([*played, *more]))[-1]


async def test_a_rolled_back_command_leaves_no_row_behind_in_any_cache(stores: list[EventStore]) -> None:
    """Process A folds an event, then rolls it back; process B appends another event at that version; A's next event
    must follow B's row, not the one it folded and dropped."""
    a, b = stores[0], stores[1]
    steps = history("c-1", 1, [("acknowledge", 1, 0), ("assign", 1, 0)])
    await play([a], steps, seed=0)
    state = final_state(events_of(steps))
    at = state.updated_at + timedelta(minutes=1)
    with pytest.raises(RuntimeError, match="after appending"):
        async with a.transaction(CommandContext("staff:test", "cmd-dropped")) as tx:
            await record(tx, state, resolve(state, resolution_note="已处理", at=at))
            raise RuntimeError("the command failed after appending")
    noted = add_note(state, text="已联系", visibility=NoteVisibility.INTERNAL, at=at)
    async with b.transaction(CommandContext("staff:test", "cmd-b")) as tx:
        after_b = await record(tx, state, noted)
    again = add_note(after_b, text="再联系", visibility=NoteVisibility.RESIDENT, at=at + timedelta(minutes=1))
    async with a.transaction(CommandContext("staff:test", "cmd-a")) as tx:
        await record(tx, after_b, again)
    (row,) = await table_rows(a)
    assert row == list(reference_rows([*events_of(steps), *noted, *again]))[-1]
    assert row["status"] == "assigned" and row["resolved_at"] is None


def test_the_rebuild_command_gives_the_live_read_model_again(sqlite_url: str) -> None:
    found = histories(4, seed=11)

    async def live_rows_then_emptied() -> list[dict[str, Any]]:
        store = store_with(sqlite_url)
        try:
            await store.create_schema(metadata)
            await play([store], interleaved(found, seed=12), seed=13)
            rows = await table_rows(store)
            async with store.engines.writer.begin() as conn:
                await conn.execute(complaint_view.delete())
            return rows
        finally:
            await store.close()

    async def rows_now() -> list[dict[str, Any]]:
        store = store_with(sqlite_url)
        try:
            return await table_rows(store)
        finally:
            await store.close()

    live = asyncio.run(live_rows_then_emptied())
    answer = CliRunner().invoke(cli, ["projections", "rebuild", "complaints", "--database-url", sqlite_url])
    assert answer.exit_code == 0, answer.output
    assert "complaints: rebuilt 1 projection(s) from" in answer.output
    assert asyncio.run(rows_now()) == live == expected_rows(found)
