"""The event store: an append-only, hash-chained log in SQLite or PostgreSQL, with read models beside it."""

from jinlin.store.engine import StoreEngines, create_engines
from jinlin.store.errors import ConcurrencyError, StoreError
from jinlin.store.projection import Projection
from jinlin.store.records import ANY_VERSION, CommandContext, StoredEvent, StoredResponse, Stream
from jinlin.store.store import EventStore, Transaction

__all__ = [
    "ANY_VERSION",
    "CommandContext",
    "ConcurrencyError",
    "EventStore",
    "Projection",
    "StoreEngines",
    "StoreError",
    "StoredEvent",
    "StoredResponse",
    "Stream",
    "Transaction",
    "create_engines",
]
