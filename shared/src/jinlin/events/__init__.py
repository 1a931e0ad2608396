"""Events: typed domain events, the CloudEvents envelope, the registry and the hash chain."""

from jinlin.events.base import DomainEvent
from jinlin.events.chain import GENESIS_HASH, ChainBreak, event_hash, find_chain_break
from jinlin.events.envelope import CloudEvent
from jinlin.events.registry import EventRegistry, UnknownEventType

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "CloudEvent",
    "DomainEvent",
    "EventRegistry",
    "UnknownEventType",
    "event_hash",
    "find_chain_break",
]
