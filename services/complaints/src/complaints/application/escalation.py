"""Escalating a case to mediation: every complaint of the case that is being handled goes, with the same parties."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select

from complaints.application.changes import ComplaintNotFound, change
from complaints.application.context import ComplaintsContext
from complaints.application.loading import load_complaint
from complaints.application.read_model import complaint_view
from complaints.domain import ComplaintState, Problem, ValidationFailed, escalate_to_mediation
from complaints.domain.mediation import MediationParty, PartyRole
from complaints.domain.status import Status
from jinlin.store import Transaction

ESCALATABLE = (Status.ACKNOWLEDGED.value, Status.ASSIGNED.value)


@dataclass(frozen=True)
class NamedParty:
    """A party as the handler names it: an organisation in clear, or a person whose name is sealed here."""

    role: PartyRole
    organisation: str | None = None
    person_name: str | None = None


async def _parties(
    tx: Transaction, context: ComplaintsContext, named_parties: Sequence[NamedParty]
) -> list[MediationParty]:
    parties: list[MediationParty] = []
    problems: list[Problem] = []
    for index, named in enumerate(named_parties):
        try:
            if named.person_name is not None:
                person_ref = context.vault.new_person_ref()
                sealed = await context.vault.seal(tx.connection, person_ref, named.person_name)
                parties.append(MediationParty(role=named.role, person_ref=person_ref, person_name_enc=sealed))
            else:
                parties.append(MediationParty(role=named.role, organisation=named.organisation))
        except ValidationError as error:
            problems.extend(
                Problem(f"parties.{index}", detail["msg"])
                for detail in error.errors(include_url=False, include_input=False, include_context=False)
            )
    if problems:
        raise ValidationFailed(problems)
    return parties


async def escalate_case(
    tx: Transaction,
    context: ComplaintsContext,
    complaint_id: str,
    *,
    reason: str,
    named_parties: Sequence[NamedParty],
    at: datetime,
) -> list[ComplaintState]:
    """Record the escalation on each complaint of ``complaint_id``'s case that is being handled.

    The mediation service opens one case per case id, from any one of these events; all carry the same group.
    """
    state = await load_complaint(tx, complaint_id)
    if state is None:
        raise ComplaintNotFound(complaint_id)
    case_members = (
        await tx.connection.execute(
            select(complaint_view.c.complaint_id).where(
                complaint_view.c.case_id == state.case_id, complaint_view.c.status.in_(ESCALATABLE)
            )
        )
    ).scalars()
    group = sorted({complaint_id, *case_members})
    parties = await _parties(tx, context, named_parties)
    return [
        await change(
            tx,
            member,
            lambda current: escalate_to_mediation(current, reason=reason, parties=parties, at=at, complaint_ids=group),
        )
        for member in group
    ]
