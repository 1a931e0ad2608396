"""Obligations fulfilled by other services' events.

A term of an agreement may name the event that shows it done (``Term.fulfilled_by``: the service, the CloudEvents
type, and fields of its ``data`` that must match). This service listens for the events listed in
``FULFILLING_EVENTS``, each through a durable consumer on its service's stream; a term may only name one of them
(``fulfilment_problems`` refuses the others when the agreement is drafted, so no term waits for an event nobody
delivers).

When such an event arrives, the open obligations whose terms name its type are found in the obligations read model
(an index of open terms, not a scan of every case); each candidate case is loaded and the domain's
``matching_terms`` / ``fulfil_by_external_event`` decide. Effects are idempotent: the consumer remembers processed
event ids, and the domain records nothing for an event that already fulfilled the obligation.

An event recorded before the agreement took effect fulfils none of its terms: a consumer that is new (or catching up)
reads the whole stream from the start, and an old payment must not settle a newer promise. The instant recorded is
the event's own time (when the other service recorded it), so "fulfilled on time" means what it says.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from jinlin.events import CloudEvent
from jinlin.logging import get_logger
from jinlin.messaging import PermanentError
from jinlin.runtime.service_runtime import Subscription
from jinlin.store import Transaction
from mediation.application.changes import record
from mediation.application.context import MediationContext
from mediation.application.loading import load_case
from mediation.application.read_model import obligation_view
from mediation.domain import DomainError, Problem, Term, fulfil_by_external_event, matching_terms
from mediation.domain.identifiers import Identifier
from mediation.domain.obligations import ObligationStatus

DURABLE: Final = "mediation-fulfilments"
_log = get_logger(__name__)


class PayeeData(BaseModel):
    model_config = ConfigDict(extra="allow")

    payee_id: Identifier
    name: str | None = None


class ArrearsPaidData(BaseModel):
    """The fields of the escrow service's ArrearsPaid that a term may match on; it may carry more (the escrow
    service's own schema is the authority). Amounts are integer fen."""

    model_config = ConfigDict(extra="allow", title="ArrearsPaid (as mediation reads it)")

    compound_id: Identifier = Field(description="The compound whose master-meter arrears were paid.")
    account_id: Identifier | None = Field(default=None, description="The escrow account paid from.")
    disbursement_id: Identifier | None = Field(default=None, description="The escrow payment out.")
    payee: PayeeData | None = Field(default=None, description="Who was paid (match on payee.payee_id).")
    amount_fen: Annotated[int, Field(gt=0)] | None = None
    paid_on: date | None = None
    bank_reference: str | None = None
    arrears_total_fen: Annotated[int, Field(gt=0)] | None = None
    paid_to_date_fen: Annotated[int, Field(gt=0)] | None = None
    fully_paid: bool | None = Field(
        default=None, description="True once the compound's confirmed arrears are paid in full."
    )


@dataclass(frozen=True)
class FulfillingEvent:
    """An event of another service that can fulfil a term, and where this service reads it."""

    event_type: str
    stream: str
    filter_subject: str
    address: str
    parameters: Mapping[str, str]
    data_model: type[BaseModel]
    summary: str

    @property
    def service(self) -> str:
        return self.event_type.split(".")[1]


ARREARS_PAID: Final = FulfillingEvent(
    event_type="jinlin.escrow.ArrearsPaid.v1",
    stream="ESCROW",
    filter_subject="jinlin.escrow.handover.*.arrears_paid",
    address="jinlin.escrow.handover.{compound_id}.arrears_paid",
    parameters={"compound_id": "The compound of the direct-supply handover (also data.compound_id)."},
    data_model=ArrearsPaidData,
    summary="Arrears were paid from escrow to the power company: fulfils each open obligation whose term names "
    "this event type and whose match fields equal the event's data (ObligationFulfilled, by_event = this event).",
)

FULFILLING_EVENTS: Final[tuple[FulfillingEvent, ...]] = (ARREARS_PAID,)
_BY_TYPE: Final = {event.event_type: event for event in FULFILLING_EVENTS}


