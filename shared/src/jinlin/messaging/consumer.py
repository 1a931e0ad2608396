"""Durable JetStream consumers whose effects happen exactly once, and whose failures are never silent.

Each message is handled in one store transaction that first claims the event id for this consumer
(``processed_messages``) and then runs the handler, so a redelivery after a crash, a lost ack or a duplicate
publish finds the claim and changes nothing. The message is acked only after the commit.

The messages in hand are handled concurrently, each in its own transaction: the store commits concurrent
transactions together (:mod:`jinlin.store.group_commit`), so a batch costs about one commit instead of one per
message, and one message's failure rolls back only its own transaction. The next fetch does not wait for a batch to
be through: up to ``max_in_flight`` messages are in hand at a time, so a message that arrives while others commit
starts at once and joins the next commit. The effects still happen in delivery order, as they did one at a time:
the handlers queue for the store's write section in delivery order (bodies of one store's transactions never
overlap, and take turns in the order they queued), and a body that finds the message before it not yet applied
steps back out and waits for it, so no handler ever runs before the one of the message delivered before it. (A
message that fails and is retried later is applied after messages that came behind it, as it always was.)

A failing message is retried with a delay (``nak``), and after ``max_deliver`` deliveries (or at once, for a
:class:`PermanentError` or a body that is not a CloudEvent) it is published to the dead-letter stream with the
reason and then acked. Messages are never ``term()``-ed: a terminated message is gone without a trace.

The bound on deliveries is enforced here, not by the server: the server-side consumer redelivers without limit.
A delivery that ends without an answer (the process died), or whose dead-lettering failed, or that met the
consumer's own database down (which says nothing about the message) must come back whatever its count; a server
limit would drop it silently after its last delivery.
"""

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Sequence

import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, Header
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from structlog.typing import FilteringBoundLogger

from jinlin.events.envelope import CloudEvent
from jinlin.messaging.streams import DEADLETTER_STREAM, ensure_deadletter_stream
from jinlin.store.records import CommandContext
from jinlin.store.store import EventStore, Transaction

MessageHandler = Callable[[Transaction, CloudEvent], Awaitable[None]]
"""Applies one event inside the consumer's transaction; raise to retry, :class:`PermanentError` to give up."""

DLQ_REASON = "Jinlin-Dlq-Reason"
DLQ_SUBJECT = "Jinlin-Dlq-Subject"
DLQ_STREAM = "Jinlin-Dlq-Stream"
DLQ_STREAM_SEQ = "Jinlin-Dlq-Stream-Seq"
DLQ_DELIVERIES = "Jinlin-Dlq-Deliveries"
DLQ_CONSUMER = "Jinlin-Dlq-Consumer"
DLQ_ORIGINAL_MSG_ID = "Jinlin-Dlq-Msg-Id"
MAX_REASON_LENGTH = 1000
ACK_TIMEOUT_SECONDS = 5.0

# Failures of the consumer's own database say nothing about the message: retry them for as long as it takes.
_INFRASTRUCTURE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, ConnectionError)


class PermanentError(Exception):
    """Raised by a handler for a message that can never succeed: it is dead-lettered now, not retried."""


def dead_letter_subject(service: str, durable: str) -> str:
    return f"jinlin.dlq.{service}.{durable}"


def describe_failure(exc: BaseException) -> str:
    """``Class: message`` on one line, short enough for a header.

    For a database error, the driver's message only: SQLAlchemy's own text quotes the statement's parameters,
    which may hold personal data.
    """
    message = exc.orig if isinstance(exc, sa_exc.StatementError) and exc.orig is not None else exc
    text = re.sub(r"\s+", " ", f"{type(exc).__name__}: {message}").strip()
    return text[:MAX_REASON_LENGTH]


def parse_event(body: bytes) -> CloudEvent:
    """The message's CloudEvent, or :class:`PermanentError` naming what is wrong (never echoing the content)."""
    try:
        return CloudEvent.from_json_bytes(body)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False, include_context=False)
        first = problems[0] if problems else {"loc": (), "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise PermanentError(
            f"not a CloudEvent: {len(problems)} problem(s), first at {where}: {first['msg']}"
        ) from None


class _NotYourTurn(Exception):
    """A body began before the one of the message delivered before it had run: step back out and wait."""


