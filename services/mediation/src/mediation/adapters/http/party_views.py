"""A case as one of its parties reads it (see ``party_schemas`` for what is shown, and what is not)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from mediation.adapters.http.party_schemas import (
    AgreementForParty,
    ObligationForParty,
    PartyCaseView,
    PartyInCase,
    TermForParty,
    YourAccess,
    YourMeeting,
)
from mediation.adapters.http.schemas import ConfirmationOut, PostingOut
from mediation.domain import (
    Agreement,
    CaseState,
    Meeting,
    MeetingStatus,
    PartyAccess,
    access_ends_at,
    overdue_obligations,
)

AGREEMENT_HTML: Final = "/party/case/agreement.html"
AGREEMENT_PDF: Final = "/party/case/agreement.pdf"


def _meeting(meeting: Meeting, party_id: str, now: datetime) -> YourMeeting:
    rsvp = meeting.rsvps.get(party_id)
    # As the domain's rule for an answer: a planned meeting nobody was recorded at, not yet started.
    planned = meeting.status is MeetingStatus.SCHEDULED and not meeting.attendance
    return YourMeeting(
        meeting_id=meeting.meeting_id,
        place=meeting.place,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        agenda=list(meeting.agenda),
        status=meeting.status.value,
        cancellation_reason=meeting.cancellation_reason,
        times_rescheduled=meeting.times_rescheduled,
        your_rsvp=rsvp.value if rsvp else None,
        you_attended=meeting.attendance.get(party_id),
        may_answer=planned and party_id in meeting.invited and not meeting.has_started(now),
    )


def _agreement(agreement: Agreement, party_id: str, names: Mapping[str, str]) -> AgreementForParty:
    confirmation = agreement.judicial_confirmation
    return AgreementForParty(
        agreement_id=agreement.agreement_id,
        revision=agreement.revision,
        in_effect=agreement.in_effect,
        drafted_at=agreement.drafted_at,
        party_ids=list(agreement.party_ids),
        facts=agreement.facts,
        issues=list(agreement.issues),
        terms=[
            TermForParty(
                term_id=term.term_id,
                obligor=term.obligor,
                obligor_name=names.get(term.obligor, term.obligor),
                what=term.what,
                due_at=term.due_at,
                evidence_required=term.evidence_required,
                yours=term.obligor == party_id,
            )
            for term in agreement.terms
        ],
        signatures=dict(agreement.signatures),
        unsigned_party_ids=list(agreement.unsigned_party_ids),
        took_effect_at=agreement.took_effect_at,
        confirmation_deadline=agreement.confirmation_deadline,
        postings=[PostingOut(place=p.place, posted_at=p.posted_at, until=p.until) for p in agreement.postings],
        judicial_confirmation=ConfirmationOut(
            court=confirmation.court,
            applied_at=confirmation.applied_at,
            party_ids=list(confirmation.party_ids),
            reference=confirmation.reference,
            outcome=confirmation.outcome.value if confirmation.outcome else None,
            decided_at=confirmation.decided_at,
            remark=confirmation.remark,
        )
        if confirmation
        else None,
        document_html=AGREEMENT_HTML,
        document_pdf=AGREEMENT_PDF,
    )


def party_case_view(state: CaseState, access: PartyAccess, names: Mapping[str, str], now: datetime) -> PartyCaseView:
    """``names``: what this party may see of each party's name (``application.parties.names_for_party``)."""
    party_id = access.party_id
    parties = [
        PartyInCase(
            party_id=other_id,
            kind=record.party.kind.value,
            name=names.get(other_id, other_id),
            you=other_id == party_id,
        )
        for other_id, record in state.parties.items()
    ]
    late = {obligation.term_id for obligation in overdue_obligations(state, now)}
    return PartyCaseView(
        case_id=state.case_id,
        status=state.status.value,
        reason=state.reason,
        compound_id=state.compound_id,
        opened_at=state.opened_at,
        accepted_at=state.accepted_at,
        due_at=state.due_at,
        mediator=state.mediator.name if state.mediator else None,
        you=next(party for party in parties if party.you),
        access=YourAccess(access_id=access.access_id, ends_at=access_ends_at(state, access)),
        parties=parties,
        meetings=[
            _meeting(meeting, party_id, now)
            for meeting in state.meetings.values()
            if party_id in meeting.invited or party_id in meeting.attendance
        ],
        agreement=_agreement(state.agreement, party_id, names) if state.agreement else None,
        obligations=[
            ObligationForParty(
                term_id=obligation.term_id,
                obligor=obligation.obligor,
                obligor_name=names.get(obligation.obligor, obligation.obligor),
                what=obligation.term.what,
                due_at=obligation.due_at,
                status=obligation.status.value,
                overdue=obligation.term_id in late,
                settled_at=obligation.settled_at,
                evidence=obligation.evidence,
                confirmed_by_service=obligation.fulfilling_event.service if obligation.fulfilling_event else None,
                waiver_reason=obligation.waiver_reason,
                yours=obligation.obligor == party_id,
            )
            for obligation in state.obligations.values()
        ],
        decline_reason=state.decline_reason,
        end_reason=state.end_reason,
        routes_advised=[route.value for route in state.routes_advised],
        ended_at=state.ended_at,
        version=state.version,
        updated_at=state.updated_at,
    )
