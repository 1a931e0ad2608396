"""Connecting to NATS the way a long-running service must: reconnect forever, notice a dead link quickly.

nats-py's defaults suit a script, not a service: it gives up after 60 reconnect attempts (about two minutes) and
pings only every two minutes, so a half-open TCP connection goes unnoticed for up to four. Everything it reports
goes to structlog; nothing logged here carries message content, credentials or personal data.
"""

import asyncio
from pathlib import Path
from typing import Any

import structlog
from nats.aio.client import Client
from structlog.typing import FilteringBoundLogger

from jinlin.natsauth.keys import inbox_prefix_of_seed_file

PING_INTERVAL_SECONDS = 5
"""With two unanswered pings allowed, a dead server is noticed within about 15 s."""
MAX_OUTSTANDING_PINGS = 2
RECONNECT_WAIT_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 2


def server_address(nc: Client) -> str | None:
    """``host:port`` of the server the client talks to, without any user or password from the URL."""
    url = nc.connected_url
    if url is None or url.hostname is None:
        return None
    return f"{url.hostname}:{url.port}" if url.port else url.hostname


def _credential_options(path: Path) -> dict[str, str]:
    """nats-py takes a ``.creds`` file (JWT and seed) and a bare NKey seed file under different options.

    A seed's user may only read replies under its own inbox prefix (``jinlin nats init-auth``), so it uses it.
    """
    if "BEGIN NATS USER JWT" in path.read_text():
        return {"user_credentials": str(path)}
    return {"nkeys_seed": str(path), "inbox_prefix": inbox_prefix_of_seed_file(path)}


class _ConnectionEvents:
    """The client's callbacks. A streak of identical failures while a server is down logs once, not every 0.5 s."""

    def __init__(self, name: str, log: FilteringBoundLogger) -> None:
        self.name = name
        self.log = log
        self.client: Client | None = None
        self._last_error: str | None = None

    async def on_error(self, exc: Exception) -> None:
        # Only the class and the client's own message: nats-py's errors name servers and subjects, never payloads.
        error = f"{type(exc).__name__}: {exc}"
        if error == self._last_error:
            self.log.debug("nats.error", connection=self.name, error=error)
            return
        self._last_error = error
        self.log.warning("nats.error", connection=self.name, error=error)

    async def on_disconnected(self) -> None:
        self.log.warning("nats.disconnected", connection=self.name)

    async def on_reconnected(self) -> None:
        self._last_error = None
        server = server_address(self.client) if self.client else None
        self.log.info("nats.reconnected", connection=self.name, server=server)

    async def on_closed(self) -> None:
        self.log.info("nats.closed", connection=self.name)


async def connect_nats(
    url: str | list[str],
    *,
    name: str,
    user: str | None = None,
    password: str | None = None,
    creds: str | Path | None = None,
    log: FilteringBoundLogger | None = None,
    ping_interval: float = PING_INTERVAL_SECONDS,
    max_outstanding_pings: int = MAX_OUTSTANDING_PINGS,
    reconnect_time_wait: float = RECONNECT_WAIT_SECONDS,
    first_connect_timeout: float | None = None,
) -> Client:
    """Connect, retrying until a server answers, and keep reconnecting for as long as the client lives.

    ``creds`` is a NATS ``.creds`` file (user JWT and NKey seed) or a bare NKey seed file; signing with either
    needs the ``nkeys`` package.
    ``first_connect_timeout`` bounds the wait for the first server (``TimeoutError`` after it, e.g. for bad
    credentials at start-up); ``None`` waits for as long as it takes, as a service started before NATS should.
    Publishes made while disconnected are buffered (up to nats-py's 2 MiB) and sent after reconnecting; callers
    that need to know a message arrived wait for a JetStream ack, never for ``publish()`` to return.
    """
    if isinstance(url, str) and "," in url:
        # A cluster given as one setting ("nats://a:4222,nats://b:4222"): every tool and service accepts that form.
        url = [part.strip() for part in url.split(",") if part.strip()]
    events = _ConnectionEvents(name, log or structlog.get_logger())
    options: dict[str, Any] = {
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": reconnect_time_wait,
        "ping_interval": ping_interval,
        "max_outstanding_pings": max_outstanding_pings,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "error_cb": events.on_error,
        "disconnected_cb": events.on_disconnected,
        "reconnected_cb": events.on_reconnected,
        "closed_cb": events.on_closed,
    }
    if user is not None:
        options["user"] = user
        options["password"] = password
    if creds is not None:
        options.update(_credential_options(Path(creds)))
    nc = Client()
    events.client = nc
    try:
        await asyncio.wait_for(nc.connect(url, **options), first_connect_timeout)
    except TimeoutError:
        await nc.close()
        raise TimeoutError(f"no NATS server accepted connection {name!r} within {first_connect_timeout} s") from None
    events.log.info("nats.connected", connection=name, server=server_address(nc))
    return nc
