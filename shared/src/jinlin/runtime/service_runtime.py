"""Everything a service runs beside its HTTP API: the store, the NATS connection, the relay, its consumers and
its periodic watchers, started and stopped with the app, and reported through ``/readyz`` and ``/metrics``.

NATS may be down when a service starts: the service still takes commands (they land in its store, the outbox),
reports itself not ready, and connects, relays and consumes as soon as NATS answers.

Several replicas of a service may share one store (PostgreSQL): each takes commands, runs its periodic jobs and
consumes (durable consumers are shared), but only the replica holding the store's relay leadership relays
(:mod:`jinlin.runtime.leadership`); ``jinlin_relay_leader`` says which one does.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from nats.aio.client import Client

from jinlin.messaging.connection import connect_nats
from jinlin.messaging.consumer import DurableConsumer, MessageHandler
from jinlin.messaging.relay import Relay
from jinlin.metrics import ServiceMetrics
from jinlin.runtime.leadership import Leadership, leader_lock
from jinlin.service import ServiceSpec
from jinlin.settings import ServiceSettings
from jinlin.store.store import EventStore
from jinlin.web.health import Readiness, store_reachable

Watcher = Callable[[], Awaitable[object]]
"""One pass of a periodic job (a deadline watcher, say); it must be safe to run on every replica."""


@dataclass(frozen=True)
class Subscription:
    """A durable consumer this service keeps on another stream (or its own)."""

    durable: str
    stream: str
    filter_subjects: tuple[str, ...]
    handler: MessageHandler
    max_deliver: int = 5
    backoff: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run_once: Watcher
    interval: float


class ServiceRuntime:
    def __init__(
        self,
        spec: ServiceSpec,
        settings: ServiceSettings,
        store: EventStore,
        *,
        metrics: ServiceMetrics,
        readiness: Readiness,
        subscriptions: Sequence[Subscription] = (),
        jobs: Sequence[PeriodicJob] = (),
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.readiness = readiness
        self.subscriptions = list(subscriptions)
        self.jobs = list(jobs)
        self.nc: Client | None = None
        self.relay: Relay | None = None
        """The relay of the current leadership term (``None`` before the first)."""
        self.leadership: Leadership | None = None
        self.consumers: list[DurableConsumer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self.log = structlog.get_logger().bind(service=spec.name)

    async def start(self) -> None:
        await self.store.create_schema()
        self.store.on_commit(self.after_commit)
        self.readiness.add("store", store_reachable(self.store))
        self.readiness.add("nats", self._nats_connected)
        self.metrics.sample(self.metrics.relay_lag, self._relay_lag)
        leader = self.metrics.gauge(
            "jinlin_relay_leader", "1 while this replica runs its store's relay (one replica per store), else 0."
        )
        self.metrics.sample(leader, lambda: float(self.is_leader))
        if self.settings.relay_enabled or (self.settings.consumers_enabled and self.subscriptions):
            self._spawn(self._messaging(), "messaging")
        for job in self.jobs:
            self._spawn(self._every(job), job.name)

    @property
    def is_leader(self) -> bool:
        """This replica holds the store's relay leadership (and so runs the relay)."""
        return self.leadership is not None and self.leadership.is_leader

    def after_commit(self) -> None:
        """Tell the relay there is something new, so it publishes now rather than at its next poll."""
        if self.relay is not None:
            self.relay.notify()

    async def stop(self) -> None:
        self._stopping.set()
        if self.leadership is not None:
            await self.leadership.stop()  # the relay's batch in flight is acknowledged, then the lock released
        for consumer in self.consumers:
            await consumer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        await self.store.close()

    # -- the parts -----------------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("runtime.task_failed", task=name)

        self._tasks.append(asyncio.create_task(guarded(), name=f"{self.spec.name}:{name}"))

    async def _messaging(self) -> None:
        self.nc = await connect_nats(
            self.settings.nats_servers,
            name=f"jinlin-{self.spec.name}",
            user=self.settings.nats_user,
            password=self.settings.nats_password,
            creds=self.settings.nats_creds,
        )
        if self.settings.relay_enabled:
            self.leadership = Leadership(
                leader_lock(self.store.engines, self.spec.stream_name),
                name=f"{self.spec.name}:relay",
                eligible=lambda: self.nc is not None and self.nc.is_connected,
                log=self.log,
            )
            self._spawn(self.leadership.run(self._begin_relay_term), "relay")
        if self.settings.consumers_enabled:
            for subscription in self.subscriptions:
                consumer = DurableConsumer(
                    self.nc,
                    self.store,
                    stream=subscription.stream,
                    durable=subscription.durable,
                    filter_subjects=subscription.filter_subjects,
                    handler=subscription.handler,
                    max_deliver=subscription.max_deliver,
                    backoff=subscription.backoff,
                )
                self.consumers.append(consumer)
                self.metrics.sample(self.metrics.consumer_lag, consumer.backlog, consumer=subscription.durable)
                self.metrics.sample(
                    self.metrics.dead_letters, _counter(consumer, "dead_lettered"), consumer=subscription.durable
                )
                self._spawn(consumer.run(), f"consumer:{subscription.durable}")

    def _begin_relay_term(self) -> Relay:
        assert self.nc is not None
        self.relay = Relay(self.store, self.nc, stream=self.spec.stream_name, subjects=self.spec.subjects)
        return self.relay

    async def _every(self, job: PeriodicJob) -> None:
        while not self._stopping.is_set():
            try:
                await job.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("runtime.job_failed", job=job.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), job.interval)

    async def _nats_connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def _relay_lag(self) -> float:
        if self.relay is None or not self.is_leader:
            # A follower reports what the leader recorded: the lag is the store's, whichever replica relays it.
            return float(await self.store.last_sequence() - await self.store.position("relay"))
        return float(await self.relay.lag())


def _counter(consumer: DurableConsumer, attribute: str) -> Callable[[], float]:
    return lambda: float(getattr(consumer, attribute))
