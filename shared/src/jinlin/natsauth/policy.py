"""Who may publish and subscribe to what on NATS: one user per service, the staff console, the notary and the
provisioner (see ``docs/adr/0010-nats-users-and-permissions.md``).

Permissions are lists of subjects a user may publish to and subscribe to; everything else is refused. JetStream is
driven by publishing requests to ``$JS.API.<verb>.<stream>[.<consumer>[.<filter>]]`` and by acking to the reply
subjects of delivered messages, so a grant on those subjects is a grant on that stream or that consumer. NATS
wildcards match whole tokens only: a durable's name is one token, so grants name durables exactly (or ``*``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from jinlin.messaging.streams import DEADLETTER_STREAM
from jinlin.service import ServiceSpec

CONSOLE = "staff-console"
NOTARY = "notary"
PROVISIONER = "provisioner"
RESERVED_NAMES = (CONSOLE, NOTARY, PROVISIONER)

CONSOLE_TOKEN = "console"  # noqa: S105 (a NATS subject token, not a secret)
"""The console's token in dead-letter subjects until it registers a :class:`ServiceSpec` of its own."""

CONTRACT_STREAMS = {"complaints": "COMPLAINTS", "mediation": "MEDIATION", "escrow": "ESCROW"}
"""The event streams of the NATS contract, by service token, whether or not the service is installed here."""

NOTARY_STREAM = "ESCROW"
NOTARY_DURABLE = "notary"
NOTARY_FILTER = "jinlin.escrow.statement.>"

JS_API = "$JS.API"
ALL_INBOXES = "_INBOX.>"

Kind = Literal["service", "console", "notary", "provisioner"]


@dataclass(frozen=True)
class ConsumerGrant:
    """A durable consumer a user may create, read from and ack on one stream.

    ``durable`` is the consumer's name, or ``*`` for any consumer on that stream. With ``filter_subject`` the
    consumer may only be created through the API subject that carries its filter, which the server checks
    against the consumer's configuration: the user can then never widen what the consumer reads.
    """

    stream: str
    durable: str = "*"
    filter_subject: str | None = None

    def subjects(self) -> list[str]:
        stream, durable = self.stream, self.durable
        if self.filter_subject is not None:
            create = [f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.{self.filter_subject}"]
        else:
            create = [
                f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}",
                f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.>",
                f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            ]
        return [
            *create,
            f"{JS_API}.CONSUMER.INFO.{stream}.{durable}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
            # Acks, naks and progress go to the delivered message's reply subject, in either of its two formats:
            # $JS.ACK.<stream>.<consumer>.… and (with a JetStream domain) $JS.ACK.<domain>.<account hash>.<stream>.….
            f"$JS.ACK.{stream}.{durable}.>",
            f"$JS.ACK.*.*.{stream}.{durable}.>",
        ]


DECLARED_CONSUMERS: dict[str, tuple[ConsumerGrant, ...]] = {
    "complaints": (ConsumerGrant("MEDIATION", "complaints-mediation-outcomes"),),
    "mediation": (
        ConsumerGrant("COMPLAINTS", "mediation-escalations"),
        ConsumerGrant("ESCROW", "mediation-fulfilments"),
    ),
    "billing-escrow": (),
    CONSOLE: (
        ConsumerGrant("COMPLAINTS", "console-complaints"),
        ConsumerGrant("MEDIATION", "console-mediation"),
        ConsumerGrant("ESCROW", "console-escrow"),
    ),
}
"""The durable consumers each service keeps, by service name. A service or console missing here may use any
durable on the other event streams (see :func:`consumer_grants`) until its durables are declared."""


@dataclass(frozen=True)
class Principal:
    """One NATS user: a name (its seed file is ``<name>.nk``), what it is, and what it may publish."""

    name: str
    kind: Kind
    summary: str
    publish: tuple[str, ...]
    consumers: tuple[ConsumerGrant, ...] = field(default=())
    reads_any_inbox: bool = False
    """Only the provisioner, an operator's tool that may be a stock ``nats`` CLI using plain ``_INBOX.``."""

    def publish_subjects(self) -> list[str]:
        subjects = list(self.publish)
        for grant in self.consumers:
            subjects.extend(grant.subjects())
        return list(dict.fromkeys(subjects))


