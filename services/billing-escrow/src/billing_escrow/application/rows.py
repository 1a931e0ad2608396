"""How the read models store values: instants and dates as fixed-shape text (they sort and compare as text on
SQLite and PostgreSQL alike), lists as JSON text, and rows written together (``Writes``)."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, delete
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


class Writes:
    """The rows a read model writes for one event (live) or for a whole batch of events (a rebuild), gathered and
    written together by ``flush``: the deletions first, then each row once, as its last write left it.

    That leaves the tables as the same writes made one by one would: a row written and then deleted is not written;
    one written after a deletion is written after it; two writes of one row are merged, the later one's columns
    winning. Rows inserted (``insert``) are inserted, so a key inserted twice is still an error, as it was.
    """

    def __init__(self) -> None:
        self._deleted: dict[Table, dict[str, set[Any]]] = {}
        self._rows: dict[Table, dict[tuple[Any, ...], _Pending]] = {}

    def upsert(self, table: Table, row: dict[str, Any], keys: Sequence[str]) -> None:
        """Insert the row, or update the columns given where its ``keys`` are taken."""
        self._put(table, row, tuple(keys), inserted=False)

    def insert(self, table: Table, *rows: dict[str, Any]) -> None:
        keys = tuple(column.name for column in table.primary_key.columns)
        for row in rows:
            self._put(table, row, keys, inserted=True)

    def delete(self, table: Table, column: str, value: Any) -> None:
        """Delete the rows whose ``column`` is ``value`` (those gathered so far, and those already in the table)."""
        pending = self._rows.get(table)
        if pending:
            for key in [key for key, found in pending.items() if found.row.get(column) == value]:
                del pending[key]
        self._deleted.setdefault(table, {}).setdefault(column, set()).add(value)

    def _put(self, table: Table, row: dict[str, Any], keys: tuple[str, ...], *, inserted: bool) -> None:
        pending = self._rows.setdefault(table, {})
        key = tuple(row[name] for name in keys)
        found = pending.get(key)
        if found is None:
            pending[key] = _Pending(dict(row), keys, inserted)
        elif inserted and found.inserted:
            raise ValueError(f"{table.name}: the row {key} is inserted twice")
        else:
            found.row.update(row)
            found.inserted = False

    async def flush(self, conn: AsyncConnection) -> None:
        dialect = conn.dialect.name
        for table, by_column in self._deleted.items():
            for column, values in by_column.items():
                ordered = sorted(values, key=repr)
                for start in range(0, len(ordered), _CHUNK):
                    await conn.execute(delete(table).where(table.c[column].in_(ordered[start : start + _CHUNK])))
        for table, pending in self._rows.items():
            groups: dict[tuple[tuple[str, ...], tuple[str, ...], bool], list[dict[str, Any]]] = {}
            for found in pending.values():
                groups.setdefault((tuple(sorted(found.row)), found.keys, found.inserted), []).append(found.row)
            for (columns, keys, inserted), rows in groups.items():
                await conn.execute(_statement(dialect, table, columns, keys, inserted), rows)
        self._deleted.clear()
        self._rows.clear()


@dataclass
class _Pending:
    row: dict[str, Any]
    keys: tuple[str, ...]
    inserted: bool  # only ever inserted: written with a plain INSERT


_CHUNK = 1000  # values per ``IN (...)`` (well under every driver's limit of bound parameters)


@cache
def _statement(dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...], inserted: bool) -> Any:
    """Built once per dialect, table and shape, executed with each row as parameters."""
    if inserted:
        return table.insert()
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    changes = {name: statement.excluded[name] for name in columns if name not in keys}
    index = [table.c[name] for name in keys]
    if changes:
        return statement.on_conflict_do_update(index_elements=index, set_=changes)
    return statement.on_conflict_do_nothing(index_elements=index)
