"""``jinlin notary pull`` against a real nats-server: the ESCROW stream holds statements among other escrow events;
the notary gets exactly the statements, each once."""

import asyncio
import json
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from billing_escrow.domain import StatementIssued, registry
from billing_escrow.statements.keys import public_key_pem
from billing_escrow.statements.pull import PullError, pull_statements
from jinlin.cli.main import cli
from jinlin.events import GENESIS_HASH, CloudEvent, DomainEvent, event_hash
from jinlin.events.envelope import CONTENT_TYPE
from jinlin.messaging.connection import connect_nats
from jinlin.messaging.streams import ensure_stream
from jinlin.natsauth.config import include_directive
from jinlin.natsauth.generate import init_auth
from jinlin.natsauth.policy import NOTARY_DURABLE
from jinlin.runtime.nats_server import NatsServer
from jinlin.service import ServiceSpec

ESCROW = ServiceSpec(name="billing-escrow", token="escrow", default_port=8083, app_factory="unused:unused")


class Log:
    """The escrow service's side: its events as CloudEvents, hash-chained, published on their subjects."""

    def __init__(self) -> None:
        self.sequence, self.prevhash = 0, GENESIS_HASH
        self.versions: dict[str, int] = {}

    def envelope(self, event: DomainEvent, aggregate: str, aggregate_id: str) -> tuple[str, CloudEvent]:
        self.sequence += 1
        stream = f"{aggregate}.{aggregate_id}"
        self.versions[stream] = self.versions.get(stream, 0) + 1
        fields: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "source": "/jinlin/escrow",
            "type": registry.type_of(event),
            "subject": aggregate_id,
            "time": event.occurred_at.isoformat(),
            "datacontenttype": "application/json",
            "data": json.loads(event.model_dump_json()),
            "caseid": aggregate_id,
            "causationid": f"cmd-{self.sequence}",
            "actor": "fin-wang",
            "streamversion": self.versions[stream],
            "sequence": self.sequence,
            "prevhash": self.prevhash,
            "specversion": "1.0",
        }
        fields["hash"] = event_hash(fields)
        self.prevhash = fields["hash"]
        return f"jinlin.escrow.{aggregate}.{aggregate_id}.{event.token()}", CloudEvent.model_validate(fields)


async def publish(url: str, messages: Sequence[tuple[str, CloudEvent]], creds: Path | None = None) -> None:
    nc = await connect_nats(url, name="escrow-test-publisher", creds=creds, first_connect_timeout=5)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "ESCROW", "jinlin.escrow.>")
        for subject, envelope in messages:
            headers = {"Nats-Msg-Id": envelope.id, "Content-Type": CONTENT_TYPE}
            await js.publish(subject, envelope.to_json_bytes(), headers=headers)
    finally:
        await nc.close()


