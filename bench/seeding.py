"""Seeding a complaints store of a given size, fast, through the store's own API.

Every seeded complaint has six events (filed, acknowledged, assigned, three notes), so it is still being handled:
the HTTP benchmark can add notes to it and the cross-service one can escalate it. The events come from the domain's
own decisions, so they are exactly what the service would have written; they are appended many complaints to a
transaction, without read models, and the read model is then built by ``rebuild_projections`` (itself measured).
Complaint ids are ``c-bench-000000``, ``c-bench-000001``, ... so that a wrk Lua script can name them.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from complaints.domain import (
    Assignee,
    AssigneeKind,
    Channel,
    ComplaintEvent,
    NoteVisibility,
    acknowledge,
    add_note,
    apply,
    assign,
    default_catalogue,
    file_complaint,
    registry,
)
from jinlin.store import CommandContext, EventStore, Stream, create_engines

EVENTS_PER_COMPLAINT = 6
COMPLAINTS_PER_TRANSACTION = 500
NOTE = "已联系保洁公司，约定明早清运楼道垃圾 — the cleaning company comes tomorrow morning"


def complaint_id(n: int) -> str:
    return f"c-bench-{n:06d}"


def complaint_events(n: int, at: datetime) -> list[ComplaintEvent]:
    """The six events of seeded complaint ``n``, decided by the domain."""
    new: list[ComplaintEvent] = file_complaint(
        CATALOGUE,
        complaint_id=complaint_id(n),
        category_code="hallway_cleaning",
        answers={"location": "stairwell", "problem": ["rubbish", "clutter"], "floor": str(1 + n % 18)},
        description="楼道垃圾三天没人清理，杂物堵塞楼梯间",
        channel=Channel.PHONE,
        compound_id=f"compound-{n % 40:02d}",
        building=f"{1 + n % 12}栋",
        unit=f"{1 + n % 4}单元",
        reporter_ref=f"p-bench-{n:06d}",
        at=at,
    )
    state = apply(None, new[0])
    steps = [
        lambda s: acknowledge(s, at=at + timedelta(seconds=1)),
        lambda s: assign(
            s,
            assignee=Assignee(kind=AssigneeKind.TEAM, id=f"station-{n % 40:02d}", name="物业服务站"),
            at=at + timedelta(seconds=2),
        ),
        *(
            (
                lambda s, i=i: add_note(
                    s, text=NOTE, visibility=NoteVisibility.INTERNAL, at=at + timedelta(seconds=3 + i)
                )
            )
            for i in range(3)
        ),
    ]
    for step in steps:
        decided = step(state)
        for event in decided:
            state = apply(state, event)
        new.extend(decided)
    return new


CATALOGUE = default_catalogue()


@dataclass(frozen=True)
class Seeded:
    database_url: str
    events: int
    complaints: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def seed_complaints(database_url: str, events: int, *, start: int = 0) -> Seeded:
    """Append ``events`` (rounded up to whole complaints) to the complaints store at ``database_url``."""
    complaints = -(-events // EVENTS_PER_COMPLAINT)
    # Recent enough that no deadline passes during the run: the overdue watcher then has nothing to write.
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    store = EventStore(create_engines(database_url), registry)  # no read models: rebuilt afterwards
    started = time.perf_counter()
    try:
        from complaints.application.read_model import metadata

        await store.create_schema(metadata)
        for first in range(start, start + complaints, COMPLAINTS_PER_TRANSACTION):
            last = min(first + COMPLAINTS_PER_TRANSACTION, start + complaints)
            async with store.transaction(CommandContext("staff:bench-seed", f"seed-{first}")) as tx:
                for n in range(first, last):
                    await tx.append(Stream("complaint", complaint_id(n)), 0, complaint_events(n, at))
    finally:
        await store.close()
    return Seeded(database_url, complaints * EVENTS_PER_COMPLAINT, complaints, time.perf_counter() - started)
