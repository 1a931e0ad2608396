"""Tables of the kernel. Services add their read-model tables to their own metadata."""

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text, UniqueConstraint

kernel_metadata = MetaData()

events = Table(
    "events",
    kernel_metadata,
    # The log position, assigned under the store's write lock: dense, in commit order.
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(64), nullable=False, unique=True),
    Column("stream", String(210), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(200), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("nats_subject", String(400), nullable=False),
    Column("time", String(40), nullable=False),
    Column("caseid", String(200), nullable=False, index=True),
    Column("causationid", String(200), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("data", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("prevhash", String(64), nullable=False),
    UniqueConstraint("stream", "stream_version", name="uq_events_stream_version"),
)

idempotency = Table(
    "idempotency",
    kernel_metadata,
    Column("scope", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

processed_messages = Table(
    "processed_messages",
    kernel_metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("processed_at", String(40), nullable=False),
)

positions = Table(
    "positions",
    kernel_metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# Personal data keys (see jinlin.privacy): deleting a row erases that person's data everywhere it was sealed.
person_keys = Table(
    "person_keys",
    kernel_metadata,
    Column("person_ref", String(100), primary_key=True),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", String(40), nullable=False),
)
