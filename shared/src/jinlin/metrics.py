"""Prometheus metrics of one service, in a registry of its own (so two apps in one process never clash).

The HTTP middleware counts requests by route template; the service reports its event plumbing either by
setting the gauges directly (``metrics.relay_lag.set(3)``) or, better, by registering a sampler that is read
at each scrape, so the figure is never stale::

    metrics.sample(metrics.relay_lag, relay.lag)                      # async or sync callable
    metrics.sample(metrics.consumer_lag, consumer.pending, consumer="mediation-cases")
    metrics.sample(metrics.dead_letters, store.dead_letter_count, consumer="mediation-cases")
"""

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from jinlin.logging import get_logger

Sampler = Callable[[], float | int | Awaitable[float | int]]

_log = get_logger(__name__)


SAMPLER_TIMEOUT = 2.0


@dataclass(frozen=True)
class _Sampling:
    gauge: Gauge
    read: Sampler
    labels: dict[str, str]


class ServiceMetrics:
    """Every metric a jinlin service exports. ``registry`` is what ``GET /metrics`` renders."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        ProcessCollector(registry=self.registry)  # CPU, memory, open files of this process
        self.http_requests = Counter(
            "jinlin_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_request_duration = Histogram(
            "jinlin_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.relay_lag = self.gauge(
            "jinlin_relay_lag_events", "Events committed to the store but not yet acknowledged by JetStream."
        )
        self.consumer_lag = self.gauge(
            "jinlin_consumer_lag_messages", "Messages waiting for a durable consumer.", ["consumer"]
        )
        self.dead_letters = self.gauge(
            "jinlin_dead_letters", "Messages a consumer gave up on and dead-lettered.", ["consumer"]
        )
        self._samplings: list[_Sampling] = []

    def gauge(self, name: str, documentation: str, labelnames: tuple[str, ...] | list[str] = ()) -> Gauge:
        """A further gauge of this service, in its registry."""
        return Gauge(name, documentation, labelnames, registry=self.registry)

    def sample(self, gauge: Gauge, read: Sampler, **labels: str) -> None:
        """Set ``gauge`` (with ``labels``) from ``read()`` at every scrape. ``read`` may be async."""
        self._samplings.append(_Sampling(gauge, read, labels))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_request_duration.labels(method, route).observe(seconds)

    async def refresh(self) -> None:
        """Read every sampler, concurrently. One that fails, or does not answer within ``SAMPLER_TIMEOUT`` (JetStream
        electing a leader, say), reports NaN (and is logged) instead of a stale figure or a stalled scrape."""
        await asyncio.gather(*(self._refresh_one(sampling) for sampling in self._samplings))

    async def _refresh_one(self, sampling: "_Sampling") -> None:
        target = sampling.gauge.labels(**sampling.labels) if sampling.labels else sampling.gauge
        try:
            async with asyncio.timeout(SAMPLER_TIMEOUT):
                value = sampling.read()
                if inspect.isawaitable(value):
                    value = await value
            target.set(float(value))
        except Exception:
            _log.warning("metric sampler failed", metric=repr(sampling.gauge), exc_info=True)
            target.set(math.nan)

    async def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type, with samplers freshly read."""
        await self.refresh()
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
