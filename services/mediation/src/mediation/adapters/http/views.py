"""A case's state as the API shows it."""

from datetime import datetime
from typing import Any

from mediation.adapters.http.schemas import (
    AgreementOut,
    CaseSummary,
    CaseView,
    ConfirmationOut,
    ExternalEventOut,
    FollowUpOut,
    FulfilmentOut,
    MediatorOut,
    MeetingOut,
    ObligationOut,
    PartyAccessOut,
    PartyOut,
    PostingOut,
    TermOut,
)
from mediation.domain import (
    Agreement,
    CaseState,
    PartyAccess,
    Term,
    access_ends_at,
    access_status,
    is_past_its_month,
    next_deadline,
    overdue_obligations,
)


def _term(term: Term) -> TermOut:
    fulfilled_by = term.fulfilled_by
    return TermOut(
        term_id=term.term_id,
        obligor=term.obligor,
        what=term.what,
        due_at=term.due_at,
        evidence_required=term.evidence_required,
        fulfilled_by=FulfilmentOut(service=fulfilled_by.service, event_type=fulfilled_by.event_type,
                                   match=dict(fulfilled_by.match)) if fulfilled_by else None,
    )  # fmt: skip


def _agreement(agreement: Agreement) -> AgreementOut:
    confirmation = agreement.judicial_confirmation
    return AgreementOut(
        agreement_id=agreement.agreement_id,
        revision=agreement.revision,
        party_ids=list(agreement.party_ids),
        facts=agreement.facts,
        issues=list(agreement.issues),
        terms=[_term(term) for term in agreement.terms],
        drafted_at=agreement.drafted_at,
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
    )


def access_view(state: CaseState, access: PartyAccess, now: datetime) -> PartyAccessOut:
    return PartyAccessOut(
        access_id=access.access_id,
        party_id=access.party_id,
        granted_at=access.granted_at,
        expires_at=access.expires_at,
        ends_at=access_ends_at(state, access),
        status=access_status(state, access, now),
        revoked_at=access.revoked_at,
        revocation_reason=access.revocation_reason,
    )


def case_view(state: CaseState, now: datetime) -> CaseView:
    late = {obligation.term_id for obligation in overdue_obligations(state, now)}
    return CaseView(
        case_id=state.case_id,
        status=state.status.value,
        origin=state.origin.value,
        reason=state.reason,
        compound_id=state.compound_id,
        category_code=state.category_code,
        complaint_ids=list(state.complaint_ids),
        applicant_party_id=state.applicant_party_id,
        referred_by=state.referred_by,
        referral_reference=state.referral_reference,
        rounds=state.rounds,
        mediator=MediatorOut(id=state.mediator.id, name=state.mediator.name) if state.mediator else None,
        opened_at=state.opened_at,
        accepted_at=state.accepted_at,
        due_at=state.due_at,
        next_deadline=next_deadline(state),
        past_its_month=is_past_its_month(state, now),
        overdue_obligations=len(late),
        parties=[
            PartyOut(
                party_id=party_id,
                kind=record.party.kind.value,
                organisation=record.party.organisation,
                person_ref=record.party.person_ref,
                name_sealed=record.party.person_name_enc is not None,
                joined_at=record.joined_at,
                rights_informed_at=record.rights_informed_at,
            )
            for party_id, record in state.parties.items()
        ],
        meetings=[
            MeetingOut(
                meeting_id=meeting.meeting_id,
                place=meeting.place,
                starts_at=meeting.starts_at,
                ends_at=meeting.ends_at,
                agenda=list(meeting.agenda),
                status=meeting.status.value,
                invited=list(meeting.invited),
                rsvps={party: rsvp.value for party, rsvp in meeting.rsvps.items()},
                attendance=dict(meeting.attendance),
                minutes=meeting.minutes,
                cancellation_reason=meeting.cancellation_reason,
                times_rescheduled=meeting.times_rescheduled,
            )
            for meeting in state.meetings.values()
        ],
        agreement=_agreement(state.agreement) if state.agreement else None,
        obligations=[
            ObligationOut(
                term_id=obligation.term_id,
                obligor=obligation.obligor,
                what=obligation.term.what,
                evidence_required=obligation.term.evidence_required,
                term_due_at=obligation.term.due_at,
                due_at=obligation.due_at,
                status=obligation.status.value,
                overdue=obligation.term_id in late,
                times_marked_overdue=obligation.times_marked_overdue,
                settled_at=obligation.settled_at,
                evidence=obligation.evidence,
                fulfilling_event=ExternalEventOut(**obligation.fulfilling_event.model_dump())
                if obligation.fulfilling_event
                else None,
                waiver_reason=obligation.waiver_reason,
            )
            for obligation in state.obligations.values()
        ],
        follow_up_visits=[
            FollowUpOut(
                at=visit.at, performance=visit.performance, party_id=visit.party_id, satisfaction=visit.satisfaction
            )
            for visit in state.follow_up_visits
        ],
        party_access=[access_view(state, access, now) for access in state.party_access.values()],
        decline_reason=state.decline_reason,
        end_reason=state.end_reason,
        routes_advised=[route.value for route in state.routes_advised],
        ended_at=state.ended_at,
        summary=state.summary,
        version=state.version,
        updated_at=state.updated_at,
    )


def summary_of(row: dict[str, Any]) -> CaseSummary:
    return CaseSummary.model_validate(row)
