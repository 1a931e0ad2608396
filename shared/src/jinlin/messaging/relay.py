"""The relay: copies a store's event log into the service's JetStream stream, in log order, exactly once.

The stream holds only this relay's messages and the log's sequences are dense from 1, so JetStream's stream
sequence *is* the event's ``sequence``. Each message is published with ``Nats-Expected-Last-Sequence: n-1``: the
server stores event ``n`` only right after whatever is at ``n-1``, so no retry, crash, reconnect or second relay
can store an event twice or out of order.

The stream is the truth about what was published. On start-up, and whenever the server refuses a message, the
relay reads the stream's last sequence and checks every message it has not itself seen acknowledged in order
(from its recorded position on) against the log's event ids, then goes on after the last one. A message that is
not the log's event at its position (someone else published into the stream, or the store was replaced) stops
the relay loudly instead of letting it skip an event. The position recorded in the store (``positions`` row
``relay``) is written only after the acks; it bounds what needs checking and feeds the lag metric.

The running relay (:meth:`Relay.run`) is woken by every commit (:meth:`Relay.notify`) and publishes at once. It
records its position every ``position_interval`` seconds or ``batch_size`` events (and when it stops), not after
every batch: each record is a write transaction of its own, with its own wait for the disk, competing for the
store's write lock with the commands it relays. A position recorded late only means a few more messages to check
after a restart.
"""

import asyncio
import contextlib
from collections.abc import Sequence

import nats.errors
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck
from nats.js.errors import APIError, NotFoundError
from structlog.typing import FilteringBoundLogger

from jinlin.events.envelope import CONTENT_TYPE
from jinlin.messaging.publisher import AckedPublisher
from jinlin.messaging.streams import ensure_stream
from jinlin.store.records import StoredEvent
from jinlin.store.store import EventStore

WRONG_LAST_SEQUENCE = 10071
"""JetStream's error code when ``Nats-Expected-Last-Sequence`` does not match the stream."""
MAX_REFUSALS_IN_PLACE = 3
"""A relay racing this one moves the stream on between refusals; a refusal repeated at one place is a fault."""


class RelayDivergedError(RuntimeError):
    """The stream does not hold the log's events at the same positions: someone else published into it, or the
    store was replaced. The relay refuses to guess; an operator decides."""


class _Refused(Exception):
    """The stream was not where this relay thought (another relay, or a publish that timed out but landed)."""


def event_headers(event: StoredEvent, stream: str) -> dict[str, str]:
    """The headers of one event's message: the NATS contract plus the guards that keep the stream exact."""
    return {
        "Content-Type": CONTENT_TYPE,
        Header.MSG_ID.value: event.id,
        Header.EXPECTED_STREAM.value: stream,
        Header.EXPECTED_LAST_SEQUENCE.value: str(event.sequence - 1),
    }


def _contiguous(events: Sequence[StoredEvent], after: int) -> list[StoredEvent]:
    """The events that follow ``after`` without a hole. The store's write lock makes holes impossible; if one ever
    appeared (a late commit), publishing past it would lose the event committed late, so stop there."""
    run: list[StoredEvent] = []
    for event in events:
        if event.sequence != after + len(run) + 1:
            break
        run.append(event)
    return run


