"""``jinlin notary pull --to DIR``: fetch the statements issued since the last pull, as the notary's NATS user.

The notary's user may only read ``jinlin.escrow.statement.>`` from the ``ESCROW`` stream, through its own durable
pull consumer (``jinlin.natsauth.policy``: stream, durable and filter are that policy's). The consumer is created on
the first pull (delivering every statement issued so far) and remembers what was acknowledged, so each pull brings
only what is new. A statement is acknowledged only after its files are on disk; one that cannot be written is left
unacknowledged and comes again on a later pull.

Each ``StatementIssued`` event becomes ``DIR/<account_id>/<sequence:06d>-<statement_id>.json``, the signed document
exactly as the event carries it (statement, hashes, signature), and beside it the ``.xml`` (camt.053) and ``.pdf``
rendered here from the statement. Check them with ``jinlin notary verify DIR``.
"""

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from billing_escrow.domain.events import registry
from billing_escrow.domain.identifiers import IDENTIFIER_PATTERN
from billing_escrow.domain.statement_events import StatementIssued
from billing_escrow.statements.render import render_documents
from billing_escrow.statements.signing import envelope_bytes, envelope_of_event_data
from jinlin.events.envelope import CloudEvent
from jinlin.messaging.connection import connect_nats
from jinlin.natsauth.policy import NOTARY_DURABLE, NOTARY_FILTER, NOTARY_STREAM

BATCH: Final = 100
ACK_WAIT_SECONDS: Final = 60.0
STREAM_NOT_FOUND: Final = 10059  # JetStream's error code
_IDENTIFIER: Final = re.compile(IDENTIFIER_PATTERN)


class PullError(RuntimeError):
    """The pull could not start: no server, bad credentials, no stream, a consumer configured otherwise."""


@dataclass
class PullReport:
    written: list[Path] = field(default_factory=list)
    """The JSON file of each new statement."""
    already_had: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def store_statement(directory: Path, data: dict[str, Any], event_type: str | None = None) -> tuple[Path, bool]:
    """Write one ``StatementIssued`` event's documents under ``directory``; returns the JSON path and whether it is
    new (``False``: the same document was there already). Raises ``ValueError`` for an event it cannot store.

    ``event_type`` is the CloudEvents type it came with (an older version is upcast to render it)."""
    account_id, statement_id, sequence = data.get("account_id"), data.get("statement_id"), data.get("sequence")
    # These become file names: they must be identifiers, never a path.
    if not (isinstance(account_id, str) and _IDENTIFIER.match(account_id)):
        raise ValueError(f"its account id {account_id!r} is not an identifier")
    if not (isinstance(statement_id, str) and _IDENTIFIER.match(statement_id)):
        raise ValueError(f"its statement id {statement_id!r} is not an identifier")
    if not (type(sequence) is int and sequence >= 1):
        raise ValueError(f"its sequence {sequence!r} is not a positive integer")
    document = envelope_bytes(envelope_of_event_data(data))
    base = directory / account_id / f"{sequence:06d}-{statement_id}"
    json_path = base.with_suffix(".json")
    if json_path.exists():
        if json_path.read_bytes() == document:
            return json_path, False
        raise ValueError(f"{json_path} exists with other content; it was left as it is")
    try:
        event = registry.decode(event_type or registry.type_of(StatementIssued), dict(data))
    except (ValidationError, LookupError) as exc:
        # Keep the signed document all the same: it is the evidence, and `verify` will say what is wrong with it.
        _write_atomically(json_path, document)
        raise ValueError(f"wrote {json_path.name}, but could not read it as a statement event: {exc}") from None
    assert isinstance(event, StatementIssued)
    rendered = render_documents(event.statement, event.signature)
    _write_atomically(base.with_suffix(".xml"), rendered.xml)
    _write_atomically(base.with_suffix(".pdf"), rendered.pdf)
    _write_atomically(json_path, document)  # last: a JSON file means its XML and PDF are there too
    return json_path, True


