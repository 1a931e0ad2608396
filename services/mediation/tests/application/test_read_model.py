"""The read models are a function of the log: rebuilt from the events, they are exactly what was kept in step."""

from typing import Any

import pytest
from sqlalchemy import select

from jinlin.store import EventStore, create_engines
from mediation.application.read_model import CaseProjection, case_view, meeting_view, obligation_view, party_view
from mediation.domain import registry

from ..conftest import Desk, FakeClock, Service


async def snapshot(service: Service) -> dict[str, list[dict[str, Any]]]:
    _client, context = service
    tables = {}
    async with context.store.engines.reader.connect() as conn:
        for table in (case_view, party_view, meeting_view, obligation_view):
            keys = [column for column in table.primary_key.columns]
            rows = (await conn.execute(select(table).order_by(*keys))).all()
            tables[table.name] = [dict(row._mapping) for row in rows]
    return tables


async def play_cases(desk: Desk, clock: FakeClock) -> None:
    await desk.agreed("case-1")
    await desk.post("case-1", "/obligations/t-arrears/fulfil", {"evidence": "结清证明"})
    await desk.accepted("case-2")
    starts = clock.now
    meeting = {"place": "服务站", "starts_at": starts.isoformat(), "ends_at": starts.replace(hour=5).isoformat()}
    await desk.post("case-2", "/meetings", meeting | {"agenda": ["议程"]})
    await desk.post("case-2", "/parties/party-4/remove", {"reason": "退出"})
    await desk.refer("case-3")


async def test_rebuilding_the_read_models_gives_the_same_rows(service: Service, desk: Desk, clock: FakeClock) -> None:
    _client, context = service
    await play_cases(desk, clock)
    before = await snapshot(service)
    assert len(before["mediation_case_view"]) == 3 and len(before["mediation_obligation_view"]) == 2
    assert len(before["mediation_meeting_view"]) == 1 and len(before["mediation_party_view"]) == 11
    assert await context.store.rebuild_projections() == await context.store.last_sequence()
    assert await snapshot(service) == before


@pytest.mark.parametrize("batch_size", [1, 3, 10_000])
async def test_a_rebuild_in_batches_by_another_process_gives_the_same_rows(
    service: Service, desk: Desk, clock: FakeClock, database_url: str, batch_size: int
) -> None:
    """Batches cut through cases; a store with (nearly) nothing cached replays what it does not hold."""
    _client, context = service
    await play_cases(desk, clock)
    before = await snapshot(service)
    other = EventStore(create_engines(database_url), registry, projections=[CaseProjection(cache_size=1)])
    try:
        rebuilt = await other.rebuild_projections(batch_size=batch_size)
    finally:
        await other.close()
    assert rebuilt == await context.store.last_sequence()
    assert await snapshot(service) == before
    # And the service goes on from the rebuilt rows.
    await desk.post(
        "case-2",
        "/meetings",
        {
            "place": "会议室",
            "starts_at": clock.now.isoformat(),
            "ends_at": clock.now.replace(hour=6).isoformat(),
            "agenda": ["再议"],
        },
    )
    after = await snapshot(service)
    assert await context.store.rebuild_projections(batch_size=batch_size) == await context.store.last_sequence()
    assert await snapshot(service) == after
