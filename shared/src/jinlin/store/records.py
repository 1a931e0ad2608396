"""Plain values the store hands in and out."""

import re
from dataclasses import dataclass, field
from typing import Any, Final

from jinlin.events.envelope import CloudEvent
from jinlin.store.errors import InvalidStreamName

# Append without checking the stream's version (use sparingly: most commands must check).
ANY_VERSION: Final = -1

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class Stream:
    """One aggregate's stream. Both parts become NATS subject tokens, so they are lower-case and dot-free."""

    aggregate: str
    id: str

    def __post_init__(self) -> None:
        for part in (self.aggregate, self.id):
            if not _TOKEN.match(part):
                raise InvalidStreamName(f"{part!r} is not a valid stream token (a-z, 0-9, '_' or '-')")

    @property
    def key(self) -> str:
        return f"{self.aggregate}.{self.id}"

    @classmethod
    def parse(cls, key: str) -> "Stream":
        aggregate, _, id_ = key.partition(".")
        return cls(aggregate, id_)


@dataclass(frozen=True)
class CommandContext:
    """Who caused the events of one transaction, and why."""

    actor: str
    causationid: str
    caseid: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    """An event as the log holds it: its envelope, its stream and the NATS subject it is published on."""

    envelope: CloudEvent
    stream: str
    nats_subject: str

    @property
    def sequence(self) -> int:
        return self.envelope.sequence

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def data(self) -> dict[str, Any]:
        return self.envelope.data


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to an idempotent command, replayed on retries."""

    status_code: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
