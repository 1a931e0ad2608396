"""Builders for the console's tests: hash-chained logs of CloudEvents, as the services would publish them."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jinlin.events.chain import GENESIS_HASH, event_hash
from jinlin.events.envelope import CloudEvent


@dataclass
class ServiceLog:
    """One service's log: each ``add`` appends an event chained to the previous one."""

    service: str
    events: list[CloudEvent] = field(default_factory=list)
    clock: datetime = field(default_factory=lambda: datetime(2026, 11, 29, 2, 0, tzinfo=UTC))
    versions: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        name: str,
        subject: str,
        data: dict[str, Any] | None = None,
        *,
        caseid: str | None = None,
        causationid: str | None = None,
        actor: str = "staff:dev-handler",
        at: datetime | None = None,
    ) -> CloudEvent:
        self.clock = at or self.clock + timedelta(seconds=1)
        self.versions[subject] = self.versions.get(subject, 0) + 1
        fields: dict[str, Any] = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": f"/jinlin/{self.service}",
            "type": f"jinlin.{self.service}.{name}.v1",
            "subject": subject,
            "time": self.clock.isoformat(timespec="microseconds"),
            "datacontenttype": "application/json",
            "data": {"occurred_at": self.clock.isoformat().replace("+00:00", "Z"), **(data or {})},
            "caseid": caseid or subject,
            "causationid": causationid or uuid.uuid4().hex,
            "actor": actor,
            "streamversion": self.versions[subject],
            "sequence": len(self.events) + 1,
            "prevhash": self.events[-1].hash if self.events else GENESIS_HASH,
        }
        fields["hash"] = event_hash(fields)
        event = CloudEvent.model_validate(fields)
        self.events.append(event)
        return event


@pytest.fixture
def service_log() -> Callable[[str], ServiceLog]:
    return ServiceLog


def tampered(event: CloudEvent, **data: Any) -> CloudEvent:
    """The same envelope with its data changed and its hash left as it was."""
    return event.model_copy(update={"data": {**event.data, **data}})


@pytest.fixture
def tamper() -> Callable[..., CloudEvent]:
    return tampered
