"""The NATS connection of a long-running service: it never gives up, and it notices a dead server quickly."""

import time

import pytest

from jinlin.messaging import connect_nats
from jinlin.runtime.nats_server import NatsServer
from jinlin.runtime.ports import free_port


async def test_connection_reconnects_forever_and_pings_often(nats_server: NatsServer) -> None:
    nc = await connect_nats(nats_server.url, name="svc", first_connect_timeout=10)
    try:
        assert nc.is_connected
        assert nc.options["max_reconnect_attempts"] == -1, "nats-py's default gives up after about two minutes"
        assert nc.options["ping_interval"] <= 10
        assert nc.options["reconnect_time_wait"] <= 1
    finally:
        await nc.close()


async def test_first_connection_can_be_bounded() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="no NATS server accepted connection 'svc'"):
        await connect_nats(f"nats://127.0.0.1:{free_port()}", name="svc", first_connect_timeout=1.0)
    assert time.monotonic() - started < 5
