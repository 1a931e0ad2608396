"""The case timeline and its evidence file, assembled from the console's event log."""

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from staff_console.application import queries
from staff_console.application.case_trail import case_events
from staff_console.domain.evidence import FORMAT
from staff_console.domain.timeline import TimelineEntry, build_timeline, causal_order


async def case_timeline(conn: AsyncConnection, case_id: str, services: Collection[str]) -> list[TimelineEntry]:
    events = [event for event in await case_events(conn, case_id) if event.service in services]
    positions = [(e.service, e.sequence + step) for e in events for step in (-1, 1)]
    return build_timeline(events, await queries.chain_links(conn, positions))


async def evidence_document(
    conn: AsyncConnection, case_id: str, services: Collection[str], *, exported_by: str
) -> dict[str, Any]:
    """The unsigned evidence document (``domain.evidence`` describes it); the caller signs it."""
    events = causal_order(event for event in await case_events(conn, case_id) if event.service in services)
    sequences: dict[str, list[int]] = defaultdict(list)
    for event in events:
        sequences[event.service].append(event.sequence)
    heads = await queries.chain_heads(conn)
    chains: dict[str, Any] = {}
    for service, held in sorted(sequences.items()):
        # From the event before the case's first one (its hash is the first one's prevhash) to the case's last.
        links = await queries.chain_segment(conn, service, max(1, min(held) - 1), max(held))
        chains[service] = {
            "links": [
                {"sequence": int(link["sequence"]), "hash": link["hash"], "prevhash": link["prevhash"]}
                for link in links
            ],
            "head": heads.get(service),
        }
    return {
        "format": FORMAT,
        "case_id": case_id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exported_by": exported_by,
        "events": [{"service": event.service, "envelope": event.envelope.model_dump(mode="json")} for event in events],
        "chains": chains,
    }