async def _ensure_consumer(js: JetStreamContext, stream: str, durable: str, subjects: str, wait: float) -> int:
    """Create the durable consumer if it is not there; returns how many statements wait."""
    no_stream = f"there is no stream {stream} on the server (has the escrow service started?)"
    try:
        try:
            info = await js.consumer_info(stream, durable, timeout=wait)
        except NotFoundError as exc:
            if exc.err_code == STREAM_NOT_FOUND:
                raise PullError(no_stream) from None
            config = ConsumerConfig(
                name=durable,
                durable_name=durable,
                filter_subject=subjects,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=ACK_WAIT_SECONDS,
            )
            try:
                info = await js.add_consumer(stream, config, timeout=wait)
            except NotFoundError:
                raise PullError(no_stream) from None
    except TimeoutError:
        # A request the user may not make is refused by the server without an answer: it times out.
        raise PullError(
            f"JetStream did not answer about consumer {durable} on {stream} (is JetStream enabled, and may this "
            "user read these statements?)"
        ) from None
    if info.config.filter_subject != subjects:
        raise PullError(f"consumer {durable} on {stream} reads {info.config.filter_subject!r}, not {subjects!r}")
    return int(info.num_pending or 0)


def _event(msg: Msg) -> tuple[str, dict[str, Any]]:
    try:
        envelope = CloudEvent.from_json_bytes(msg.data)
        name, _ = registry.parse_type(envelope.type)
    except (ValidationError, LookupError) as exc:
        raise ValueError(f"it is not an escrow event ({exc})") from None
    if name != StatementIssued.event_name():
        raise ValueError(f"it is a {envelope.type}, not a statement")
    return envelope.type, envelope.data


async def pull_statements(
    nats_url: str | list[str],
    directory: Path,
    *,
    creds: str | Path | None = None,
    stream: str = NOTARY_STREAM,
    durable: str = NOTARY_DURABLE,
    subjects: str = NOTARY_FILTER,
    wait: float = 5.0,
) -> PullReport:
    """Fetch every statement not yet acknowledged by ``durable`` and write it under ``directory``.

    ``wait`` bounds, in seconds, each wait for the server (connecting, each JetStream request)."""
    report = PullReport()
    try:
        nc = await connect_nats(nats_url, name="notary-pull", creds=creds, first_connect_timeout=wait)
    except TimeoutError:
        raise PullError(f"no NATS server at {nats_url} accepted the connection (check the URL and --creds)") from None
    try:
        js = nc.jetstream(timeout=wait)
        pending = await _ensure_consumer(js, stream, durable, subjects, wait)
        if pending == 0:
            return report
        subscription = await js.pull_subscribe_bind(durable=durable, stream=stream)
        while pending > 0:
            try:
                messages = await subscription.fetch(batch=min(pending, BATCH), timeout=wait)
            except TimeoutError:
                report.problems.append(f"{pending} statement(s) are waiting but none was delivered; pull again later")
                break
            for msg in messages:
                pending = msg.metadata.num_pending
                where = f"message {msg.metadata.sequence.stream} on {msg.subject}"
                try:
                    event_type, data = _event(msg)
                    path, new = store_statement(directory, data, event_type)
                except (ValueError, OSError) as exc:
                    report.problems.append(f"{where}: {exc}")
                    continue  # not acknowledged: it comes again on a later pull
                await msg.ack_sync(timeout=wait)
                (report.written if new else report.already_had).append(path)
        return report
    finally:
        await nc.close()


def summary_lines(report: PullReport, directory: Path) -> list[str]:
    lines = [f"new  {path.relative_to(directory)} (+ .xml, .pdf)" for path in report.written]
    lines += [f"had  {path.relative_to(directory)}" for path in report.already_had]
    lines += [f"problem: {problem}" for problem in report.problems]
    lines.append(f"{len(report.written)} new statement(s) in {directory}")
    return lines
