"""What a service declares about its NATS contract: the events it publishes, per aggregate, and those it consumes."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from jinlin.events import DomainEvent, EventRegistry

_PARAMETER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def address_parameters(address: str) -> list[str]:
    """The ``{name}`` expressions of a subject template, in order."""
    return _PARAMETER.findall(address)


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of the service: its subject token, what its id is called, and the events recorded on it.

    Its events are published on ``jinlin.<service>.<token>.{<id_name>}.<event subject token>``.
    """

    token: str
    id_name: str
    id_description: str
    events: Sequence[type[DomainEvent]]


@dataclass(frozen=True)
class ConsumedEvent:
    """An event of another service that this one acts on, described by the fields it relies on (``data_model``).

    ``data_model`` should allow extra fields: the publisher's own schema is the authority and may carry more.
    """

    event_type: str
    """The CloudEvents ``type``: ``jinlin.mediation.AgreementTookEffect.v1``."""
    address: str
    """The subject template it arrives on: ``jinlin.mediation.case.{case_id}.agreement_took_effect``."""
    parameters: dict[str, str]
    """Description of each ``{name}`` of ``address``."""
    data_model: type[BaseModel]
    summary: str
    description: str = ""

    @property
    def name(self) -> str:
        """``AgreementTookEffect.v1``: the event's name and version, from its type."""
        _jinlin, _service, event, version = self.event_type.split(".")
        return f"{event}.{version}"

    @property
    def service(self) -> str:
        return self.event_type.split(".")[1]


@dataclass(frozen=True)
class Consumption:
    """One durable consumer of the service: where it reads, what it acts on, where it gives up."""

    durable: str
    stream: str
    filter_subjects: Sequence[str]
    events: Sequence[ConsumedEvent]
    description: str = ""


@dataclass(frozen=True)
class ServiceContract:
    """Everything :mod:`jinlin.contracts` needs to document one service's events."""

    service: str
    """The service's subject token (``complaints``, ``escrow``)."""
    title: str
    version: str
    description: str
    registry: EventRegistry
    aggregates: Sequence[Aggregate]
    consumes: Sequence[Consumption] = ()
    servers: dict[str, dict[str, str]] = field(default_factory=dict)
    """AsyncAPI server objects by name (``{"embedded": {"host": "127.0.0.1:14222", "protocol": "nats"}}``)."""

    def __post_init__(self) -> None:
        if self.registry.service != self.service:
            raise ValueError(f"the registry is of {self.registry.service!r}, the contract of {self.service!r}")
        declared = [model for aggregate in self.aggregates for model in aggregate.events]
        registered = self.registry.models()
        missing = [model.event_name() for model in registered if model not in declared]
        unknown = [model.event_name() for model in declared if model not in registered]
        twice = sorted({model.event_name() for model in declared if declared.count(model) > 1})
        problems = []
        if missing:
            problems.append(f"registered but under no aggregate: {', '.join(missing)}")
        if unknown:
            problems.append(f"under an aggregate but not registered: {', '.join(unknown)}")
        if twice:
            problems.append(f"under more than one aggregate: {', '.join(twice)}")
        for consumption in self.consumes:
            for consumed in consumption.events:
                undeclared = set(address_parameters(consumed.address)) ^ set(consumed.parameters)
                if undeclared:
                    problems.append(f"{consumed.event_type}: parameters and address disagree on {sorted(undeclared)}")
        if problems:
            raise ValueError(f"contract of {self.service}: " + "; ".join(problems))

    def aggregate_of(self, model: type[DomainEvent]) -> Aggregate:
        return next(aggregate for aggregate in self.aggregates if model in aggregate.events)

    def address_of(self, model: type[DomainEvent]) -> str:
        """The subject template the relay publishes ``model`` on (see ``Transaction.append``)."""
        aggregate = self.aggregate_of(model)
        return f"jinlin.{self.service}.{aggregate.token}.{{{aggregate.id_name}}}.{model.token()}"
