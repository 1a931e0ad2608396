"""The terms of an agreement (调解协议书的条款): who does what by when, and what shows it done.

"Every agreed result has someone responsible for carrying it out": a term always names its obligor (a party of the
agreement) and its due instant. A term may also name an event of another service that fulfils it, so that the
fulfilment is recorded when that event arrives instead of when someone remembers to report it:

.. code-block:: json

    {"service": "escrow", "event_type": "jinlin.escrow.ArrearsPaid.v1", "match": {"compound_id": "jinyuan-huating"}}

The event fulfils the term when it comes from that service, has exactly that CloudEvents ``type`` (version
included: a new version of the event is a new contract), and every ``match`` field of its ``data`` equals the given
value, with the same JSON type. A match key may be a dotted path into nested objects (``"condition.kind"``).
``match`` is never empty: a term fulfilled by *any* arrears payment of *any* compound would be a trap.
"""

from collections.abc import Mapping
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, StringConstraints, model_validator

from mediation.domain.identifiers import EventId, Identifier
from mediation.domain.utc import UtcDatetime

TEXT_MAX: Final = 4000

ServiceToken = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,49}$")]
# jinlin.<service>.<EventName>.v<N>, as the architecture brief defines CloudEvents types.
EVENT_TYPE_PATTERN: Final = r"^jinlin\.[a-z][a-z0-9_-]{0,49}\.[A-Z][A-Za-z0-9]{0,99}\.v[1-9][0-9]{0,5}$"
EventType = Annotated[str, StringConstraints(pattern=EVENT_TYPE_PATTERN)]
FieldPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,9}$")]
# Strict: the JSON ``1`` is not ``true`` and not ``"1"``. Floats are left out on purpose (money is integer fen).
MatchValue = StrictStr | StrictInt | StrictBool

TermText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX)]

_MISSING: Final = object()


def _field(data: Mapping[str, object], path: str) -> object:
    value: object = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _same(expected: object, actual: object) -> bool:
    # Python says True == 1; JSON and the parties do not.
    return type(actual) is type(expected) and actual == expected


class ExternalFulfilment(BaseModel):
    """The event of another service that fulfils a term."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: ServiceToken
    event_type: EventType
    match: Annotated[dict[FieldPath, MatchValue], Field(min_length=1)]

    @model_validator(mode="after")
    def _type_of_that_service(self) -> Self:
        if self.event_type.split(".")[1] != self.service:
            raise ValueError("event_type must be an event type of the named service")
        return self

    def matches(self, service: str, event_type: str, data: Mapping[str, object]) -> bool:
        if (service, event_type) != (self.service, self.event_type):
            return False
        return all(_same(expected, _field(data, path)) for path, expected in self.match.items())


class ExternalEventRef(BaseModel):
    """Which event of another service fulfilled an obligation: enough to find it in that service's stream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: ServiceToken
    event_type: EventType
    event_id: EventId


class Term(BaseModel):
    """One term of an agreement; once the agreement takes effect, one obligation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    term_id: Identifier  # chosen by the drafter ("1", "t-arrears"); cited in the text, unique in the agreement
    obligor: Identifier  # the party id of who performs it
    what: TermText
    due_at: UtcDatetime
    evidence_required: TermText  # what shows it done: "供电公司出具的结清证明"
    fulfilled_by: ExternalFulfilment | None = None
