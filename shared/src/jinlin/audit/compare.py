"""The pure part of an audit: given the store's log and the stream's messages, name the first bad position."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from jinlin.events.chain import find_chain_break
from jinlin.events.envelope import CloudEvent


@dataclass(frozen=True)
class AuditFinding:
    where: str
    """``store`` or ``jetstream``."""
    sequence: int
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: position {self.sequence}: {self.reason}"


@dataclass
class AuditReport:
    service: str
    store_events: int = 0
    stream_messages: int = 0
    findings: list[AuditFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad_position(self) -> int | None:
        return min((f.sequence for f in self.findings), default=None)


def compare_store_with_stream(
    service: str, store_log: Sequence[CloudEvent], stream_messages: Sequence[tuple[int, bytes]] | None
) -> AuditReport:
    """Check the store's chain on its own, then that the stream is the same chain, message by message.

    ``stream_messages`` are (stream sequence, body) pairs; None when JetStream was not checked. The stream may
    lag behind the store (events not yet relayed), which is noted, not a finding; anything else is.
    """
    report = AuditReport(service=service, store_events=len(store_log))
    chain_break = find_chain_break(store_log)
    if chain_break is not None:
        report.findings.append(AuditFinding("store", chain_break.sequence, chain_break.reason))
    if stream_messages is None:
        report.notes.append("JetStream not checked")
        return report
    report.stream_messages = len(stream_messages)
    by_sequence = {event.sequence: event for event in store_log}
    for position, (stream_seq, body) in enumerate(stream_messages, start=1):
        if stream_seq != position:
            report.findings.append(
                AuditFinding("jetstream", position, f"stream sequence {stream_seq} where {position} was expected")
            )
            break
        try:
            published = CloudEvent.from_json_bytes(body)
        except ValidationError:
            report.findings.append(AuditFinding("jetstream", position, "message is not a valid event"))
            break
        stored = by_sequence.get(position)
        if stored is None:
            report.findings.append(AuditFinding("store", position, "published event is missing from the store"))
            break
        if published.sequence != position:
            report.findings.append(AuditFinding("jetstream", position, f"message claims sequence {published.sequence}"))
            break
        if published != stored:
            differing = sorted(k for k, v in published.model_dump().items() if stored.model_dump()[k] != v)
            report.findings.append(
                AuditFinding("store", position, f"differs from the published event in {', '.join(differing)}")
            )
            break
    if len(stream_messages) < len(store_log):
        report.notes.append(f"{len(store_log) - len(stream_messages)} event(s) not yet published")
    return report
