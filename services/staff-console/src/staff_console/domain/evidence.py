"""The signed evidence file of a case, and its offline check (``jinlin audit verify-export FILE``).

The file is JSON::

    {
      "format": "jinlin-evidence/1",
      "case_id": "...", "exported_at": "...", "exported_by": "staff:...",
      "events": [{"service": "complaints", "envelope": {CloudEvent}}, ...],          # in causal order
      "chains": {"complaints": {"links": [{"sequence", "hash", "prevhash"}, ...],   # contiguous
                                "head": {"sequence", "hash"}}},
      "signer": {"algorithm": "Ed25519", "public_key": "<base64>", "key_id": "<hex>"},
      "signature": "<base64 Ed25519 signature over the RFC 8785 canonical JSON of everything else>"
    }

``events`` are the case's timeline: besides the events carrying the case id, those that caused them or that they
caused, and each complaint's history from before it joined the case; each keeps the ``caseid`` it was recorded
with, so the check relies on hashes, links and order, never on case ids.

Per service, ``links`` run without a gap from the case's first event in that service's log to its last, so the
file shows that nothing between them was removed; the other cases' events in that stretch appear only as their
hashes (their content is none of this case's business). ``head`` is the newest position the console held, which
anyone with access can compare with the service's JetStream stream.

The check recomputes every event's hash from its content, walks each chain segment, places each event on it,
checks that the events are in causal order, and verifies the signature; each problem names where it is.
"""

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jinlin.events.canonical import canonical_json
from jinlin.events.chain import GENESIS_HASH, event_hash

