"""The event store: appends under one write lock, reads in log order."""

import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, Row, bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.events.base import DomainEvent
from jinlin.events.canonical import canonical_json
from jinlin.events.chain import GENESIS_HASH, event_hash
from jinlin.events.envelope import CloudEvent
from jinlin.events.registry import EventRegistry
from jinlin.store.engine import StoreEngines
from jinlin.store.errors import ConcurrencyError
from jinlin.store.group_commit import GroupCommitter
from jinlin.store.log_statements import EventRow, LogStatements, PortableStatements, ResponseRow, SqliteStatements
from jinlin.store.projection import LogBatch, Projection, apply_batch
from jinlin.store.records import ANY_VERSION, CommandContext, StoredEvent, StoredResponse, Stream
from jinlin.store.schema import events, kernel_metadata, positions


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _row_to_event(row: Row[Any] | EventRow, source: str) -> StoredEvent:
    # ``source`` is the same for every event of a store, so it is not stored per row.
    envelope = CloudEvent.model_construct(
        specversion="1.0",
        id=row.id,
        source=source,
        type=row.type,
        subject=row.subject,
        time=row.time,
        datacontenttype="application/json",
        data=json.loads(row.data),
        caseid=row.caseid,
        causationid=row.causationid,
        actor=row.actor,
        streamversion=row.stream_version,
        sequence=row.sequence,
        hash=row.hash,
        prevhash=row.prevhash,
    )
    return StoredEvent(envelope=envelope, stream=row.stream, nats_subject=row.nats_subject)