def stream_owner_subjects(stream: str) -> list[str]:
    """What a relay does on its own stream: create or update it, read its state and its messages."""
    return [
        f"{JS_API}.STREAM.INFO.{stream}",
        f"{JS_API}.STREAM.CREATE.{stream}",
        f"{JS_API}.STREAM.UPDATE.{stream}",
        f"{JS_API}.STREAM.MSG.GET.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}.>",
    ]


def deadletter_subjects(token: str) -> list[str]:
    """A consumer's way to give up on a message: publish it to ``jinlin.dlq.<token>.<durable>``, after making
    sure the dead-letter stream exists (every consumer does on start)."""
    return [
        f"jinlin.dlq.{token}.>",
        f"{JS_API}.STREAM.INFO.{DEADLETTER_STREAM}",
        f"{JS_API}.STREAM.CREATE.{DEADLETTER_STREAM}",
        f"{JS_API}.STREAM.UPDATE.{DEADLETTER_STREAM}",
    ]


def event_streams(specs: Iterable[ServiceSpec]) -> dict[str, str]:
    """Token → stream of every event stream: the contract's and any installed service's."""
    streams = dict(CONTRACT_STREAMS)
    for spec in specs:
        if spec.name != CONSOLE:
            streams[spec.token] = spec.stream_name
    return streams


def consumer_grants(name: str, own_stream: str | None, streams: Iterable[str]) -> tuple[ConsumerGrant, ...]:
    """The declared durables of ``name``, or else any durable on each event stream but its own."""
    if name in DECLARED_CONSUMERS:
        return DECLARED_CONSUMERS[name]
    return tuple(ConsumerGrant(stream) for stream in sorted(set(streams)) if stream != own_stream)


def service_principal(spec: ServiceSpec, streams: Iterable[str]) -> Principal:
    if spec.name in RESERVED_NAMES:
        raise ValueError(f"a service may not be named {spec.name!r}: the name is reserved for a NATS user")
    return Principal(
        name=spec.name,
        kind="service",
        summary=f"publishes {spec.subjects}; relay of {spec.stream_name}",
        publish=(spec.subjects, *stream_owner_subjects(spec.stream_name), *deadletter_subjects(spec.token)),
        consumers=consumer_grants(spec.name, spec.stream_name, streams),
    )


def console_principal(spec: ServiceSpec | None, streams: Iterable[str]) -> Principal:
    """The staff console publishes no event: only its consumers' API calls, acks and dead letters."""
    token = spec.token if spec is not None else CONSOLE_TOKEN
    return Principal(
        name=CONSOLE,
        kind="console",
        summary="publishes no event; reads the event streams through its own consumers",
        publish=tuple(deadletter_subjects(token)),
        consumers=consumer_grants(CONSOLE, None, streams),
    )


def notary_principal() -> Principal:
    """The notary office reads escrow statements through one consumer whose filter it cannot change."""
    return Principal(
        name=NOTARY,
        kind="notary",
        summary=f"reads {NOTARY_FILTER} only, through durable {NOTARY_DURABLE!r} on {NOTARY_STREAM}",
        publish=(),
        consumers=(ConsumerGrant(NOTARY_STREAM, NOTARY_DURABLE, NOTARY_FILTER),),
    )


def provisioner_principal() -> Principal:
    """The operators' JetStream administrator: streams, consumers, backups, audits. It publishes no event."""
    return Principal(
        name=PROVISIONER,
        kind="provisioner",
        summary="administers JetStream (streams, consumers, snapshots); publishes no event",
        publish=(f"{JS_API}.>", "$JS.ACK.>", "$JS.FC.>", "$JS.SNAPSHOT.>"),
        reads_any_inbox=True,
    )


def principals(specs: Sequence[ServiceSpec]) -> list[Principal]:
    """Every NATS user of the deployment: each service, the staff console, the notary and the provisioner."""
    streams = set(event_streams(specs).values())
    console_spec = next((spec for spec in specs if spec.name == CONSOLE), None)
    users = [service_principal(spec, streams) for spec in specs if spec.name != CONSOLE]
    users += [console_principal(console_spec, streams), notary_principal(), provisioner_principal()]
    return users
