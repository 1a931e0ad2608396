"""Pipelined JetStream publishing: many messages in flight, each ack (or refusal) matched to its message.

nats-py 2.16's ``publish_async`` cannot be used for this: when the server refuses a message (``wrong last
sequence``, say) its reply handler raises instead of failing the message's future, so the future never completes
and the refusal surfaces only as a timeout. This publisher sends the messages back to back on the connection (so
the server sees them in the order given) with a reply subject of its own, and resolves each future from the reply.
"""

import asyncio
import itertools
import json

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import Header, PubAck
from nats.js.errors import APIError, NoStreamResponseError

NO_RESPONDERS = "503"


class AckedPublisher:
    """Publishes to JetStream without waiting between messages; each publish returns a future of its ack."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self._prefix: str | None = None
        self._subscription: Subscription | None = None
        self._tokens = itertools.count()
        self._waiting: dict[str, asyncio.Future[PubAck]] = {}

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> asyncio.Future[PubAck]:
        """Send one message; the future completes with its :class:`PubAck` or the server's refusal."""
        if self._prefix is None:
            prefix = self.nc.new_inbox() + "."
            # nats-py re-subscribes after a reconnect, so this one subscription lives as long as the connection.
            self._subscription = await self.nc.subscribe(prefix + "*", cb=self._on_reply)
            self._prefix = prefix
        token = str(next(self._tokens))
        future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        try:
            await self.nc.publish(subject, payload, reply=self._prefix + token, headers=headers)
        except BaseException:
            self._waiting.pop(token, None)
            raise
        future.add_done_callback(lambda _: self._waiting.pop(token, None))
        return future

    async def _on_reply(self, msg: Msg) -> None:
        assert self._prefix is not None
        future = self._waiting.pop(msg.subject[len(self._prefix) :], None)
        if future is None or future.done():
            return  # the publisher gave up on it (timeout): a late ack changes nothing
        if msg.headers and msg.headers.get(Header.STATUS.value) == NO_RESPONDERS:
            future.set_exception(NoStreamResponseError())
            return
        try:
            reply = json.loads(msg.data)
            if "error" in reply:
                APIError.from_error(reply["error"])  # raises the matching APIError subclass
            future.set_result(PubAck.from_response(reply))
        except Exception as refusal:
            future.set_exception(refusal)

    @property
    def in_flight(self) -> int:
        return len(self._waiting)

    async def close(self) -> None:
        for future in list(self._waiting.values()):
            future.cancel()
        self._waiting.clear()
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None
            self._prefix = None