FORMAT = "jinlin-evidence/1"
ALGORITHM = "Ed25519"


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sign_evidence(document: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The document with ``signer`` and ``signature`` added (any earlier ones replaced)."""
    raw = public_key_bytes(private_key.public_key())
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    unsigned["signer"] = {"algorithm": ALGORITHM, "public_key": _b64(raw), "key_id": key_id(raw)}
    signature = private_key.sign(canonical_json(unsigned))
    return {**unsigned, "signature": _b64(signature)}


@dataclass
class EvidenceReport:
    problems: list[str] = field(default_factory=list)
    case_id: str = ""
    events: int = 0
    services: list[str] = field(default_factory=list)
    key_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


class _Malformed(Exception):
    pass


def _need(mapping: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(mapping, dict) or not isinstance(mapping.get(key), kind):
        raise _Malformed(f"{where}: {key} is missing or not a {kind.__name__}")
    return mapping[key]


def _event_label(index: int, service: str, envelope: Mapping[str, Any]) -> str:
    return f"event {index + 1} ({service} #{envelope.get('sequence')}, {envelope.get('type')}, id {envelope.get('id')})"


def _check_events(document: dict[str, Any], report: EvidenceReport) -> list[tuple[str, dict[str, Any]]]:
    events = _need(document, "events", list, "file")
    parsed: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(events):
        service = _need(item, "service", str, f"event {index + 1}")
        envelope = _need(item, "envelope", dict, f"event {index + 1}")
        for name, kind in (("id", str), ("hash", str), ("prevhash", str), ("sequence", int), ("causationid", str)):
            _need(envelope, name, kind, _event_label(index, service, envelope))
        hashed = {key: value for key, value in envelope.items() if key != "hash"}
        if event_hash(hashed) != envelope["hash"]:
            report.problems.append(f"{_event_label(index, service, envelope)}: content does not match its hash")
        parsed.append((service, envelope))
    return parsed


def _check_chains(
    document: dict[str, Any], events: Sequence[tuple[str, dict[str, Any]]], report: EvidenceReport
) -> None:
    chains = _need(document, "chains", dict, "file")
    for service in sorted({service for service, _ in events} - set(chains)):
        report.problems.append(f"{service}: no chain segment for its events")
    for service, chain in sorted(chains.items()):
        links = _need(chain, "links", list, f"chain of {service}")
        held: dict[int, dict[str, Any]] = {}
        previous: dict[str, Any] | None = None
        for position, link in enumerate(links):
            where = f"chain of {service}, link {position + 1}"
            sequence = _need(link, "sequence", int, where)
            _need(link, "hash", str, where)
            _need(link, "prevhash", str, where)
            if previous is not None and sequence != previous["sequence"] + 1:
                report.problems.append(
                    f"{service}: sequence {previous['sequence'] + 1} is missing from the chain segment "
                    f"(next is {sequence})"
                )
            elif previous is not None and link["prevhash"] != previous["hash"]:
                report.problems.append(f"{service} #{sequence}: prevhash does not match the hash of #{sequence - 1}")
            elif previous is None and sequence == 1 and link["prevhash"] != GENESIS_HASH:
                report.problems.append(f"{service} #1: the first event's prevhash is not the genesis hash")
            held[sequence] = link
            previous = link
        for index, (event_service, envelope) in enumerate(events):
            if event_service != service:
                continue
            link = held.get(envelope["sequence"])
            if link is None:
                report.problems.append(f"{_event_label(index, service, envelope)}: not on the chain segment")
            elif (link["hash"], link["prevhash"]) != (envelope["hash"], envelope["prevhash"]):
                report.problems.append(
                    f"{_event_label(index, service, envelope)}: not the event the chain holds at #{link['sequence']}"
                )


def _check_causal_order(events: Sequence[tuple[str, dict[str, Any]]], report: EvidenceReport) -> None:
    position = {envelope["id"]: index for index, (_, envelope) in enumerate(events)}
    last_sequence: dict[str, int] = {}
    for index, (service, envelope) in enumerate(events):
        cause = position.get(envelope["causationid"])
        if cause is not None and cause >= index:
            report.problems.append(
                f"{_event_label(index, service, envelope)}: comes before the event that caused it (event {cause + 1})"
            )
        if envelope["sequence"] <= last_sequence.get(service, 0):
            report.problems.append(
                f"{_event_label(index, service, envelope)}: out of order in its service's log "
                f"(after #{last_sequence[service]})"
            )
        last_sequence[service] = max(envelope["sequence"], last_sequence.get(service, 0))


def _check_signature(document: dict[str, Any], trusted_keys: Sequence[bytes] | None, report: EvidenceReport) -> None:
    signer = _need(document, "signer", dict, "file")
    if signer.get("algorithm") != ALGORITHM:
        report.problems.append(f"signature: unsupported algorithm {signer.get('algorithm')!r}")
        return
    try:
        raw = base64.b64decode(_need(signer, "public_key", str, "signer"), validate=True)
        signature = base64.b64decode(_need(document, "signature", str, "file"), validate=True)
        key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        report.problems.append("signature: the public key or the signature is not valid base64 Ed25519")
        return
    report.key_id = key_id(raw)
    if trusted_keys is not None and raw not in trusted_keys:
        report.problems.append(f"signature: signed by key {report.key_id}, which is not a trusted console key")
    unsigned = {name: value for name, value in document.items() if name != "signature"}
    try:
        key.verify(signature, canonical_json(unsigned))
    except InvalidSignature:
        report.problems.append(f"signature: does not verify with key {report.key_id} (the file was changed)")


def verify_evidence(document: Any, trusted_keys: Sequence[bytes] | None = None) -> EvidenceReport:
    """Every problem of an evidence file, the most specific first (events, chains, order, then the signature)."""
    report = EvidenceReport()
    try:
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise _Malformed(f"not a {FORMAT} file")
        report.case_id = str(document.get("case_id", ""))
        events = _check_events(document, report)
        report.events = len(events)
        report.services = sorted({service for service, _ in events})
        _check_chains(document, events, report)
        _check_causal_order(events, report)
        _check_signature(document, trusted_keys, report)
    except _Malformed as exc:
        report.problems.append(str(exc))
    return report
