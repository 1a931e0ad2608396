"""The base class of every domain event."""

import re
from functools import cache
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


@cache  # per event class, and asked for on every append
def _snake(name: str) -> str:
    return _WORD_START.sub("_", name).lower()


class DomainEvent(BaseModel):
    """A fact that happened, named in the past tense. Subclasses are immutable and versioned.

    ``event_version`` is bumped when the shape of the data changes; an upcaster registered in the
    service's :class:`~jinlin.events.registry.EventRegistry` turns stored older versions into this one.
    ``subject_token`` is the last token of the NATS subject (``jinlin.<service>.<aggregate>.<id>.<token>``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_version: ClassVar[int] = 1
    subject_token: ClassVar[str] = ""

    @classmethod
    def event_name(cls) -> str:
        return cls.__name__

    @classmethod
    def token(cls) -> str:
        return cls.subject_token or _snake(cls.__name__)
