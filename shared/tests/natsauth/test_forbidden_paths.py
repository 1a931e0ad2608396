"""Everything the generated `auth.conf` must refuse, refused by a real nats-server: publishing into another
service's subjects, the notary reading anything but statements, the console publishing, strangers connecting."""

import json
import shutil
import signal

import nats
import nats.errors
import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from jinlin.messaging import DEADLETTER_STREAM, Relay, connect_nats, ensure_deadletter_stream, ensure_stream
from jinlin.natsauth.generate import init_auth
from jinlin.natsauth.keys import SeedFileError, inbox_prefix, new_user_seed, write_seed
from jinlin.natsauth.policy import NOTARY_DURABLE, NOTARY_FILTER

STREAMS = {"COMPLAINTS": "jinlin.complaints.>", "MEDIATION": "jinlin.mediation.>", "ESCROW": "jinlin.escrow.>"}


@pytest.fixture
async def admin(connect_as):
    """The provisioner, with every stream of the contract (and the dead letters) in place."""
    connected = await connect_as("provisioner")
    js = connected.nc.jetstream()
    for name, subjects in STREAMS.items():
        await ensure_stream(js, name, subjects)
    await ensure_deadletter_stream(js)
    return js


async def _messages_everywhere(admin) -> dict[str, int]:
    return {name: (await admin.stream_info(name)).state.messages for name in [*STREAMS, DEADLETTER_STREAM]}


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("complaints", "jinlin.mediation.agreement.a-1.agreement_took_effect"),
        ("complaints", "jinlin.escrow.statement.s-1.statement_issued"),
        ("complaints", "jinlin.dlq.mediation.mediation-complaints"),
        ("mediation", "jinlin.complaints.complaint.c-1.complaint_filed"),
        ("billing-escrow", "jinlin.complaints.complaint.c-1.complaint_filed"),
        ("staff-console", "jinlin.complaints.complaint.c-1.complaint_filed"),
        ("staff-console", "jinlin.escrow.statement.s-1.statement_issued"),
        ("notary", "jinlin.escrow.statement.s-1.statement_issued"),
        ("provisioner", "jinlin.complaints.complaint.c-1.complaint_filed"),
    ],
)
async def test_no_user_publishes_into_subjects_that_are_not_its_own(connect_as, admin, user, subject) -> None:
    client = await connect_as(user)
    with pytest.raises(TimeoutError):
        await client.nc.jetstream(timeout=0.5).publish(subject, b'{"forged": true}')
    await client.refused("permissions violation for publish", subject)
    assert set((await _messages_everywhere(admin)).values()) == {0}, "a refused message was stored somewhere"


@pytest.mark.parametrize(
    ("user", "api_subject"),
    [
        ("complaints", "$JS.API.STREAM.UPDATE.MEDIATION"),
        ("complaints", "$JS.API.STREAM.DELETE.COMPLAINTS"),
        ("complaints", "$JS.API.STREAM.PURGE.COMPLAINTS"),
        ("complaints", "$JS.API.STREAM.MSG.GET.ESCROW"),
        ("complaints", "$JS.API.CONSUMER.CREATE.MEDIATION.mediation-reader"),
        ("complaints", "$JS.API.CONSUMER.MSG.NEXT.MEDIATION.staff-console-mediation"),
        ("complaints", "$JS.API.CONSUMER.CREATE.COMPLAINTS.complaints-own"),
        ("staff-console", "$JS.API.STREAM.CREATE.COMPLAINTS"),
        ("staff-console", "$JS.API.STREAM.MSG.GET.COMPLAINTS"),
        ("staff-console", "$JS.API.CONSUMER.MSG.NEXT.MEDIATION.complaints-mediation-outcomes"),
        ("notary", "$JS.API.STREAM.INFO.COMPLAINTS"),
        ("notary", "$JS.API.STREAM.MSG.GET.ESCROW"),
        ("notary", "$JS.API.DIRECT.GET.ESCROW"),
        ("notary", "$JS.API.CONSUMER.CREATE.ESCROW.notary"),
        ("notary", "$JS.API.CONSUMER.CREATE.ESCROW.other-name.jinlin.escrow.statement.>"),
        ("provisioner", "$SYS.REQ.SERVER.PING"),
    ],
)
async def test_jetstream_calls_outside_a_users_grant_are_refused(connect_as, admin, user, api_subject) -> None:
    client = await connect_as(user)
    with pytest.raises(TimeoutError):
        await client.nc.request(api_subject, b"{}", timeout=0.5)
    await client.refused("permissions violation for publish", api_subject)


