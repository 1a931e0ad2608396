"""Small helpers the views share: one text form for instants, and insert-or-update on one connection."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events.envelope import CloudEvent


def utc_text(value: object) -> str | None:
    """An instant as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (so that instants compare as text), or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")


def occurred_at(event: CloudEvent) -> str:
    return utc_text(event.data.get("occurred_at")) or utc_text(event.time) or event.time


def text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def integer(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def upsert(conn: AsyncConnection, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the row with ``key``, or insert it with ``key | values``."""
    condition = [table.c[name] == value for name, value in key.items()]
    result = await conn.execute(update(table).where(*condition).values(**values))
    if result.rowcount == 0:
        await conn.execute(insert(table).values(**key, **values))


async def fetch(conn: AsyncConnection, table: Table, **key: Any) -> dict[str, Any] | None:
    row = (await conn.execute(select(table).where(*[table.c[n] == v for n, v in key.items()]))).first()
    return dict(row._mapping) if row else None


async def change(conn: AsyncConnection, table: Table, key: dict[str, Any], **values: Any) -> None:
    """Update an existing row (nothing happens when the row is missing: its creating event was not seen)."""
    await conn.execute(update(table).where(*[table.c[n] == v for n, v in key.items()]).values(**values))
