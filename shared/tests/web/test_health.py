"""Probes and metrics: what an orchestrator and Prometheus see."""

import asyncio
import math
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from jinlin.metrics import ServiceMetrics
from jinlin.web import Readiness

PROBLEM = "application/problem+json"


def sample_value(exposition: str, name: str, labels: dict[str, str]) -> float | None:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


async def test_healthz_answers_while_the_process_runs_even_if_not_ready(client: httpx.AsyncClient, knobs: Any) -> None:
    knobs.nats_connected = False
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_readyz_is_503_naming_the_failing_check_then_200_once_it_passes(
    client: httpx.AsyncClient, knobs: Any
) -> None:
    knobs.nats_connected = False
    not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] == PROBLEM
    assert not_ready.json()["failing"] == ["nats"]
    assert not_ready.json()["checks"] == {"store": "ok", "nats": "failed"}

    knobs.nats_connected = True
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"store": "ok", "nats": "ok"}}


async def test_a_hanging_or_raising_check_fails_within_its_timeout() -> None:
    async def hangs() -> None:
        await asyncio.Event().wait()

    async def raises() -> None:
        raise ConnectionRefusedError("db.internal:5432 password=hunter2")

    readiness = Readiness(timeout=0.05)
    readiness.add("hangs", hangs)
    readiness.add("raises", raises)
    results = await asyncio.wait_for(readiness.results(), timeout=5)
    assert results == {"hangs": "no answer within 0.05s", "raises": "failed: ConnectionRefusedError"}


async def test_metrics_count_requests_by_route_template_and_status(
    client: httpx.AsyncClient, auth: dict[str, dict[str, str]]
) -> None:
    await client.post("/things", json={"id": "t1", "label": "x"}, headers=auth["intake"])
    await client.get("/things/t1", headers=auth["auditor"])
    await client.get("/things/t2", headers=auth["auditor"])
    await client.get("/no/such/route")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    count = "jinlin_http_requests_total"
    assert sample_value(text, count, {"method": "POST", "route": "/things", "status": "201"}) == 1
    assert sample_value(text, count, {"method": "GET", "route": "/things/{thing_id}", "status": "200"}) == 1
    assert sample_value(text, count, {"method": "GET", "route": "/things/{thing_id}", "status": "404"}) == 1
    assert sample_value(text, count, {"method": "GET", "route": "<unmatched>", "status": "404"}) == 1
    assert 't1"' not in text, "raw paths never become labels"
    duration = "jinlin_http_request_duration_seconds_count"
    assert sample_value(text, duration, {"method": "POST", "route": "/things"}) == 1


async def test_metrics_read_registered_samplers_at_each_scrape(
    client: httpx.AsyncClient, metrics: ServiceMetrics
) -> None:
    lag = {"relay": 3}

    async def relay_lag() -> int:
        return lag["relay"]

    def broken() -> float:
        raise RuntimeError("consumer gone")

    metrics.sample(metrics.relay_lag, relay_lag)
    metrics.sample(metrics.consumer_lag, lambda: 7, consumer="cases")
    metrics.sample(metrics.dead_letters, broken, consumer="cases")

    first = (await client.get("/metrics")).text
    assert sample_value(first, "jinlin_relay_lag_events", {}) == 3
    assert sample_value(first, "jinlin_consumer_lag_messages", {"consumer": "cases"}) == 7
    dead = sample_value(first, "jinlin_dead_letters", {"consumer": "cases"})
    assert dead is not None
    assert math.isnan(dead), "a sampler that fails reports NaN, not a stale figure"

    lag["relay"] = 0
    second = (await client.get("/metrics")).text
    assert sample_value(second, "jinlin_relay_lag_events", {}) == 0


async def test_two_apps_in_one_process_keep_separate_metrics() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()
    first.observe_request("GET", "/x", 200, 0.01)
    assert "jinlin_http_requests_total" in (await first.render())[0].decode()
    assert 'route="/x"' not in (await second.render())[0].decode()