async def test_the_notary_cannot_read_complaints_nor_escrow_beyond_statements(
    connect_as, admin, auth, stores, append_events, events
) -> None:
    complaints = await connect_as("complaints")
    complaints_store = await stores("complaints", events.complaints)
    await append_events(complaints_store, "complaint", [events.ComplaintFiled(n=1)])
    await Relay(complaints_store, complaints.nc, stream="COMPLAINTS").publish_pending()
    escrow = await connect_as("billing-escrow")
    escrow_store = await stores("escrow", events.escrow)
    await append_events(escrow_store, "payment", [events.PaymentPosted(n=1)])
    await Relay(escrow_store, escrow.nc, stream="ESCROW").publish_pending()

    notary = await connect_as("notary")
    js = notary.nc.jetstream(timeout=0.5)

    # A consumer on the complaints stream, whatever its filter.
    with pytest.raises(TimeoutError):
        await js.add_consumer("COMPLAINTS", ConsumerConfig(name=NOTARY_DURABLE, filter_subject="jinlin.complaints.>"))
    await notary.refused("publish", "$js.api.consumer.create.complaints.notary")
    # Its own consumer on ESCROW, but wider than statements: by the subject, then by the request behind it.
    with pytest.raises(TimeoutError):
        await js.add_consumer("ESCROW", ConsumerConfig(name=NOTARY_DURABLE, filter_subject="jinlin.escrow.>"))
    await notary.refused("publish", "$js.api.consumer.create.escrow.notary.jinlin.escrow.>")
    wider = {"name": NOTARY_DURABLE, "durable_name": NOTARY_DURABLE, "ack_policy": "explicit"}
    for body in [wider | {"filter_subject": "jinlin.escrow.>"}, wider | {"filter_subjects": ["jinlin.escrow.>"]}]:
        subject = f"$JS.API.CONSUMER.CREATE.ESCROW.{NOTARY_DURABLE}.{NOTARY_FILTER}"
        reply = await notary.nc.request(subject, json.dumps({"stream_name": "ESCROW", "config": body}).encode())
        assert "error" in json.loads(reply.data), f"the server accepted {body}"
    # Messages by sequence, past any consumer.
    with pytest.raises(TimeoutError):
        await js.get_msg("ESCROW", seq=1)
    with pytest.raises(TimeoutError):
        await js.get_msg("ESCROW", seq=1, direct=True)
    # Core subscriptions: the events' subjects, every inbox, another user's inbox.
    complaints_inbox = inbox_prefix(auth.user("complaints").public_key)
    for subject in ["jinlin.complaints.>", "jinlin.escrow.>", "_INBOX.>", f"{complaints_inbox}.>"]:
        received = []

        async def keep(message, received=received) -> None:
            received.append(message)

        await notary.nc.subscribe(subject, cb=keep)
        await notary.refused("permissions violation for subscription", subject)
        assert received == []

    with pytest.raises(NotFoundError):
        await admin.consumer_info("COMPLAINTS", NOTARY_DURABLE)
    with pytest.raises(NotFoundError):
        await admin.consumer_info("ESCROW", NOTARY_DURABLE)


async def test_the_notary_cannot_widen_its_consumer_once_created(connect_as, admin) -> None:
    notary = await connect_as("notary")
    js = notary.nc.jetstream(timeout=0.5)
    statements = ConsumerConfig(
        name=NOTARY_DURABLE, durable_name=NOTARY_DURABLE, filter_subject=NOTARY_FILTER, ack_policy=AckPolicy.EXPLICIT
    )
    await js.add_consumer("ESCROW", statements)
    subject = f"$JS.API.CONSUMER.CREATE.ESCROW.{NOTARY_DURABLE}.{NOTARY_FILTER}"
    widened = statements.as_dict() | {"filter_subject": "jinlin.escrow.>"}
    reply = await notary.nc.request(subject, json.dumps({"stream_name": "ESCROW", "config": widened}).encode())
    assert "error" in json.loads(reply.data)
    assert (await admin.consumer_info("ESCROW", NOTARY_DURABLE)).config.filter_subject == NOTARY_FILTER


async def test_a_key_the_server_does_not_know_is_refused_at_connect(secured_nats, tmp_path, error_log) -> None:
    stranger = tmp_path / "stranger.nk"
    write_seed(stranger, new_user_seed())
    log = error_log()
    with pytest.raises(TimeoutError):
        await connect_nats(secured_nats.url, name="stranger", creds=stranger, log=log, first_connect_timeout=2)
    assert log.mentions("authorization violation"), log.errors


async def test_no_credentials_are_refused_at_connect(secured_nats) -> None:
    with pytest.raises(nats.errors.Error, match=r"(?i)authorization violation"):
        await nats.connect(secured_nats.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


async def test_a_file_that_is_no_user_seed_is_a_clear_error_before_connecting(secured_nats, tmp_path) -> None:
    broken = tmp_path / "broken.nk"
    broken.write_text("SUAM-not-a-seed\n")
    with pytest.raises(SeedFileError, match=r"broken\.nk"):
        await connect_nats(secured_nats.url, name="broken", creds=broken, first_connect_timeout=2)


async def test_a_rotated_key_replaces_the_old_one_after_a_reload(
    secured_nats, auth, specs, tmp_path, error_log, eventually
) -> None:
    old = tmp_path / "complaints-before-rotation.nk"
    shutil.copy(auth.seed_path("complaints"), old)
    rotated = init_auth(auth.directory, specs, rotate=["complaints"])
    assert rotated.user("complaints").public_key != auth.user("complaints").public_key
    assert secured_nats.process is not None
    secured_nats.process.send_signal(signal.SIGHUP)  # what `nats-server --signal reload` sends

    async def new_key_accepted() -> bool:
        try:
            nc = await connect_nats(
                secured_nats.url,
                name="rotated",
                creds=rotated.seed_path("complaints"),
                log=error_log(),
                first_connect_timeout=1,
            )
        except TimeoutError:
            return False
        await nc.close()
        return True

    await eventually(new_key_accepted, what="the reloaded server accepting the new key")
    log = error_log()
    with pytest.raises(TimeoutError):
        await connect_nats(secured_nats.url, name="old", creds=old, log=log, first_connect_timeout=2)
    assert log.mentions("authorization violation")
