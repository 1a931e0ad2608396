"""Projection rebuild (``store.rebuild_projections()`` of the complaints service) beside reading the same rows with
plain SQL (the standard library's ``sqlite3``, the same batches in log order), on the same file."""

import sqlite3
import time
from pathlib import Path

from complaints.bootstrap import build_store

BATCH = 10_000  # rebuild_projections' default batch


def plain_sql_read(database: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count, after = 0, 0
    with sqlite3.connect(database) as connection:
        while True:
            rows = connection.execute(
                "SELECT * FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?", (after, BATCH)
            ).fetchall()
            if not rows:
                break
            count += len(rows)
            after = rows[-1][0]
    return count, time.perf_counter() - started


async def rebuild(database_url: str, *, at_least_seconds: float = 0.0) -> tuple[int, float]:
    """``rebuild_projections()`` on the store: events rebuilt and seconds taken. With ``at_least_seconds``, rebuilt
    again and again until that long has passed (for the profiler: a rebuild of 10k events now takes a fraction of
    the process's start-up), the events summed."""
    store = build_store(database_url)
    try:
        await store.create_schema()
        started = time.perf_counter()
        count = await store.rebuild_projections()
        while time.perf_counter() - started < at_least_seconds:
            count += await store.rebuild_projections()
        return count, time.perf_counter() - started
    finally:
        await store.close()


if __name__ == "__main__":  # python -m bench.rebuild URL [SECONDS]: rebuilds for the profiler
    import asyncio
    import sys

    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    count, seconds = asyncio.run(rebuild(sys.argv[1], at_least_seconds=seconds))
    print(f"rebuilt {count} events in {seconds:.2f}s: {count / seconds:.0f} events/s")
