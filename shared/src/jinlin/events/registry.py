"""Maps CloudEvents ``type`` strings to event models, and upcasts stored old versions on read."""

from collections.abc import Callable
from typing import Any, TypeVar

from jinlin.events.base import DomainEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
E = TypeVar("E", bound=type[DomainEvent])


class UnknownEventType(LookupError):
    pass


class EventRegistry:
    """One per service: ``jinlin.<service>.<EventName>.v<N>`` ⇄ model class.

    Only the newest version of an event has a model; each older version has an upcaster that turns its
    data into the next version's, so history is read as current types without rewriting it.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._models: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, model: E) -> E:
        name = model.event_name()
        if name in self._models:
            raise ValueError(f"event {name} registered twice")
        self._models[name] = model
        return model

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = fn
            return fn

        return decorate

    def type_of(self, event: DomainEvent | type[DomainEvent]) -> str:
        model = event if isinstance(event, type) else type(event)
        return f"jinlin.{self.service}.{model.event_name()}.v{model.event_version}"

    def models(self) -> list[type[DomainEvent]]:
        return list(self._models.values())

    def parse_type(self, type_: str) -> tuple[str, int]:
        parts = type_.split(".")
        if len(parts) != 4 or parts[0] != "jinlin" or parts[1] != self.service or not parts[3].startswith("v"):
            raise UnknownEventType(f"{type_!r} is not an event type of {self.service}")
        try:
            return parts[2], int(parts[3][1:])
        except ValueError as exc:
            raise UnknownEventType(f"{type_!r} has no valid version") from exc

    def model_for(self, type_: str) -> type[DomainEvent]:
        name, _ = self.parse_type(type_)
        model = self._models.get(name)
        if model is None:
            raise UnknownEventType(f"no event model for {type_!r}")
        return model

    def decode(self, type_: str, data: dict[str, Any]) -> DomainEvent:
        name, version = self.parse_type(type_)
        model = self.model_for(type_)
        if version > model.event_version:
            raise UnknownEventType(f"{type_!r} is newer than this code knows (v{model.event_version})")
        while version < model.event_version:
            step = self._upcasters.get((name, version))
            if step is None:
                raise UnknownEventType(f"no upcaster for {name} v{version}")
            data = step(data)
            version += 1
        return model.model_validate(data)
