"""Read a whole JetStream stream back, in order, for an audit."""

from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError


async def read_stream_messages(
    nc: Client, stream: str, subjects: str, idle_timeout: float = 10.0
) -> list[tuple[int, bytes]]:
    """Every message of ``stream`` as (stream sequence, body); empty when the stream does not exist."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return []
    last = info.state.last_seq
    if info.state.messages == 0:
        return []
    messages: list[tuple[int, bytes]] = []
    # An ordered consumer is ephemeral, flow-controlled and gap-checked by the client.
    sub = await js.subscribe(subjects, stream=stream, ordered_consumer=True)
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=idle_timeout)
            except NatsTimeout:
                break
            seq = msg.metadata.sequence.stream
            messages.append((seq, msg.data))
            if seq >= last:
                break
    finally:
        await sub.unsubscribe()
    return messages
