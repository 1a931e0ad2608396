"""Everything a user of the generated `auth.conf` must be able to do, done through the kernel's own code paths
against a real nats-server: a relay creating, updating and checking its stream; a consumer of another service's
stream applying, dead-lettering and acking; the notary reading statements; the provisioner administering."""

from dataclasses import replace

from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from jinlin.messaging import DEADLETTER_STREAM, DLQ_REASON, DurableConsumer, PermanentError, Relay
from jinlin.natsauth.policy import NOTARY_DURABLE, NOTARY_FILTER


async def test_a_service_relay_creates_updates_and_checks_its_own_stream(
    connect_as, stores, append_events, events
) -> None:
    service = await connect_as("complaints")
    admin = (await connect_as("provisioner")).nc.jetstream()
    store = await stores("complaints", events.complaints)
    await append_events(store, "complaint", [events.ComplaintFiled(n=1), events.ComplaintFiled(n=2)])

    assert await Relay(store, service.nc, stream="COMPLAINTS", subjects="jinlin.complaints.>").publish_pending() == 2

    # An operator shortens a setting the relay owns; the relay's next start puts it back (STREAM.UPDATE) and, starting
    # from a position it never recorded, checks every message already in the stream (STREAM.MSG.GET).
    info = await admin.stream_info("COMPLAINTS")
    await admin.update_stream(replace(info.config, duplicate_window=30.0))
    await append_events(store, "complaint", [events.ComplaintFiled(n=3)])
    restarted = Relay(store, service.nc, stream="COMPLAINTS", subjects="jinlin.complaints.>", position_name="fresh")
    assert await restarted.publish_pending() == 1

    info = await admin.stream_info("COMPLAINTS")
    assert info.state.messages == 3
    assert info.config.duplicate_window == 120.0
    assert service.log.errors == []


async def test_a_service_consumes_another_stream_end_to_end(
    connect_as, stores, append_events, eventually, events
) -> None:
    mediation = await connect_as("mediation")
    complaints = await connect_as("complaints")
    admin = (await connect_as("provisioner")).nc.jetstream()
    mediation_store = await stores("mediation", events.mediation)
    await append_events(mediation_store, "agreement", [events.AgreementTookEffect(n=n) for n in (1, 2, 3)])
    assert await Relay(mediation_store, mediation.nc, stream="MEDIATION").publish_pending() == 3

    applied: list[int] = []

    async def handler(_tx, event) -> None:
        if event.data["n"] == 2:
            raise PermanentError("agreement 2 names no complaint")
        applied.append(event.data["n"])

    durable = "complaints-mediation-outcomes"
    consumer = DurableConsumer(
        complaints.nc,
        await stores("complaints", events.complaints),
        stream="MEDIATION",
        durable=durable,
        filter_subjects="jinlin.mediation.>",
        handler=handler,
    )

    async def all_answered() -> bool:
        await consumer.poll_once()
        return consumer.processed + consumer.dead_lettered == 3

    await eventually(all_answered, what="every mediation event applied or dead-lettered")
    assert sorted(applied) == [1, 3]

    dead = await admin.get_msg(DEADLETTER_STREAM, seq=1)
    assert dead.subject == f"jinlin.dlq.complaints.{durable}"
    assert "agreement 2 names no complaint" in (dead.headers or {})[DLQ_REASON]

    async def nothing_left() -> bool:  # every ack reached the server
        info = await admin.consumer_info("MEDIATION", durable)
        return info.num_pending == 0 and info.num_ack_pending == 0

    await eventually(nothing_left, what="the consumer's acks")
    assert await consumer.backlog() == 0  # its own CONSUMER.INFO, as the metrics read it
    assert complaints.log.errors == []


async def test_the_notary_reads_statements_through_its_consumer(connect_as, stores, append_events, events) -> None:
    escrow = await connect_as("billing-escrow")
    store = await stores("escrow", events.escrow)
    await append_events(store, "payment", [events.PaymentPosted(n=1)])
    await append_events(store, "statement", [events.StatementIssued(n=2)])
    assert await Relay(store, escrow.nc, stream="ESCROW").publish_pending() == 2

    notary = await connect_as("notary")
    js = notary.nc.jetstream()
    config = ConsumerConfig(
        name=NOTARY_DURABLE, durable_name=NOTARY_DURABLE, filter_subject=NOTARY_FILTER, ack_policy=AckPolicy.EXPLICIT
    )
    await js.add_consumer("ESCROW", config)
    subscription = await js.pull_subscribe_bind(NOTARY_DURABLE, stream="ESCROW")
    messages = await subscription.fetch(10, timeout=2)
    assert [message.subject for message in messages] == ["jinlin.escrow.statement.statement-0.statement_issued"]
    for message in messages:
        await message.ack_sync()

    info = await js.consumer_info("ESCROW", NOTARY_DURABLE)
    assert info.num_ack_pending == 0
    assert info.num_pending == 0
    assert notary.log.errors == []


async def test_the_staff_console_reads_every_event_stream_through_its_consumers(
    connect_as, stores, append_events, eventually, events
) -> None:
    service = await connect_as("complaints")
    store = await stores("complaints", events.complaints)
    await append_events(store, "complaint", [events.ComplaintFiled(n=1)])
    await Relay(store, service.nc, stream="COMPLAINTS").publish_pending()

    console = await connect_as("staff-console")
    seen: list[str] = []

    async def handler(_tx, event) -> None:
        seen.append(event.type)

    consumer = DurableConsumer(
        console.nc,
        await stores("console", events.complaints),
        stream="COMPLAINTS",
        durable="console-complaints",
        filter_subjects="jinlin.complaints.>",
        handler=handler,
    )

    async def read() -> bool:
        await consumer.poll_once()
        return bool(seen)

    await eventually(read, what="the console's read of the complaints stream")
    assert seen == ["jinlin.complaints.ComplaintFiled.v1"]
    assert console.log.errors == []


async def test_the_provisioner_creates_every_stream_and_publishes_no_event(connect_as) -> None:
    admin = await connect_as("provisioner")
    js = admin.nc.jetstream()
    for name, subjects in [("COMPLAINTS", "jinlin.complaints.>"), ("ESCROW", "jinlin.escrow.>")]:
        await js.add_stream(StreamConfig(name=name, subjects=[subjects], storage=StorageType.FILE))
    assert sorted(stream.config.name for stream in await js.streams_info()) == ["COMPLAINTS", "ESCROW"]
    assert admin.log.errors == []
