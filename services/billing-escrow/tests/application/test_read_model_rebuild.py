"""Every read model rebuilt in batches, by a store that caches (nearly) nothing, gives the rows kept live; the
gathered writes of a batch leave the tables as the same writes made one by one (SQLite and PostgreSQL)."""

import random
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from billing_escrow.application.account_views import AccountProjection
from billing_escrow.application.handover_views import HandoverProjection
from billing_escrow.application.household_views import HouseholdProjection
from billing_escrow.application.read_model import ReadModels
from billing_escrow.application.rows import Writes
from billing_escrow.application.statement_views import StatementProjection
from billing_escrow.domain import registry
from jinlin.store import EventStore, create_engines

from ..conftest import ARREARS_CONDITION, COMPOUND, POWER_COMPANY, Desk, FakeClock, Running, as_role, ok

HOUSEHOLDS = {"h-301": 9_000, "h-302": 12_000, "h-401": 9_000}


async def step(
    client: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None, status: int = 200
) -> dict[str, Any]:
    return dict(ok(await client.post(path, json=body, headers=as_role("finance")), status))


async def play(client: httpx.AsyncClient, desk: Desk, clock: FakeClock) -> None:
    """Accounts, households with bills, a handover allocated, paid, metered and switched, payments out, a statement."""
    await desk.active_account("acc-elec")
    await desk.active_account("acc-prop", purpose="property_fee")
    for household, area in HOUSEHOLDS.items():
        await desk.household(household, floor_area_dm2=area)
    schedule = {"purpose": "property_fee", "unit_price": {"fen": 150, "per_units": 1}, "effective_from": "2026-09"}
    await step(client, "/households/h-301/fee-schedules", schedule)
    for period in ("2026-09", "2026-10"):
        await step(client, "/households/h-301/bills", {"bill_id": f"pf-{period}", "purpose": "property_fee",
                                                      "period": period})  # fmt: skip
    await step(client, "/households/h-301/bills/pf-2026-10/cancel", {"reason": "面积登记有误"})
    await desk.pay("acc-prop", "h-301", 15_000)
    await step(client, "/handovers", {"compound_id": COMPOUND}, 201)
    handover = f"/handovers/{COMPOUND}"
    vote = {"held_on": "2026-10-25", "eligible": 3, "in_favour": 3, "against": 0, "abstained": 0, "passed": True,
            "resolution_reference": "金园华庭业主大会决议〔2026〕1号"}  # fmt: skip
    await step(client, f"{handover}/owners-vote", vote)
    await step(client, f"{handover}/escrow", {"account_id": "acc-elec"})
    arrears = {"amount_fen": 90_001, "creditor": POWER_COMPANY, "master_meter_number": "TC-0093-MASTER",
               "confirmation_reference": "国网天长〔2026〕欠费确认第17号", "as_of": "2026-10-31"}  # fmt: skip
    await step(client, f"{handover}/arrears", arrears)
    await step(client, f"{handover}/meters", {"household_id": "h-301", "meter_number": "M-301"})
    allocated = await step(client, f"{handover}/allocation", {"rule": "by_floor_area"})
    for line in allocated["household_breakdown"]:
        await desk.pay("acc-elec", line["household_id"], line["share_fen"])
    ok(await desk.request_disbursement("acc-elec", "d-arrears", 90_001, condition=ARREARS_CONDITION), 201)
    await desk.signed_and_executed("acc-elec", "d-arrears")
    for household in HOUSEHOLDS:
        await step(client, f"{handover}/meters", {"household_id": household, "meter_number": f"M-{household[-3:]}"})
        await step(client, f"{handover}/switches", {"household_id": household})
    await desk.pay("acc-elec", "h-302", 5_000)
    ok(await desk.request_disbursement("acc-elec", "d-2", 1_000), 201)
    clock.advance(days=1)
    statement = {"kind": "on_demand", "period_start": "2026-11-02", "period_end": "2026-11-02"}
    ok(await client.post("/accounts/acc-elec/statements", json=statement, headers=as_role("notary")), 201)


