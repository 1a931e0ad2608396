"""The console's durable consumers in JetStream, seen from an operator's tool: are they in use, and resetting them.

A durable consumer remembers in JetStream how far it got. Deleting it is how it starts over: the console creates
it again on its next start with "deliver all", so it reads its stream from the first message. Only the provisioner
may delete consumers; the console's own NATS user may create and read its consumers, never delete them.
"""

import asyncio
from collections.abc import Sequence

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from staff_console.durables import Durable

LEFTOVER_PULL_SECONDS = 1.2
"""A running console asks for messages with pull requests that expire after its fetch timeout (1 s): any request
still waiting after this long comes from a console that is running now, not one that just stopped."""


async def consumers_in_use(
    js: JetStreamContext, durables: Sequence[Durable], *, watch: float = 1.3, interval: float = 0.25
) -> list[str]:
    """The durables some running process pulls from (a pull request of theirs waits on the server), watched for
    ``watch`` seconds after the leftovers of a console that just stopped have expired."""
    await asyncio.sleep(LEFTOVER_PULL_SECONDS)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + watch
    pulled: set[str] = set()
    while True:
        for durable in durables:
            try:
                info = await js.consumer_info(durable.stream, durable.name)
            except NotFoundError:  # the consumer, or its whole stream, does not exist (yet)
                continue
            if info.num_waiting:
                pulled.add(durable.name)
        if loop.time() >= deadline:
            return sorted(pulled)
        await asyncio.sleep(interval)


async def delete_consumers(js: JetStreamContext, durables: Sequence[Durable]) -> list[str]:
    """Delete each durable that exists; returns the names of those deleted."""
    deleted = []
    for durable in durables:
        try:
            await js.delete_consumer(durable.stream, durable.name)
        except NotFoundError:
            continue
        deleted.append(durable.name)
    return deleted