class Relay:
    """Publishes one store's log to its stream. Run one active relay per store (a second one is harmless, but
    the two would keep tripping over each other's messages)."""

    def __init__(
        self,
        store: EventStore,
        nc: Client,
        *,
        stream: str,
        subjects: str | None = None,
        batch_size: int = 500,
        poll_interval: float = 0.1,
        ack_timeout: float = 10.0,
        max_backoff: float = 5.0,
        position_interval: float = 1.0,
        position_name: str = "relay",
        log: FilteringBoundLogger | None = None,
    ) -> None:
        self.store = store
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=ack_timeout)
        self.publisher = AckedPublisher(nc)
        self.stream = stream
        self.subjects = subjects or f"jinlin.{store.service}.>"
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.ack_timeout = ack_timeout
        self.max_backoff = max_backoff
        self.position_interval = position_interval
        self.position_name = position_name
        self.log = (log or structlog.get_logger()).bind(relay=stream)
        self.published: int | None = None
        """Events 1..published are in the stream, checked; ``None`` until the stream has been read."""
        self.published_total = 0
        self.errors_total = 0
        self._in_sync = False
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: asyncio.Task[None] | None = None
        self._stream_ensured = False
        self._recorded: int | None = None
        """The position last written to the store by this relay."""
        self._recorded_at = float("-inf")

    # -- the one-shot step -------------------------------------------------------------------------

    async def publish_pending(self) -> int:
        """Publish every committed event the stream does not hold yet, then record the position; return how many
        were published.

        Raises on NATS or store errors, and :class:`RelayDivergedError` (``run()`` logs, backs off and resumes).
        """
        count = await self._publish_pending()
        await self._record_position()
        return count

    async def _publish_pending(self) -> int:
        count = 0
        refused_at, refusals = -1, 0
        while True:
            if not self._in_sync:
                await self._sync_with_stream()
            assert self.published is not None
            after = self.published
            batch = _contiguous(await self.store.read_log(after=after, limit=self.batch_size), after)
            if not batch:
                return count
            try:
                await self._publish_batch(batch)
            except _Refused:
                self._in_sync = False
                refusals = refusals + 1 if refused_at == self.published else 1
                refused_at = self.published
                self.log.info("relay.refused", confirmed=self.published, refusals=refusals)
                if refusals >= MAX_REFUSALS_IN_PLACE:
                    raise RuntimeError(f"stream {self.stream} keeps refusing event {refused_at + 1}") from None
            finally:
                count += self.published - after
                self.published_total += self.published - after
            if self._position_due():
                await self._record_position()  # a long catch-up records its progress as it goes

    def _position_due(self) -> bool:
        """Record now? Every ``position_interval`` seconds, or every ``batch_size`` events: a restart then checks
        at most that many messages one by one."""
        if self.published is None:
            return False
        unrecorded = self.published - (self._recorded or 0)
        elapsed = asyncio.get_running_loop().time() - self._recorded_at
        return unrecorded >= self.batch_size or (unrecorded > 0 and elapsed >= self.position_interval)

    async def _record_position(self) -> None:
        """Write the acknowledged position to the store, if it moved (only positions the stream confirmed)."""
        if not self._in_sync or self.published is None or self.published == self._recorded:
            return
        published = self.published
        await self.store.set_position(self.position_name, published)
        self._recorded, self._recorded_at = published, asyncio.get_running_loop().time()

    async def _sync_with_stream(self) -> None:
        """Take the stream's last sequence as the resume point, once every message past what this relay saw
        acknowledged in order is checked to be the log's event at that position."""
        if not self._stream_ensured:
            await ensure_stream(self.js, self.stream, self.subjects)
            self._stream_ensured = True
        try:
            last = (await self.js.stream_info(self.stream)).state.last_seq
        except NotFoundError:
            self._stream_ensured = False  # deleted under us: create it again and republish the whole log
            raise
        checked = self.published if self.published is not None else await self.store.position(self.position_name)
        if last < checked:
            # Only a stream deleted and created anew holds less than was acknowledged: rebuild it from the log.
            self.log.warning("relay.stream_behind", stream_last=last, acknowledged=checked)
            checked = last
        while checked < last:
            events = await self.store.read_log(after=checked, limit=min(self.batch_size, last - checked))
            if not events:
                raise RelayDivergedError(
                    f"stream {self.stream} holds {last} messages but the log ends at {checked}: "
                    "was the store replaced or restored from an older backup?"
                )
            for event in events:
                await self._check_message(event)
                checked = event.sequence
        self.published = last
        self._in_sync = True

    async def _check_message(self, event: StoredEvent) -> None:
        message = await self.js.get_msg(self.stream, seq=event.sequence)
        message_id = (message.headers or {}).get(Header.MSG_ID.value)
        if message_id != event.id:
            raise RelayDivergedError(
                f"stream {self.stream} message {event.sequence} is not the log's event {event.sequence} "
                f"(message id {message_id!r}, event id {event.id!r}): something else published into the stream"
            )

    async def _publish_batch(self, batch: list[StoredEvent]) -> None:
        """Pipeline the batch, then confirm the acks in order, advancing ``published`` over each confirmed one."""
        pending: list[asyncio.Future[PubAck]] = []
        try:
            for event in batch:
                payload = event.envelope.to_json_bytes()
                headers = event_headers(event, self.stream)
                pending.append(await self.publisher.publish(event.nats_subject, payload, headers))
            outcomes = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), self.ack_timeout)
        except TimeoutError:
            raise TimeoutError(f"no ack for {len(batch)} messages within {self.ack_timeout} s") from None
        finally:
            for future in pending:
                future.cancel()  # a late ack is then simply ignored
        for event, outcome in zip(batch, outcomes, strict=True):
            # Past a refusal, later messages may have landed after a message that is not ours: only the check
            # in _sync_with_stream may vouch for them.
            if isinstance(outcome, APIError) and outcome.err_code == WRONG_LAST_SEQUENCE:
                raise _Refused from outcome
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome.stream != self.stream or outcome.seq != event.sequence:
                raise RelayDivergedError(
                    f"event {event.sequence} was acknowledged as {outcome.stream} message {outcome.seq}"
                    + (" (a duplicate of an earlier message)" if outcome.duplicate else "")
                )
            self.published = event.sequence

    # -- the loop ----------------------------------------------------------------------------------

    def notify(self) -> None:
        """Wake the loop now (call after a commit) instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Publish until :meth:`stop`, surviving NATS outages and restarts (retrying forever, with back-off)."""
        self._running = asyncio.current_task()
        backoff = self.poll_interval
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self._publish_pending()
                    if self._position_due():
                        await self._record_position()  # also when idle: the loop comes round every poll
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.errors_total += 1
                    self._in_sync = False
                    self._log_failure(exc)
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                backoff = self.poll_interval
                await self._sleep(self.poll_interval)
        finally:
            self._running = None
            await self.publisher.close()
            with contextlib.suppress(Exception):
                await self._record_position()

    def _log_failure(self, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, RelayDivergedError):
            self.log.error("relay.diverged", error=error)
        elif isinstance(exc, nats.errors.Error | TimeoutError | OSError):
            self.log.warning("relay.nats_unavailable", error=error)
        else:
            self.log.warning("relay.failed", error=error)

    async def _sleep(self, seconds: float) -> None:
        if self._wake.is_set():
            return  # committed meanwhile: straight on, without a trip round the event loop
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def stop(self) -> None:
        """Stop the loop after the batch in flight (its acks are awaited, so nothing is left half-known)."""
        self._stopping = True
        self._wake.set()
        task = self._running
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- metrics -----------------------------------------------------------------------------------

    async def lag(self) -> int:
        """Events committed but not yet confirmed in the stream."""
        published = self.published
        if published is None:
            published = await self.store.position(self.position_name)
        return max(0, await self.store.last_sequence() - published)
