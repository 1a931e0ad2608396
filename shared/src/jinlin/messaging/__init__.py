"""NATS plumbing: the connection, the streams, the relay (log → JetStream) and durable consumers."""

from jinlin.messaging.connection import connect_nats
from jinlin.messaging.consumer import (
    DLQ_CONSUMER,
    DLQ_DELIVERIES,
    DLQ_ORIGINAL_MSG_ID,
    DLQ_REASON,
    DLQ_STREAM,
    DLQ_STREAM_SEQ,
    DLQ_SUBJECT,
    DurableConsumer,
    MessageHandler,
    PermanentError,
    dead_letter_subject,
)
from jinlin.messaging.publisher import AckedPublisher
from jinlin.messaging.relay import Relay, RelayDivergedError, event_headers
from jinlin.messaging.streams import (
    DEADLETTER_STREAM,
    DEADLETTER_SUBJECTS,
    DUPLICATE_WINDOW_SECONDS,
    StreamConfigError,
    ensure_deadletter_stream,
    ensure_stream,
)

__all__ = [
    "DEADLETTER_STREAM",
    "DEADLETTER_SUBJECTS",
    "DLQ_CONSUMER",
    "DLQ_DELIVERIES",
    "DLQ_ORIGINAL_MSG_ID",
    "DLQ_REASON",
    "DLQ_STREAM",
    "DLQ_STREAM_SEQ",
    "DLQ_SUBJECT",
    "DUPLICATE_WINDOW_SECONDS",
    "AckedPublisher",
    "DurableConsumer",
    "MessageHandler",
    "PermanentError",
    "Relay",
    "RelayDivergedError",
    "StreamConfigError",
    "connect_nats",
    "dead_letter_subject",
    "ensure_deadletter_stream",
    "ensure_stream",
    "event_headers",
]
