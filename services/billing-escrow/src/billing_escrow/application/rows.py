"""How the read models store values: instants and dates as fixed-shape text (they sort and compare as text on
SQLite and PostgreSQL alike), lists as JSON text, and rows written by upsert."""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection


def instant(value: datetime | None) -> str | None:
    """The one text shape of an instant: UTC, microseconds, ``+00:00``."""
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def tokens(values: Sequence[str]) -> str:
    """``",a,b,"``: a set of tokens a query can test with ``LIKE '%,a,%'``."""
    return "," + "".join(f"{value}," for value in values)


def untokens(text: str | None) -> list[str]:
    return [value for value in (text or "").split(",") if value]


async def upsert(conn: AsyncConnection, table: Table, row: dict[str, Any], keys: Sequence[str]) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**row)
    changes = {name: statement.excluded[name] for name in row if name not in keys}
    if changes:
        statement = statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys], set_=changes)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=[table.c[k] for k in keys])
    await conn.execute(statement)