def history(chain: Any, statements: Sequence[StatementIssued], log: Log) -> list[tuple[str, CloudEvent]]:
    """The account's events with the statements among them, as the service's log would interleave them."""
    account_events = chain.books.account_events
    messages = [log.envelope(e, "account", e.account_id) for e in account_events[: len(account_events) // 2]]
    for statement in statements:
        messages.append(log.envelope(statement, "statement", statement.account_id))
    messages += [log.envelope(e, "account", e.account_id) for e in account_events[len(account_events) // 2 :]]
    return messages


def pull(directory: Path, url: str, *extra: str) -> Result:
    args = ["notary", "pull", "--to", str(directory), "--nats-url", url, "--timeout", "3", *extra]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def files_in(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


STEMS = [
    "jyht-electricity/000001-st-2025-03",
    "jyht-electricity/000002-st-2025-04",
    "jyht-electricity/000003-st-2025-05",
]


def test_pull_writes_exactly_the_statements_once(nats_server: NatsServer, chain: Any, tmp_path: Path) -> None:
    log = Log()
    asyncio.run(publish(nats_server.url, history(chain, chain.events[:2], log)))
    inbox = tmp_path / "notary"

    first = pull(inbox, nats_server.url)
    assert first.exit_code == 0, first.output
    assert sorted(files_in(inbox)) == sorted(
        f"{stem}{suffix}" for stem in STEMS[:2] for suffix in (".json", ".xml", ".pdf")
    )
    assert "2 new statement(s)" in first.output
    # The JSON is the signed document exactly as the event carried it.
    written = json.loads((inbox / f"{STEMS[0]}.json").read_text())
    assert written["signature"] == chain.events[0].signature.model_dump()
    assert written["statement"] == json.loads(chain.events[0].statement.model_dump_json())

    # Each statement was acknowledged once its files were written: nothing waits, nothing awaits an ack.
    assert asyncio.run(_consumer_counts(nats_server.url)) == {"pending": 0, "awaiting_ack": 0}
    before = files_in(inbox)
    second = pull(inbox, nats_server.url)
    assert second.exit_code == 0, second.output
    assert "0 new statement(s)" in second.output
    assert files_in(inbox) == before

    asyncio.run(publish(nats_server.url, history(chain, chain.events[2:], log)))
    third = pull(inbox, nats_server.url)
    assert third.exit_code == 0, third.output
    assert set(files_in(inbox)) - set(before) == {f"{STEMS[2]}{suffix}" for suffix in (".json", ".xml", ".pdf")}
    assert "1 new statement(s)" in third.output

    key = tmp_path / "center.pub.pem"
    key.write_text(public_key_pem(chain.key))
    verified = CliRunner().invoke(cli, ["notary", "verify", "--key", str(key), str(inbox)])
    assert verified.exit_code == 0, verified.output
    assert "all good: 3 statement(s)" in verified.output


def test_an_unsigned_statement_is_pulled_and_then_refused_by_verify(
    nats_server: NatsServer, chain: Any, tmp_path: Path
) -> None:
    log = Log()
    unsigned = chain.books.issued[0]
    asyncio.run(publish(nats_server.url, [log.envelope(unsigned, "statement", unsigned.account_id)]))
    inbox = tmp_path / "notary"
    assert pull(inbox, nats_server.url).exit_code == 0
    verified = CliRunner().invoke(cli, ["notary", "verify", str(inbox)])
    assert verified.exit_code == 1
    assert "st-2025-03 (jyht-electricity #1, 000001-st-2025-03.json): it is not signed" in verified.output


def test_a_file_that_differs_is_not_overwritten(nats_server: NatsServer, chain: Any, tmp_path: Path) -> None:
    log = Log()
    event = chain.events[0]
    asyncio.run(publish(nats_server.url, [log.envelope(event, "statement", event.account_id)]))
    inbox = tmp_path / "notary"
    target = inbox / f"{STEMS[0]}.json"
    target.parent.mkdir(parents=True)
    target.write_text("{}")
    result = pull(inbox, nats_server.url)
    assert result.exit_code == 1
    assert "exists with other content; it was left as it is" in result.output
    assert target.read_text() == "{}"
    # Not acknowledged: delivered and awaiting its ack, so it comes again on a pull after its ack wait.
    assert asyncio.run(_consumer_counts(nats_server.url)) == {"pending": 0, "awaiting_ack": 1}


async def _consumer_counts(url: str) -> dict[str, int]:
    nc = await connect_nats(url, name="inspect", first_connect_timeout=5)
    try:
        info = await nc.jetstream().consumer_info("ESCROW", NOTARY_DURABLE)
        return {"pending": info.num_pending, "awaiting_ack": info.num_ack_pending}
    finally:
        await nc.close()


def test_no_stream_is_a_clear_error(nats_server: NatsServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["notary", "pull", "--to", str(tmp_path), "--nats-url", nats_server.url, "--timeout", "3"]
    )
    assert result.exit_code == 1
    assert "there is no stream ESCROW" in result.output


# --- as the notary's NATS user, with the permissions of `jinlin nats init-auth` -------------------------------------


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[NatsServer, Any]]:
    setup = init_auth(tmp_path / "auth", [ESCROW])
    server = NatsServer(data_dir=tmp_path / "nats")
    server.extra_config = include_directive(server.config_path, setup.config_path)
    server.start()
    try:
        yield server, setup
    finally:
        server.stop()


def test_the_notary_user_pulls_statements_and_nothing_else(
    secured: tuple[NatsServer, Any], chain: Any, tmp_path: Path
) -> None:
    server, setup = secured
    log = Log()
    asyncio.run(publish(server.url, history(chain, chain.events, log), creds=setup.seed_path("billing-escrow")))
    notary = setup.seed_path("notary")

    # The notary may not make a consumer that reads more than statements: the server refuses it.
    with pytest.raises(PullError, match="did not answer"):
        asyncio.run(pull_statements(server.url, tmp_path / "x", creds=notary, subjects="jinlin.escrow.>", wait=2))
    assert (
        'Publish Violation - Subject "$JS.API.CONSUMER.CREATE.ESCROW.notary.jinlin.escrow.>"'
        in (server.data_dir / "nats-server.log").read_text()
    )
    assert not (tmp_path / "x").exists()

    inbox = tmp_path / "notary"
    first = pull(inbox, server.url, "--creds", str(notary))
    assert first.exit_code == 0, first.output
    assert sorted(p for p in files_in(inbox) if p.endswith(".json")) == [f"{stem}.json" for stem in STEMS]
    second = pull(inbox, server.url, "--creds", str(notary))
    assert second.exit_code == 0, second.output
    assert "0 new statement(s)" in second.output

    # Without credentials nobody gets in.
    refused = CliRunner().invoke(
        cli, ["notary", "pull", "--to", str(tmp_path / "y"), "--nats-url", server.url, "--timeout", "2"]
    )
    assert refused.exit_code == 1
    assert "no NATS server" in refused.output
