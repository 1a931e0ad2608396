"""Opening cases from the complaints desk's escalations, consumed from the COMPLAINTS stream by its published
contract (``docs/events/complaints/ComplaintEscalatedToMediation.v1.schema.json``), never by importing its code.

When a case's complaints are escalated together, each complaint records its own escalation event, all with the same
``case_id`` and ``complaint_ids``; any event may also be delivered more than once. The escalation's ``case_id``
becomes the mediation case's id (and so the ``caseid`` of everything that follows), and ``open_by_referral`` decides
what each delivery does: open the case once, add complaints it did not have, or nothing. Effects are idempotent twice
over: the consumer remembers processed event ids, and the case remembers the escalation events it took in.

Residents appear in the escalation as a person reference and a name sealed with the complaints service's key; both
are copied as they are (mediation cannot open them, and must not try).
"""

from datetime import UTC, datetime
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from jinlin.events import CloudEvent
from jinlin.messaging import PermanentError
from jinlin.runtime.service_runtime import Subscription
from jinlin.store import Transaction
from mediation.application.changes import instant_for, record
from mediation.application.context import MediationContext
from mediation.application.loading import load_case
from mediation.domain import DomainError, PartyDetails, PartyKind, open_by_referral
from mediation.domain.identifiers import Identifier

ESCALATED: Final = "jinlin.complaints.ComplaintEscalatedToMediation.v1"
DURABLE: Final = "mediation-escalations"
FILTER: Final = "jinlin.complaints.complaint.*.escalated_to_mediation"
ADDRESS: Final = "jinlin.complaints.complaint.{complaint_id}.escalated_to_mediation"


class EscalatedParty(BaseModel):
    """A party as the complaints desk names it: ``role`` (the same values as mediation's party kinds), and an
    organisation in clear or a person reference with the name sealed by the complaints service."""

    model_config = ConfigDict(extra="allow")

    role: PartyKind
    organisation: str | None = None
    person_ref: str | None = None
    person_name_enc: str | None = None


class EscalationData(BaseModel):
    """The fields of the complaints service's ComplaintEscalatedToMediation that mediation relies on; it may carry
    more (its own schema is the authority)."""

    model_config = ConfigDict(extra="allow", title="ComplaintEscalatedToMediation (as mediation reads it)")

    case_id: Identifier = Field(description="Becomes the mediation case's id and the caseid of its events.")
    complaint_ids: Annotated[list[Identifier], Field(min_length=1)]
    compound_id: Identifier
    category_code: Identifier | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    parties: Annotated[list[EscalatedParty], Field(min_length=1)]


def _describe(error: ValidationError) -> str:
    # Locations and messages only: the input may hold personal data.
    problems = error.errors(include_url=False, include_input=False, include_context=False)
    return "; ".join(f"{'.'.join(str(p) for p in problem['loc']) or 'data'}: {problem['msg']}" for problem in problems)


def _parties(data: EscalationData) -> list[PartyDetails]:
    try:
        return [
            PartyDetails(
                kind=party.role,
                organisation=party.organisation,
                person_ref=party.person_ref,
                person_name_enc=party.person_name_enc,
            )
            for party in data.parties
        ]
    except ValidationError as error:
        raise PermanentError(f"a party of the escalation is not valid: {_describe(error)}") from None


class Escalations:
    """The consumer's handler: one escalation event → the case opened, joined by complaints, reopened, or nothing."""

    def __init__(self, context: MediationContext) -> None:
        self.context = context

    async def __call__(self, tx: Transaction, event: CloudEvent) -> None:
        if event.type != ESCALATED:
            # The filter delivers escalation subjects only: another type there is a version this code does not know,
            # and dropping it would lose a referral. Dead-lettered, it waits for an upgrade.
            raise PermanentError(f"{event.type} is not {ESCALATED}")
        try:
            data = EscalationData.model_validate(event.data)
        except ValidationError as error:
            raise PermanentError(f"not a valid escalation: {_describe(error)}") from None
        state = await load_case(tx, data.case_id)
        try:
            new_events = open_by_referral(
                state,
                case_id=data.case_id,
                complaint_ids=data.complaint_ids,
                compound_id=data.compound_id,
                reason=data.reason,
                parties=_parties(data),
                escalation_event_id=event.id,
                at=instant_for(state, self.context.clock()),
                category_code=data.category_code,
                escalated_at=_escalated_at(event),
            )
        except DomainError as refusal:
            # A case whose agreement already took effect cannot take in more complaints; nor can an invalid one be
            # opened. Nothing will change that on a retry: the dead letter tells the desk why.
            raise PermanentError(f"case {data.case_id}: {refusal}") from None
        await record(tx, state, new_events)


def _escalated_at(event: CloudEvent) -> datetime | None:
    """When the desk escalated: a late duplicate of an earlier round is told from a new escalation by it."""
    try:
        return datetime.fromisoformat(event.time).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def escalation_subscription(stream: str, context: MediationContext) -> Subscription:
    return Subscription(durable=DURABLE, stream=stream, filter_subjects=(FILTER,), handler=Escalations(context))