async def snapshot(store: EventStore) -> dict[str, list[tuple[object, ...]]]:
    tables = [table for projection in ReadModels().all() for table in projection.tables]
    async with store.engines.reader.connect() as conn:
        return {table.name: sorted(tuple(row) for row in (await conn.execute(select(table))).all()) for table in tables}


@pytest.mark.parametrize("batch_size", [1, 5, 10_000])
async def test_a_rebuild_in_batches_by_another_process_gives_the_live_rows(
    service: Running, desk: Desk, clock: FakeClock, database_url: str, batch_size: int
) -> None:
    client, context = service
    await play(client, desk, clock)
    live = await snapshot(context.store)
    assert all(live[name] for name in ("escrow_handover_household_view", "escrow_bill_view", "escrow_statement_view"))
    cold = [AccountProjection(1), HouseholdProjection(1), HandoverProjection(1), StatementProjection(1)]
    other = EventStore(create_engines(database_url), registry, projections=cold)
    try:
        assert await other.rebuild_projections(batch_size=batch_size) == await context.store.last_sequence()
    finally:
        await other.close()
    assert await snapshot(context.store) == live
    assert await context.store.rebuild_projections(batch_size=batch_size) == await context.store.last_sequence()
    assert await snapshot(context.store) == live


# -- gathered writes ------------------------------------------------------------------------------------------------

metadata = MetaData()
things = Table(
    "writes_things",
    metadata,
    Column("group", String(10), primary_key=True),
    Column("id", Integer, primary_key=True),
    Column("x", String(10)),
    Column("y", Integer),
)


def operations(rng: random.Random, existing: set[tuple[str, int]], count: int) -> list[tuple[str, Any]]:
    """Random upserts (whole or partial), inserts of keys not in the table and deletions by group."""
    present = set(existing)
    found: list[tuple[str, Any]] = []
    for _ in range(count):
        group, id_ = rng.choice("abc"), rng.randrange(4)
        kind = rng.choice(["upsert", "upsert", "partial", "keys", "insert", "delete"])
        if kind == "insert" and (group, id_) in present:
            kind = "upsert"
        if kind == "delete":
            found.append(("delete", group))
            present = {key for key in present if key[0] != group}
            continue
        row: dict[str, Any] = {"group": group, "id": id_, "x": rng.choice(["p", "q", None]), "y": rng.randrange(9)}
        if kind == "partial":
            del row[rng.choice(["x", "y"])]
        if kind == "keys":
            row = {"group": group, "id": id_}
        found.append((kind, row))
        present.add((group, id_))
    return found


def record(writes: Writes, operation: tuple[str, Any]) -> None:
    kind, argument = operation
    if kind == "delete":
        writes.delete(things, "group", argument)
    elif kind == "insert":
        writes.insert(things, argument)
    else:
        writes.upsert(things, argument, ["group", "id"])


@pytest.mark.parametrize("seed", range(12))
async def test_gathered_writes_leave_the_rows_that_writes_one_by_one_leave(database_url: str, seed: int) -> None:
    rng = random.Random(seed)
    engines = create_engines(database_url)
    try:
        async with engines.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
        initial = [{"group": g, "id": i, "x": "old", "y": 0} for g in "abc" for i in range(4) if rng.random() < 0.4]
        steps = operations(rng, {(row["group"], row["id"]) for row in initial}, rng.randrange(1, 30))
        results = []
        for gathered in (False, True):
            async with engines.writer.begin() as conn:
                await conn.execute(things.delete())
                if initial:
                    await conn.execute(things.insert(), initial)
                writes = Writes()
                for operation in steps:
                    record(writes, operation)
                    if not gathered:
                        await writes.flush(conn)
                await writes.flush(conn)
                rows = (await conn.execute(select(things).order_by(things.c.group, things.c.id))).all()
                results.append([tuple(row) for row in rows])
        assert results[1] == results[0], steps
    finally:
        async with engines.writer.begin() as conn:
            await conn.run_sync(metadata.drop_all)
        await engines.dispose()


def test_a_row_inserted_twice_is_refused_as_it_was() -> None:
    writes = Writes()
    writes.insert(things, {"group": "a", "id": 1, "x": "p", "y": 1})
    with pytest.raises(ValueError, match="inserted twice"):
        writes.insert(things, {"group": "a", "id": 1, "x": "q", "y": 2})
