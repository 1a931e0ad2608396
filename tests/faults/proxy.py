"""A small TCP proxy between the services and NATS that can misbehave on command.

It runs its own event loop in a thread of its own, so nothing the test does (a blocking call, a busy loop) can
stall it by accident: the only faults are the ones asked for.

- :meth:`ChaosProxy.black_hole`: every connection, old and new, is accepted and read, and nothing is forwarded in
  either direction: bytes vanish as on a cut cable, the client's writes succeed and no answer ever comes.
  :meth:`~ChaosProxy.heal` resets those connections (as a partition long enough kills the TCP connections across
  it) and forwards again.
- :meth:`ChaosProxy.reset_storm`: every connection is reset at once, and every new one is reset after a random
  lifetime of at most ``max_life`` seconds (some die before the NATS handshake, some in the middle of traffic).
"""

import asyncio
import contextlib
import random
import socket
import struct
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    FORWARD = "forward"
    BLACK_HOLE = "black hole"
    RESET_STORM = "reset storm"


@dataclass
class ProxyStats:
    accepted: int = 0
    forwarded_bytes: int = 0
    swallowed_bytes: int = 0
    resets: int = 0


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    swallowing: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _reset(writer: asyncio.StreamWriter | None) -> None:
    """Close with an RST, not a FIN: the peer sees "connection reset by peer"."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ChaosProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1", host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.mode = Mode.FORWARD
        self.max_life = 0.3
        self.stats = ProxyStats()
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._random = random.Random(20261129)  # chaos, not cryptography

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    # -- control, from any thread ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def black_hole(self) -> None:
        self._call(self._set_mode(Mode.BLACK_HOLE))

    def reset_storm(self, max_life: float = 0.3) -> None:
        self.max_life = max_life
        self._call(self._set_mode(Mode.RESET_STORM))

    def heal(self) -> None:
        self._call(self._set_mode(Mode.FORWARD))

    def _call(self, work: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(10)

    # -- inside the proxy's loop ---------------------------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            self._drop(link)

    async def _set_mode(self, mode: Mode) -> None:
        previous, self.mode = self.mode, mode
        if mode is Mode.BLACK_HOLE:
            for link in self._links:
                link.swallowing = True
        elif mode is Mode.RESET_STORM or previous is Mode.BLACK_HOLE:
            for link in list(self._links):
                self._drop(link)

    def _drop(self, link: _Link) -> None:
        self.stats.resets += 1
        _reset(link.client)
        _reset(link.upstream)
        for task in link.tasks:
            task.cancel()
        self._links.discard(link)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        link = _Link(writer, swallowing=self.mode is Mode.BLACK_HOLE)
        self._links.add(link)
        if link.swallowing:
            link.tasks.append(asyncio.current_task())  # type: ignore[arg-type]
            await self._pump(reader, None, link)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._drop(link)  # the server is down: the client sees its connection reset
            return
        link.upstream = up_writer
        if link not in self._links:  # dropped while connecting
            _reset(up_writer)
            return
        loop = asyncio.get_running_loop()
        link.tasks += [
            loop.create_task(self._pump(reader, up_writer, link)),
            loop.create_task(self._pump(up_reader, writer, link)),
        ]
        if self.mode is Mode.RESET_STORM:
            loop.call_later(self._random.uniform(0, self.max_life), self._drop_if_open, link)

    def _drop_if_open(self, link: _Link) -> None:
        if link in self._links:
            self._drop(link)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None, link: _Link) -> None:
        try:
            while data := await reader.read(65536):
                if link.swallowing or writer is None:
                    self.stats.swallowed_bytes += len(data)
                    continue
                writer.write(data)
                await writer.drain()
                self.stats.forwarded_bytes += len(data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            return
        if link in self._links:
            # One side closed: close the other, as a plain TCP relay does.
            self._links.discard(link)
            for side in (link.client, link.upstream):
                if side is not None:
                    side.close()
            for task in link.tasks:
                if task is not asyncio.current_task():
                    task.cancel()