def fulfilment_problems(terms: Sequence[Term], field_prefix: str = "terms") -> list[Problem]:
    """What is wrong with the ``fulfilled_by`` of each term, for this service: an event it does not listen for, or
    a match on a field that event does not have (a typo would leave the term waiting forever)."""
    problems = []
    for index, term in enumerate(terms):
        wanted = term.fulfilled_by
        if wanted is None:
            continue
        where = f"{field_prefix}.{index}.fulfilled_by"
        known = _BY_TYPE.get(wanted.event_type)
        if known is None:
            listened = ", ".join(sorted(_BY_TYPE))
            problems.append(Problem(f"{where}.event_type", f"mediation listens for {listened} only"))
            continue
        fields = known.data_model.model_fields
        problems += [
            Problem(f"{where}.match", f"{path.split('.')[0]} is not a field of {wanted.event_type}")
            for path in wanted.match
            if path.split(".")[0] not in fields
        ]
    return problems


def _event_time(event: CloudEvent) -> datetime:
    try:
        at = datetime.fromisoformat(event.time)
    except ValueError:
        raise PermanentError("the event's time is not an RFC 3339 instant") from None
    if at.tzinfo is None:
        raise PermanentError("the event's time has no UTC offset")
    return at


class Fulfilments:
    """The consumer's handler: one event of another service → the obligations it fulfils, each once."""

    def __init__(self, context: MediationContext) -> None:
        self.context = context

    async def __call__(self, tx: Transaction, event: CloudEvent) -> None:
        known = _BY_TYPE.get(event.type)
        if known is None:
            raise PermanentError(f"{event.type} is not an event that fulfils terms here")
        if event.source != f"/jinlin/{known.service}":
            raise PermanentError(f"an event of type {event.type} from source {event.source}")
        try:
            known.data_model.model_validate(event.data)
        except ValidationError as error:
            where = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors(include_input=False))
            raise PermanentError(f"not a valid {event.type}: {where}") from None
        recorded_at = _event_time(event)
        for case_id in await self._candidates(tx, event.type):
            await self._fulfil(tx, case_id, known.service, event, recorded_at)

    async def _candidates(self, tx: Transaction, event_type: str) -> list[str]:
        view = obligation_view.c
        query = (
            select(view.case_id)
            .where(view.fulfilled_by_type == event_type, view.status == ObligationStatus.OPEN.value)
            .distinct()
            .order_by(view.case_id)
        )
        return list((await tx.connection.execute(query)).scalars())

    async def _fulfil(self, tx: Transaction, case_id: str, service: str, event: CloudEvent, at: datetime) -> None:
        state = await load_case(tx, case_id)
        if state is None or state.agreement is None or state.agreement.took_effect_at is None:
            return
        term_ids = matching_terms(state, service, event.type, event.data)
        if not term_ids:
            return
        if at < state.agreement.took_effect_at:
            _log.info("fulfilment.event_before_agreement", case_id=case_id, terms=term_ids, event_type=event.type)
            return
        at = min(at, self.context.clock())
        for term_id in term_ids:
            try:
                new_events = fulfil_by_external_event(
                    state, term_id, service, event.type, event.id, event.data, max(at, state.updated_at)
                )
            except DomainError as refusal:  # matching_terms said it fits: a refusal here is a bug, not the event's
                raise RuntimeError(f"case {case_id}, term {term_id}: {refusal}") from refusal
            after = await record(tx, state, new_events)
            assert after is not None
            state = after
            _log.info("fulfilment.obligation_fulfilled", case_id=case_id, term_id=term_id, event_type=event.type)


def durables() -> list[tuple[str, str, list[FulfillingEvent]]]:
    """``(durable, stream, events)`` of each consumer: one per stream read (today one, on ESCROW)."""
    streams = sorted({event.stream for event in FULFILLING_EVENTS})
    return [
        (
            DURABLE if index == 0 else f"{DURABLE}-{index + 1}",
            stream,
            [e for e in FULFILLING_EVENTS if e.stream == stream],
        )
        for index, stream in enumerate(streams)
    ]


def fulfilment_subscriptions(context: MediationContext, streams: Mapping[str, str]) -> list[Subscription]:
    """The durable consumers; ``streams`` may rename a stream (settings, tests)."""
    handler = Fulfilments(context)
    return [
        Subscription(
            durable=durable,
            stream=streams.get(stream, stream),
            filter_subjects=tuple(event.filter_subject for event in events),
            handler=handler,
        )
        for durable, stream, events in durables()
    ]
