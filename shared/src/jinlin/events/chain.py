"""The hash chain: each event's SHA-256 covers its canonical form, which includes its predecessor's hash."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jinlin.events.canonical import canonical_json
from jinlin.events.envelope import CloudEvent

GENESIS_HASH = "0" * 64


def event_hash(hashed_fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(hashed_fields)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first position where a log stops being the chain it claims to be."""

    sequence: int
    reason: str


def find_chain_break(
    events: Iterable[CloudEvent], *, start_prevhash: str = GENESIS_HASH, start_sequence: int = 1
) -> ChainBreak | None:
    """Walk a log in order; return the first event that was altered, removed, inserted or reordered."""
    expected_prev = start_prevhash
    expected_sequence = start_sequence
    for event in events:
        if event.sequence != expected_sequence:
            return ChainBreak(expected_sequence, f"expected sequence {expected_sequence}, found {event.sequence}")
        if event.prevhash != expected_prev:
            return ChainBreak(event.sequence, "prevhash does not match the previous event's hash")
        if event_hash(event.hashed_fields()) != event.hash:
            return ChainBreak(event.sequence, "content does not match its hash")
        expected_prev = event.hash
        expected_sequence += 1
    return None