class DurableConsumer:
    """A durable pull consumer on one stream, applying each event through ``handler`` exactly once.

    Several processes may run the same durable (they share the work). ``backoff`` gives the delay before each
    retry (the last one repeats); ``ack_wait`` is how long a delivery may stay unanswered before the server sends
    it again (while a batch is being handled, its messages are kept alive, so only a dead process lets it lapse).
    """

    def __init__(
        self,
        nc: Client,
        store: EventStore,
        *,
        stream: str,
        durable: str,
        filter_subjects: str | Sequence[str],
        handler: MessageHandler,
        consumer_name: str | None = None,
        max_deliver: int = 5,
        backoff: Sequence[float] = (1.0, 5.0, 30.0, 120.0),
        ack_wait: float = 30.0,
        batch_size: int = 100,
        max_in_flight: int | None = None,
        fetch_timeout: float = 1.0,
        max_ack_pending: int = 1000,
        max_error_backoff: float = 5.0,
        log: FilteringBoundLogger | None = None,
    ) -> None:
        if max_deliver < 1:
            raise ValueError("max_deliver must be at least 1")
        if not backoff or min(backoff) <= 0:
            raise ValueError("backoff needs at least one positive delay")
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.store = store
        self.stream = stream
        self.durable = durable
        self.filter_subjects = [filter_subjects] if isinstance(filter_subjects, str) else list(filter_subjects)
        self.handler = handler
        self.name = consumer_name or durable
        self.max_deliver = max_deliver
        self.backoff = list(backoff)
        self.ack_wait = ack_wait
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight or 2 * batch_size
        self.fetch_timeout = fetch_timeout
        self.max_ack_pending = max_ack_pending
        self.max_error_backoff = max_error_backoff
        self.dead_letter_subject = dead_letter_subject(store.service, durable)
        self.log = (log or structlog.get_logger()).bind(consumer=self.name, stream=stream)
        # Counters for metrics.
        self.processed = 0
        """Events applied (the handler ran and committed)."""
        self.duplicates = 0
        """Deliveries of events this consumer had already applied (acked without running the handler)."""
        self.retried = 0
        self.dead_lettered = 0
        self.errors = 0
        """Failures of the loop itself (NATS refusing a fetch, a missing stream); it backs off and goes on."""
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._stopping = False
        self._running: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._unanswered: dict[int, Msg] = {}
        """Messages in hand that are not answered yet (by ``id()``: messages are not hashable)."""
        self._in_flight: set[asyncio.Task[None]] = set()
        """The handlers of the messages in hand."""
        self._handler_failures: list[BaseException] = []
        self._handler_finished = asyncio.Event()
        self._last_applied: asyncio.Event | None = None
        """Set once the last message fetched is through its transaction body (or will run none)."""

    # -- set-up ------------------------------------------------------------------------------------

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            # Unbounded on the server on purpose: see the module docstring.
            max_deliver=-1,
            # The server uses backoff[n-1] as the ack deadline of delivery n (it overrides ack_wait), so each
            # entry is the processing allowance plus the retry delay, never the bare (possibly tiny) delay.
            backoff=[self.ack_wait + delay for delay in self.backoff],
            filter_subjects=self.filter_subjects,
            max_ack_pending=self.max_ack_pending,
        )

    async def ensure(self) -> None:
        """Create or update the durable consumer (and the dead-letter stream). Safe on every start."""
        await ensure_deadletter_stream(self.js)
        await self.js.add_consumer(self.stream, self.consumer_config())

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        if self._subscription is None:
            await self.ensure()
            self._subscription = await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        return self._subscription

    async def _drop_subscription(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    # -- the loop ----------------------------------------------------------------------------------

    async def poll_once(self) -> int:
        """Fetch one batch (waiting up to ``fetch_timeout``) and handle it; return how many messages came."""
        count = await self._fetch_and_start()
        await self._settle(0)
        return count

    async def _fetch_and_start(self) -> int:
        """Fetch what the server has (waiting up to ``fetch_timeout`` for a first message) and start handling it,
        beside the messages already in hand; first wait for room for a whole batch."""
        await self._settle(max(0, self.max_in_flight - self.batch_size))
        room = self.max_in_flight - len(self._in_flight)
        subscription = await self._subscribe()
        try:
            messages = await subscription.fetch(min(self.batch_size, room), timeout=self.fetch_timeout)
        except TimeoutError:  # nats-py's fetch timeout: nothing to do right now
            return 0
        self._start(messages)
        return len(messages)

    async def _settle(self, at_most: int) -> None:
        """Wait until at most ``at_most`` messages are in hand. Raises what a finished handler raised (NATS failing
        under an answer): ``run()`` logs it and starts afresh, the message comes back after its ack deadline."""
        while True:
            if self._handler_failures:
                failure, *_ = self._handler_failures
                self._handler_failures.clear()
                raise failure
            if len(self._in_flight) <= at_most:
                return
            self._handler_finished.clear()
            await self._handler_finished.wait()

    def _on_handler_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and (failure := task.exception()) is not None:
            self._handler_failures.append(failure)
        self._handler_finished.set()

    async def run(self) -> None:
        """Consume until :meth:`stop`, surviving NATS outages and restarts."""
        self._running = asyncio.current_task()
        keep_alive = asyncio.create_task(self._keep_alive())
        backoff = 0.1
        try:
            while not self._stopping:
                try:
                    await self._fetch_and_start()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._log_loop_failure(exc)
                    await self._drop_subscription()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self.max_error_backoff)
                    continue
                backoff = 0.1
            while self._in_flight:  # stopping: answer every message in hand
                try:
                    await self._settle(0)
                except Exception as exc:
                    self._log_loop_failure(exc)
        finally:
            for task in self._in_flight:
                task.cancel()  # only when run() itself is cancelled: otherwise none is left
            with contextlib.suppress(BaseException):
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            self._in_flight.clear()
            self._handler_failures.clear()
            self._unanswered.clear()
            self._last_applied = None
            keep_alive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keep_alive
            self._running = None
            await self._drop_subscription()

    def _log_loop_failure(self, exc: Exception) -> None:
        self.errors += 1
        if isinstance(exc, nats.errors.Error | TimeoutError | OSError):
            self.log.warning("consumer.nats_unavailable", error=describe_failure(exc))
        else:
            self.log.error("consumer.failed", error=describe_failure(exc))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def stop(self) -> None:
        """Stop once the messages in hand are answered (at most ``fetch_timeout`` plus their handling)."""
        self._stopping = True
        self._wake.set()
        task = self._running
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def backlog(self) -> int:
        """Messages not yet answered for good (waiting or in flight), for metrics."""
        info = await self.js.consumer_info(self.stream, self.durable)
        return int((info.num_pending or 0) + (info.num_ack_pending or 0))

    # -- the messages in hand ----------------------------------------------------------------------

    def _start(self, messages: list[Msg]) -> None:
        """Start a handler per message: concurrent, each answered as soon as its own commit is durable, each applied
        after the message delivered before it (of this batch or of an earlier one still in hand)."""
        for message in messages:
            try:
                parsed: CloudEvent | PermanentError = parse_event(message.data)
            except PermanentError as exc:
                parsed = exc
            previous, applied = self._last_applied, asyncio.Event()
            self._last_applied = applied
            self._unanswered[id(message)] = message
            # Started in delivery order, the handlers reach the store's write section in that order: nothing
            # before it suspends them (see _apply).
            task = asyncio.create_task(self._handle(message, parsed, previous, applied))
            self._in_flight.add(task)
            task.add_done_callback(self._on_handler_done)

    async def _keep_alive(self) -> None:
        """Tell the server the unanswered messages in hand are being worked on, so they are not redelivered.

        A message leaves ``_unanswered`` right before its answer is sent: a progress signal sent after a nak would
        replace the nak's delay.
        """
        while True:
            await asyncio.sleep(self.ack_wait / 3)
            for key, message in list(self._unanswered.items()):
                # Checked again right before sending: the handlers move on while this loop awaits.
                if self._unanswered.get(key) is message:
                    with contextlib.suppress(Exception):
                        await message.in_progress()

    def _answering(self, message: Msg) -> None:
        """The message's answer (ack, nak) is about to be sent: no more progress signals for it."""
        self._unanswered.pop(id(message), None)

    def _retry_delay(self, message: Msg) -> float:
        deliveries = message.metadata.num_delivered
        return self.backoff[min(deliveries, len(self.backoff)) - 1]

    async def _handle(
        self, message: Msg, parsed: CloudEvent | PermanentError, previous: asyncio.Event | None, applied: asyncio.Event
    ) -> None:
        """Answer one message (ack, nak or dead-letter). ``applied`` is set once its body has run or will not."""
        try:
            if isinstance(parsed, PermanentError):
                applied.set()
                with structlog.contextvars.bound_contextvars(stream_seq=message.metadata.sequence.stream):
                    await self._dead_letter(message, parsed)
                return
            await self._handle_event(message, parsed, previous, applied)
        finally:
            applied.set()

    async def _handle_event(
        self, message: Msg, event: CloudEvent, previous: asyncio.Event | None, applied: asyncio.Event
    ) -> None:
        deliveries = message.metadata.num_delivered
        with structlog.contextvars.bound_contextvars(caseid=event.caseid, causationid=event.id):
            try:
                new = await self._apply(event, previous, applied)
            except Exception as exc:
                applied.set()
                await self._failed(message, exc)
                return
            # The commit is durable (transaction() returns only then): now, and only now, the ack.
            self._answering(message)
            await message.ack()
            if new:
                self.processed += 1
                self.log.info("consumer.applied", type=event.type, deliveries=deliveries)
            else:
                self.duplicates += 1
                self.log.info("consumer.duplicate_skipped", type=event.type, deliveries=deliveries)

    async def _apply(
        self, event: CloudEvent, previous: asyncio.Event | None = None, applied: asyncio.Event | None = None
    ) -> bool:
        """Claim and apply the event in one transaction; True once committed, False for a duplicate.

        ``previous`` is set once the message delivered before this one has run its body (or will not run one): this
        body runs only after it. The call reaches the store's write section without suspending first, so bodies of
        messages started in order begin in order; should one ever find ``previous`` not yet set, it steps back out
        (rolling back nothing but itself) and waits for it. ``applied`` is set as this body ends, before its commit:
        the next message's body may then run, and share the commit.
        """
        context = CommandContext(actor=f"consumer:{self.name}", causationid=event.id, caseid=event.caseid)
        while True:
            try:
                async with self.store.transaction(context) as tx:
                    if previous is not None and not previous.is_set():
                        raise _NotYourTurn
                    try:
                        if not await tx.claim_message(self.name, event.id):
                            return False
                        await self.handler(tx, event)
                        return True
                    finally:
                        if applied is not None:
                            applied.set()
            except _NotYourTurn:
                assert previous is not None
                await previous.wait()

    async def _failed(self, message: Msg, exc: Exception) -> None:
        """Retry the message later (nak with its delay), or dead-letter it; never for a failure of the store."""
        deliveries = message.metadata.num_delivered
        if isinstance(exc, _INFRASTRUCTURE_ERRORS):
            self.retried += 1
            delay = self._retry_delay(message)
            self.log.warning("consumer.store_unavailable", error=describe_failure(exc), retry_in=delay)
            self._answering(message)
            await message.nak(delay=delay)
            return
        if isinstance(exc, PermanentError) or deliveries >= self.max_deliver:
            await self._dead_letter(message, exc)
            return
        self.retried += 1
        delay = self._retry_delay(message)
        # The class only: an exception's text may quote the event's data.
        self.log.warning("consumer.retry", error_type=type(exc).__name__, deliveries=deliveries, retry_in=delay)
        self._answering(message)
        await message.nak(delay=delay)

    async def _dead_letter(self, message: Msg, exc: BaseException) -> None:
        """Publish the message with its reason to the dead-letter stream, wait for the ack, then ack the original.

        If the dead-letter publish fails the original is nak-ed, so it comes back and is dead-lettered then.
        """
        metadata = message.metadata
        headers = {key: value for key, value in (message.headers or {}).items() if not key.startswith("Nats-")}
        original_id = (message.headers or {}).get(Header.MSG_ID.value)
        if original_id:
            headers[DLQ_ORIGINAL_MSG_ID] = original_id
        headers |= {
            DLQ_REASON: describe_failure(exc),
            DLQ_SUBJECT: message.subject,
            DLQ_STREAM: metadata.stream,
            DLQ_STREAM_SEQ: str(metadata.sequence.stream),
            DLQ_DELIVERIES: str(metadata.num_delivered),
            DLQ_CONSUMER: self.durable,
            # One dead letter per message and consumer, even if this one is retried after a lost ack.
            Header.MSG_ID.value: f"{metadata.stream}.{metadata.sequence.stream}.{self.durable}",
        }
        try:
            await self.js.publish(self.dead_letter_subject, message.data, headers=headers, stream=DEADLETTER_STREAM)
        except Exception as failure:
            self.retried += 1
            self.log.error("consumer.dead_letter_failed", error=describe_failure(failure))
            self._answering(message)
            await message.nak(delay=self._retry_delay(message))
            return
        self.dead_lettered += 1
        self.log.error(
            "consumer.dead_lettered",
            error_type=type(exc).__name__,
            deliveries=metadata.num_delivered,
            dead_letter_subject=self.dead_letter_subject,
        )
        self._answering(message)
        try:
            await message.ack_sync(timeout=ACK_TIMEOUT_SECONDS)
        except Exception as failure:
            # The dead letter is stored; a redelivery is dead-lettered again under the same Nats-Msg-Id.
            self.log.warning("consumer.ack_failed", error=describe_failure(failure))
