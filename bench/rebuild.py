"""Projection rebuild (``store.rebuild_projections()`` of the complaints service) beside reading the same rows with
plain SQL (the standard library's ``sqlite3``, the same batches in log order), on the same file."""

import sqlite3
import time
from pathlib import Path

from complaints.bootstrap import build_store

BATCH = 5000  # rebuild_projections' default batch


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


async def rebuild(database_url: str) -> tuple[int, float]:
    store = build_store(database_url)
    try:
        await store.create_schema()
        started = time.perf_counter()
        count = await store.rebuild_projections()
        return count, time.perf_counter() - started
    finally:
        await store.close()


if __name__ == "__main__":  # python -m bench.rebuild URL: one rebuild, for the profiler
    import asyncio
    import sys

    count, seconds = asyncio.run(rebuild(sys.argv[1]))
    print(f"rebuilt {count} events in {seconds:.2f}s: {count / seconds:.0f} events/s")
