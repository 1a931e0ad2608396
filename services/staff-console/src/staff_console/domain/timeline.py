"""A case's timeline: every event of every service, in causal order, each checked against its service's chain.

The console holds each service's whole log (its consumers read every stream from the start), so it can check an
event three ways without asking anyone:

- its **content**: ``event_hash(envelope.hashed_fields())`` equals the ``hash`` it carries;
- its **link back**: its ``prevhash`` is the hash of the event before it in the same service's log (or 64 zeros
  for the first one);
- its **link forward**: the next event of that log, when received, names this one's hash as its ``prevhash``
  (an altered event whose hash was recomputed breaks here).

Order: by time, then so that no event comes before the event that caused it (``causationid``) nor before an
earlier event of its own service's log; clocks of different services may disagree, causation may not.
"""

import heapq
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from jinlin.events.chain import GENESIS_HASH, event_hash
from jinlin.events.envelope import CloudEvent


@dataclass(frozen=True)
class LoggedEvent:
    """An event as the console received it: its service's token and its envelope."""

    service: str
    envelope: CloudEvent

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def sequence(self) -> int:
        return self.envelope.sequence


@dataclass(frozen=True)
class ChainLink:
    """What the chain needs of a neighbour: its position and its two hashes."""

    sequence: int
    hash: str
    prevhash: str


class LinkState(StrEnum):
    OK = "ok"
    BROKEN = "broken"
    NOT_RECEIVED = "not_received"
    """The neighbour has not reached the console (yet): nothing can be said either way."""


@dataclass(frozen=True)
class Verification:
    content_ok: bool
    back: LinkState
    forward: LinkState
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """Content intact and linked to its predecessor; the successor, when there is one, links to it."""
        return self.content_ok and self.back is LinkState.OK and self.forward is not LinkState.BROKEN


def content_intact(envelope: CloudEvent) -> bool:
    return event_hash(envelope.hashed_fields()) == envelope.hash


def verify_event(envelope: CloudEvent, predecessor: ChainLink | None, successor: ChainLink | None) -> Verification:
    """Check one event against its neighbours in its service's log (``None``: not received)."""
    problems: list[str] = []
    content_ok = content_intact(envelope)
    if not content_ok:
        problems.append("content does not match its hash")
    if envelope.sequence == 1:
        back = LinkState.OK if envelope.prevhash == GENESIS_HASH else LinkState.BROKEN
    elif predecessor is None:
        back = LinkState.NOT_RECEIVED
        problems.append(f"event #{envelope.sequence - 1} of its log has not been received")
    else:
        back = LinkState.OK if predecessor.hash == envelope.prevhash else LinkState.BROKEN
    if back is LinkState.BROKEN:
        problems.append("prevhash does not match the previous event's hash")
    if successor is None:
        forward = LinkState.NOT_RECEIVED
    elif successor.prevhash == envelope.hash:
        forward = LinkState.OK
    else:
        forward = LinkState.BROKEN
        problems.append(f"event #{successor.sequence} does not link to this event's hash")
    return Verification(content_ok, back, forward, tuple(problems))


def _instant(envelope: CloudEvent) -> datetime:
    return datetime.fromisoformat(envelope.time)


def causal_order(events: Iterable[LoggedEvent]) -> list[LoggedEvent]:
    """By time, except that an event never precedes its cause or an earlier event of its own service's log."""
    unique = list({event.id: event for event in events}.values())
    by_id = {event.id: event for event in unique}
    after: dict[str, list[str]] = {event.id: [] for event in unique}
    waiting_for: dict[str, int] = {event.id: 0 for event in unique}

    def edge(first: str, then: str) -> None:
        after[first].append(then)
        waiting_for[then] += 1

    for event in unique:
        cause = event.envelope.causationid
        if cause in by_id and cause != event.id:
            edge(cause, event.id)
    per_service: dict[str, list[LoggedEvent]] = {}
    for event in unique:
        per_service.setdefault(event.service, []).append(event)
    for log in per_service.values():
        log.sort(key=lambda e: e.sequence)
        for earlier, later in itertools.pairwise(log):
            edge(earlier.id, later.id)

    def key(event: LoggedEvent) -> tuple[datetime, str, int]:
        return (_instant(event.envelope), event.service, event.sequence)

    ready = [(key(event), event.id) for event in unique if waiting_for[event.id] == 0]
    heapq.heapify(ready)
    ordered: list[LoggedEvent] = []
    while ready:
        _, event_id = heapq.heappop(ready)
        ordered.append(by_id[event_id])
        for then in after[event_id]:
            waiting_for[then] -= 1
            if waiting_for[then] == 0:
                heapq.heappush(ready, (key(by_id[then]), then))
    if len(ordered) < len(unique):  # a causation cycle: only a forged log has one; keep the rest by time
        placed = {event.id for event in ordered}
        ordered += sorted((e for e in unique if e.id not in placed), key=key)
    return ordered


@dataclass(frozen=True)
class TimelineEntry:
    event: LoggedEvent
    verification: Verification
    cause: LoggedEvent | None
    """The event that caused this one, when it is in the timeline; else the cause was a command."""
    effects: tuple[str, ...] = field(default=())


def build_timeline(
    events: Sequence[LoggedEvent], neighbours: Mapping[tuple[str, int], ChainLink]
) -> list[TimelineEntry]:
    """Order and verify. ``neighbours`` holds every link the console has at the positions around the events."""
    ordered = causal_order(events)
    by_id = {event.id: event for event in ordered}
    effects: dict[str, list[str]] = {}
    for event in ordered:
        effects.setdefault(event.envelope.causationid, []).append(event.id)
    entries = []
    for event in ordered:
        envelope = event.envelope
        verification = verify_event(
            envelope,
            neighbours.get((event.service, envelope.sequence - 1)),
            neighbours.get((event.service, envelope.sequence + 1)),
        )
        entries.append(
            TimelineEntry(event, verification, by_id.get(envelope.causationid), tuple(effects.get(event.id, ())))
        )
    return entries