class EventStore:
    """One service's store. ``projections`` are updated in the same transaction as each append."""

    def __init__(
        self,
        engines: StoreEngines,
        registry: EventRegistry,
        *,
        projections: Sequence[Projection] = (),
    ) -> None:
        self.engines = engines
        self.registry = registry
        self.service = registry.service
        self.source = f"/jinlin/{registry.service}"
        self.projections = list(projections)
        self._commit_listeners: list[Callable[[], None]] = []
        # (the open group's connection, the log's tail in it); a new group has a new connection, so a stale tail
        # can never be taken for the current one.
        self._group_tail: tuple[AsyncConnection, tuple[int, str]] | None = None
        self._committer = GroupCommitter(
            engines.writer, engines.lock_for_append, on_failed_commit=self._forget_projection_caches
        )

    # -- schema ------------------------------------------------------------------------------------

    async def create_schema(self, *extra_metadata: MetaData) -> None:
        """Create the kernel's tables, the projections' tables and any others given, where missing."""
        every_metadata = [kernel_metadata, *extra_metadata]
        every_metadata += [t.metadata for p in self.projections for t in p.tables if t.metadata not in every_metadata]
        async with self.engines.writer.begin() as conn:
            for metadata in every_metadata:
                await conn.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self.engines.dispose()

    # -- writing -----------------------------------------------------------------------------------

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each commit that appended events (the relay's wake-up call)."""
        self._commit_listeners.append(listener)

    @asynccontextmanager
    async def transaction(self, context: CommandContext) -> AsyncIterator["Transaction"]:
        """A write transaction: commit on normal exit, roll back everything on an exception.

        Concurrent transactions commit together (see :mod:`jinlin.store.group_commit`); this returns only once the
        commit is durable, and raises if it failed.
        """
        try:
            async with self._committer.member() as conn:
                # The log's tail as the group's previous member left it: one look per group, not per command.
                known_tail = self._group_tail[1] if self._group_tail and self._group_tail[0] is conn else None
                driver = self._committer.in_place_driver
                statements = SqliteStatements(driver) if driver is not None else PortableStatements(conn)
                tx = Transaction(self, conn, context, known_tail, statements)
                yield tx
                if tx.tail is not None:
                    self._group_tail = (conn, tx.tail)
        except BaseException:
            self._group_tail = None
            self._forget_projection_caches()
            raise
        if tx.appended:
            for listener in self._commit_listeners:
                listener()

    async def append(
        self,
        stream: Stream,
        expected_version: int,
        new_events: Sequence[DomainEvent],
        context: CommandContext,
    ) -> list[StoredEvent]:
        async with self.transaction(context) as tx:
            return await tx.append(stream, expected_version, new_events)

    # -- reading -----------------------------------------------------------------------------------

    async def read_stream(self, stream: Stream, from_version: int = 1) -> list[StoredEvent]:
        async with self.engines.reader.connect() as conn:
            return await _read_stream(conn, self.source, stream, from_version)

    async def read_log(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events with ``sequence > after``, in log (= commit) order."""
        query = select(*events.c).where(events.c.sequence > after).order_by(events.c.sequence).limit(limit)
        async with self.engines.reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_row_to_event(row, self.source) for row in rows]

    async def read_case(self, caseid: str) -> list[StoredEvent]:
        query = select(*events.c).where(events.c.caseid == caseid).order_by(events.c.sequence)
        async with self.engines.reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_row_to_event(row, self.source) for row in rows]

    async def last_sequence(self) -> int:
        async with self.engines.reader.connect() as conn:
            value = (await conn.execute(select(func.max(events.c.sequence)))).scalar()
        return int(value or 0)

    async def stream_version(self, stream: Stream) -> int:
        async with self.engines.reader.connect() as conn:
            return await _stream_version(conn, stream)

    async def find_response(self, scope: str, key: str) -> StoredResponse | None:
        async with self.engines.reader.connect() as conn:
            return await _find_response(conn, scope, key)

    async def position(self, name: str) -> int:
        async with self.engines.reader.connect() as conn:
            value = (await conn.execute(select(positions.c.position).where(positions.c.name == name))).scalar()
        return int(value or 0)

    async def set_position(self, name: str, position: int) -> None:
        """Record a follower's position (the relay's, say). Never moves backwards."""
        async with self.engines.writer.begin() as conn:
            current = (await conn.execute(select(positions.c.position).where(positions.c.name == name))).scalar()
            if current is None:
                await conn.execute(insert(positions).values(name=name, position=position, updated_at=utc_now()))
            elif position > current:
                await conn.execute(
                    positions.update().where(positions.c.name == name).values(position=position, updated_at=utc_now())
                )

    async def purge_deleted(self, table: str) -> None:
        """Make sure rows deleted from ``table`` leave no copy on disk (after an erasure has committed)."""
        if self.engines.dialect == "sqlite":
            # Outside any transaction (the driver connection runs in autocommit), or the checkpoint cannot finish.
            async with self.engines.reader.connect() as conn:
                raw = await conn.get_raw_connection()
                await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        else:
            async with self.engines.writer.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql(f'VACUUM "{table}"')

    def _forget_projection_caches(self) -> None:
        # A projection may cache what it folded; after a rollback that is state that never happened.
        for projection in self.projections:
            forget = getattr(projection, "forget", None)
            if forget is not None:
                forget()

    # -- projections -------------------------------------------------------------------------------

    async def rebuild_projections(self, batch_size: int = 10_000) -> int:
        """Empty every read model and replay the whole log into it, in one transaction. Returns the count.

        The log is read ``batch_size`` events at a time (memory stays bounded however long it is). A projection with
        ``apply_batch`` folds each batch at once; any other one takes its events one by one through ``apply``.
        """
        count = 0
        # What a fold needs of each event (the other columns only when a projection asks for whole events).
        c = events.c
        fold_columns = [c.sequence, c.stream, c.stream_version, c.type, c.subject, c.data]  # sequence first
        fields = [column.name for column in fold_columns]
        query = (
            select(*fold_columns)
            .where(events.c.sequence > bindparam("after"))
            .order_by(events.c.sequence)
            .limit(bindparam("limit"))
        )
        whole = (
            select(*events.c)
            .where(events.c.sequence > bindparam("after"), events.c.sequence <= bindparam("last"))
            .order_by(events.c.sequence)
        )
        source = self.source

        def batch_of(conn: AsyncConnection, rows: list[tuple[Any, ...]], after: int) -> LogBatch:
            async def load() -> list[StoredEvent]:
                found = (await conn.execute(whole, {"after": after, "last": rows[-1][0]})).all()
                return [_row_to_event(row, source) for row in found]

            return LogBatch(fields, rows, load)

        self._forget_projection_caches()
        try:
            async with self.engines.writer.begin() as conn:
                await self.engines.lock_for_append(conn)
                for projection in self.projections:
                    for table in reversed(projection.tables):
                        await conn.execute(delete(table))
                after = 0
                while True:
                    result = await conn.execute(query, {"after": after, "limit": batch_size})
                    # Plain tuples, which the garbage collector stops tracking, not rows, which it traverses.
                    rows = [tuple(row) for row in result]
                    if not rows:
                        break
                    batch = batch_of(conn, rows, after)
                    for projection in self.projections:
                        await apply_batch(projection, conn, batch)
                    count += len(rows)
                    after = rows[-1][0]
        except BaseException:
            # What the projections folded belongs to a transaction that never committed.
            self._forget_projection_caches()
            raise
        return count


async def _stream_version(conn: AsyncConnection, stream: Stream) -> int:
    return await PortableStatements(conn).stream_version(stream.key)


async def _read_stream(conn: AsyncConnection, source: str, stream: Stream, from_version: int) -> list[StoredEvent]:
    return [_row_to_event(row, source) for row in await PortableStatements(conn).stream_rows(stream.key, from_version)]


async def _find_response(conn: AsyncConnection, scope: str, key: str) -> StoredResponse | None:
    return _stored_response(await PortableStatements(conn).response(scope, key))


def _stored_response(row: ResponseRow | None) -> StoredResponse | None:
    if row is None:
        return None
    return StoredResponse(
        status_code=row.status_code,
        body=bytes(row.body),
        headers=json.loads(row.headers),
        fingerprint=row.fingerprint,
    )


class Transaction:
    """One write transaction: appends, read-model rows, the idempotency record and processed message ids."""

    def __init__(
        self,
        store: EventStore,
        conn: AsyncConnection,
        context: CommandContext,
        tail: tuple[int, str] | None = None,
        statements: LogStatements | None = None,
    ) -> None:
        self.store = store
        self.connection = conn
        self.context = context
        self._sql = statements or PortableStatements(conn)
        self._tail = tail
        # Stream versions this transaction has seen. Appends hold the write lock from the first statement of the
        # group to its commit, so nobody else can move a stream meanwhile: what was read stays true.
        self._versions: dict[str, int] = {}
        self.appended: list[StoredEvent] = []

    async def read_stream(self, stream: Stream, from_version: int = 1) -> list[StoredEvent]:
        source = self.store.source
        read = [_row_to_event(row, source) for row in await self._sql.stream_rows(stream.key, from_version)]
        if read:
            self._versions[stream.key] = read[-1].envelope.streamversion
        elif from_version == 1:
            self._versions[stream.key] = 0
        return read

    async def stream_version(self, stream: Stream) -> int:
        known = self._versions.get(stream.key)
        if known is None:
            known = self._versions[stream.key] = await self._sql.stream_version(stream.key)
        return known

    @property
    def tail(self) -> tuple[int, str] | None:
        """The log's last sequence and hash as this transaction leaves it, when it has looked."""
        return self._tail

    async def _load_tail(self) -> tuple[int, str]:
        if self._tail is None:
            self._tail = await self._sql.log_tail() or (0, GENESIS_HASH)
        return self._tail

    async def append(
        self,
        stream: Stream,
        expected_version: int,
        new_events: Sequence[DomainEvent],
        *,
        caseid: str | None = None,
        causationid: str | None = None,
    ) -> list[StoredEvent]:
        """Append to one stream; several calls in one transaction append to several streams atomically.

        Raises :class:`ConcurrencyError` when the stream is not at ``expected_version`` (0: must not exist);
        the caller's transaction then rolls back and nothing of it is written.
        """
        current = await self.stream_version(stream)
        if expected_version != ANY_VERSION and current != expected_version:
            raise ConcurrencyError(stream.key, expected_version, current)
        if not new_events:
            return []
        sequence, prevhash = await self._load_tail()
        case = caseid or self.context.caseid or stream.id
        cause = causationid or self.context.causationid
        now = utc_now()
        rows: list[dict[str, Any]] = []
        stored: list[StoredEvent] = []
        for offset, domain_event in enumerate(new_events, start=1):
            sequence += 1
            fields: dict[str, Any] = {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": self.store.source,
                "type": self.store.registry.type_of(domain_event),
                "subject": stream.id,
                "time": now,
                "datacontenttype": "application/json",
                "data": json.loads(domain_event.model_dump_json()),
                "caseid": case,
                "causationid": cause,
                "actor": self.context.actor,
                "streamversion": current + offset,
                "sequence": sequence,
                "prevhash": prevhash,
            }
            fields["hash"] = prevhash = event_hash(fields)
            envelope = CloudEvent.model_construct(**fields)
            nats_subject = f"jinlin.{self.store.service}.{stream.key}.{type(domain_event).token()}"
            stored.append(StoredEvent(envelope=envelope, stream=stream.key, nats_subject=nats_subject))
            rows.append(
                {
                    "sequence": sequence,
                    "id": fields["id"],
                    "stream": stream.key,
                    "stream_version": fields["streamversion"],
                    "type": fields["type"],
                    "subject": stream.id,
                    "nats_subject": nats_subject,
                    "time": now,
                    "caseid": case,
                    "causationid": cause,
                    "actor": self.context.actor,
                    "data": canonical_json(fields["data"]).decode(),
                    "hash": fields["hash"],
                    "prevhash": fields["prevhash"],
                }
            )
        try:
            await self._sql.insert_events(rows)
        except IntegrityError as exc:
            # Another process appended to the stream in between (only possible without the write lock).
            self._versions.pop(stream.key, None)
            raise ConcurrencyError(stream.key, expected_version, await self.stream_version(stream)) from exc
        self._tail = (sequence, prevhash)
        self._versions[stream.key] = current + len(new_events)
        for event in stored:
            for projection in self.store.projections:
                await projection.apply(self.connection, event)
        self.appended.extend(stored)
        return stored

    async def find_response(self, scope: str, key: str) -> StoredResponse | None:
        return _stored_response(await self._sql.response(scope, key))

    async def save_response(self, scope: str, key: str, response: StoredResponse) -> None:
        await self._sql.insert_response(
            {
                "scope": scope,
                "key": key,
                "fingerprint": response.fingerprint,
                "status_code": response.status_code,
                "body": response.body,
                "headers": json.dumps(response.headers),
                "created_at": utc_now(),
            }
        )

    async def claim_message(self, consumer: str, event_id: str) -> bool:
        """Remember that ``consumer`` processed ``event_id``; False when it already had (skip the effect)."""
        return await self._sql.claim_message(consumer, event_id, utc_now())
