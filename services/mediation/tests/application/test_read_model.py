"""The read models are a function of the log: rebuilt from the events, they are exactly what was kept in step."""

from typing import Any

from sqlalchemy import select

from mediation.application.read_model import case_view, meeting_view, obligation_view, party_view

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


async def test_rebuilding_the_read_models_gives_the_same_rows(service: Service, desk: Desk, clock: FakeClock) -> None:
    _client, context = service
    await desk.agreed("case-1")
    await desk.post("case-1", "/obligations/t-arrears/fulfil", {"evidence": "结清证明"})
    await desk.accepted("case-2")
    starts = clock.now
    meeting = {"place": "服务站", "starts_at": starts.isoformat(), "ends_at": starts.replace(hour=5).isoformat()}
    await desk.post("case-2", "/meetings", meeting | {"agenda": ["议程"]})
    await desk.post("case-2", "/parties/party-4/remove", {"reason": "退出"})
    await desk.refer("case-3")
    before = await snapshot(service)
    assert len(before["mediation_case_view"]) == 3 and len(before["mediation_obligation_view"]) == 2
    assert len(before["mediation_meeting_view"]) == 1 and len(before["mediation_party_view"]) == 11
    assert await context.store.rebuild_projections() == await context.store.last_sequence()
    assert await snapshot(service) == before
