"""The mediation desk's commands. Each is a ``POST`` that accepts ``Idempotency-Key`` (a retry returns the first
answer) and ``If-Match`` with the case's version (stale → ``412``). Signing and amending the agreement *require*
``If-Match`` (missing → ``428``): a signature belongs to the text its signer read, so it must not land on a revision
amended meanwhile. Every answer is the case as it now stands, with its version as ``ETag``.
"""

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from jinlin.store import Transaction
from jinlin.web import CommandResult, run_command
from mediation.adapters.http.dependencies import CaseId, Desk, MeetingId, PartyId, Supervisor, TermId, context_of
from mediation.adapters.http.running import CONDITIONAL_DOCS, DOCS, answer, change_case, run_on_case
from mediation.adapters.http.schemas import (
    AmendAgreement,
    ApplyForConfirmation,
    ApplyForMediation,
    AssignMediator,
    CancelMeeting,
    CaseView,
    CloseCase,
    Decline,
    DiscardAgreement,
    DraftAgreement,
    EndWithoutAgreement,
    ExtendDeadline,
    ExtendObligation,
    FulfilObligation,
    InformOfRights,
    InviteParties,
    NamedParty,
    PostAgreement,
    RecordAttendance,
    RecordDecision,
    RecordFollowUp,
    RecordMinutes,
    RecordRsvp,
    RemoveParty,
    RescheduleMeeting,
    ScheduleMeeting,
    SignAgreement,
    TermIn,
    WaiveObligation,
)
from mediation.application import parties as party_names
from mediation.application.changes import change, record
from mediation.application.fulfilments import fulfilment_problems
from mediation.domain import (
    CaseState,
    Mediator,
    Origin,
    Term,
    ValidationFailed,
    accept,
    add_party,
    amend_agreement,
    apply_for_judicial_confirmation,
    apply_for_mediation,
    assign_mediator,
    cancel_meeting,
    close,
    decline,
    discard_agreement,
    draft_agreement,
    end_without_agreement,
    extend_deadline,
    extend_obligation,
    fulfil_obligation,
    inform_of_rights,
    invite_parties,
    post_agreement,
    record_attendance,
    record_follow_up_visit,
    record_judicial_decision,
    record_minutes,
    record_rsvp,
    remove_party,
    reschedule_meeting,
    schedule_meeting,
    sign_agreement,
    waive_obligation,
)

router = APIRouter(tags=["case commands"])
SHANGHAI = ZoneInfo("Asia/Shanghai")


def new_case_id(now: datetime) -> str:
    """Readable at the desk ("m-20261129-3fa9c2"): the day it was applied for (Shanghai time), a random part."""
    return f"m-{now.astimezone(SHANGHAI):%Y%m%d}-{secrets.token_hex(3)}"


def _terms(terms: list[TermIn]) -> list[Term]:
    converted = [Term.model_validate(term.model_dump()) for term in terms]
    problems = fulfilment_problems(converted)
    if problems:
        raise ValidationFailed(problems)
    return converted


def _named(party: NamedParty) -> party_names.NamedParty:
    return party_names.NamedParty(party.kind, party.organisation, party.person_name)


# --- opening -------------------------------------------------------------------------------------------------------


@router.post("/cases", status_code=201, response_model=CaseView, summary="Apply for mediation directly", **DOCS)
async def apply(body: ApplyForMediation, request: Request, staff: Desk) -> Response:
    """A case applied for by a party, or referred by the street office or a court. (Referrals from the complaints
    desk arrive as its events and open cases by themselves.) Residents' names are sealed before they are stored."""
    context = context_of(request)
    now = context.clock()
    case_id = new_case_id(now)

    async def handle(tx: Transaction) -> CommandResult:
        parties = await party_names.seal_parties(tx, context, [_named(party) for party in body.parties])
        if body.applicant is not None and body.applicant >= len(parties):
            raise ValidationFailed.single("applicant", "is not the index of one of the parties")
        events = apply_for_mediation(
            case_id=case_id,
            origin=Origin(body.origin.value),
            reason=body.reason,
            parties=parties,
            at=now,
            applicant=parties[body.applicant] if body.applicant is not None else None,
            referred_by=body.referred_by,
            referral_reference=body.referral_reference,
            compound_id=body.compound_id,
        )
        state = await record(tx, None, events)
        assert state is not None
        opened = await answer(state, now)
        return CommandResult(opened.body, version=state.version, headers={"Location": f"/cases/{case_id}"})

    return await run_command(
        request, context.store, handle, actor=staff, scope="mediation.apply", caseid=case_id, status_code=201
    )


@router.post("/cases/{case_id}/accept", response_model=CaseView, **DOCS)
async def accept_case(case_id: CaseId, request: Request, staff: Desk) -> Response:
    """Accept the case (受理): the one month to mediate starts now."""
    return await change_case(request, staff, case_id, "accept", lambda state, at: accept(state, at=at))


@router.post("/cases/{case_id}/decline", response_model=CaseView, **DOCS)
async def decline_case(case_id: CaseId, body: Decline, request: Request, staff: Desk) -> Response:
    """Decline the case (不予受理) with a reason, telling the parties their other routes; the complaints desk takes
    its complaints back."""
    return await change_case(
        request, staff, case_id, "decline",
        lambda state, at: decline(state, reason=body.reason, routes_advised=body.routes_advised, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/deadline-extensions", response_model=CaseView, **DOCS)
async def extend_case_deadline(case_id: CaseId, body: ExtendDeadline, request: Request, staff: Desk) -> Response:
    """The parties agreed to take longer than the month."""
    return await change_case(
        request, staff, case_id, "extend_deadline",
        lambda state, at: extend_deadline(state, due_at=body.due_at, reason=body.reason, at=at),
    )  # fmt: skip


# --- people --------------------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/parties", response_model=CaseView, **DOCS)
async def add_case_party(case_id: CaseId, body: NamedParty, request: Request, staff: Desk) -> Response:
    """A new party joins (the next party id); a person's name is sealed with this service's key."""
    context = context_of(request)

    async def handle(tx: Transaction, now: datetime) -> CaseState:
        (party,) = await party_names.seal_parties(tx, context, [_named(body)], field="party")
        return await change(tx, case_id, lambda state, at: add_party(state, party=party, at=at), now)

    return await run_on_case(request, staff, case_id, "add_party", handle)


@router.post("/cases/{case_id}/parties/{party_id}/remove", response_model=CaseView, **DOCS)
async def remove_case_party(
    case_id: CaseId, party_id: PartyId, body: RemoveParty, request: Request, staff: Desk
) -> Response:
    return await change_case(
        request, staff, case_id, "remove_party",
        lambda state, at: remove_party(state, party_id=party_id, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/parties/{party_id}/rights-informed", response_model=CaseView, **DOCS)
async def rights_informed(
    case_id: CaseId, party_id: PartyId, body: InformOfRights, request: Request, staff: Desk
) -> Response:
    """Record that the party was told their rights and duties in mediation (告知权利义务)."""
    return await change_case(
        request, staff, case_id, "inform_of_rights",
        lambda state, at: inform_of_rights(state, party_id=party_id, note=body.note, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/mediator", response_model=CaseView, **DOCS)
async def assign_case_mediator(case_id: CaseId, body: AssignMediator, request: Request, staff: Supervisor) -> Response:
    """Assign the mediator (人民调解员), or hand the case to another one. Supervisors only."""
    mediator = Mediator(id=body.mediator.id, name=body.mediator.name)
    return await change_case(
        request, staff, case_id, "assign_mediator",
        lambda state, at: assign_mediator(state, mediator=mediator, reason=body.reason, at=at),
    )  # fmt: skip


# --- consultation meetings -----------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/meetings", response_model=CaseView, **DOCS)
async def schedule(case_id: CaseId, body: ScheduleMeeting, request: Request, staff: Desk) -> Response:
    """Schedule a consultation meeting (近邻茶话会); it gets the next meeting id (``meeting-<n>``)."""
    return await change_case(
        request, staff, case_id, "schedule_meeting",
        lambda state, at: schedule_meeting(
            state, place=body.place, starts_at=body.starts_at, ends_at=body.ends_at, agenda=body.agenda, at=at
        ),
    )  # fmt: skip


@router.post("/cases/{case_id}/meetings/{meeting_id}/invitations", response_model=CaseView, **DOCS)
async def invite(
    case_id: CaseId, meeting_id: MeetingId, body: InviteParties, request: Request, staff: Desk
) -> Response:
    return await change_case(
        request, staff, case_id, "invite",
        lambda state, at: invite_parties(state, meeting_id=meeting_id, party_ids=body.party_ids, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/meetings/{meeting_id}/rsvps", response_model=CaseView, **DOCS)
async def rsvp(case_id: CaseId, meeting_id: MeetingId, body: RecordRsvp, request: Request, staff: Desk) -> Response:
    """An invited party's answer, before the meeting starts; a later answer replaces it."""
    return await change_case(
        request, staff, case_id, "rsvp",
        lambda state, at: record_rsvp(state, meeting_id=meeting_id, party_id=body.party_id, rsvp=body.rsvp, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/meetings/{meeting_id}/attendance", response_model=CaseView, **DOCS)
async def attendance(
    case_id: CaseId, meeting_id: MeetingId, body: RecordAttendance, request: Request, staff: Desk
) -> Response:
    """Whether a party actually came (from the meeting's start)."""
    return await change_case(
        request, staff, case_id, "attendance",
        lambda state, at: record_attendance(
            state, meeting_id=meeting_id, party_id=body.party_id, attended=body.attended, at=at
        ),
    )  # fmt: skip


@router.post("/cases/{case_id}/meetings/{meeting_id}/minutes", response_model=CaseView, **DOCS)
async def minutes(
    case_id: CaseId, meeting_id: MeetingId, body: RecordMinutes, request: Request, staff: Desk
) -> Response:
    """The meeting's minutes (会议记录); the meeting counts as held."""
    return await change_case(
        request, staff, case_id, "minutes",
        lambda state, at: record_minutes(state, meeting_id=meeting_id, minutes=body.minutes, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/meetings/{meeting_id}/cancel", response_model=CaseView, **DOCS)
async def cancel(
    case_id: CaseId, meeting_id: MeetingId, body: CancelMeeting, request: Request, staff: Desk
) -> Response:
    return await change_case(
        request, staff, case_id, "cancel_meeting",
        lambda state, at: cancel_meeting(state, meeting_id=meeting_id, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/meetings/{meeting_id}/reschedule", response_model=CaseView, **DOCS)
async def reschedule(
    case_id: CaseId, meeting_id: MeetingId, body: RescheduleMeeting, request: Request, staff: Desk
) -> Response:
    """A new time (and place); the RSVPs given for the old time are cleared, the invitations stand."""
    return await change_case(
        request, staff, case_id, "reschedule_meeting",
        lambda state, at: reschedule_meeting(
            state, meeting_id=meeting_id, starts_at=body.starts_at, ends_at=body.ends_at, reason=body.reason,
            place=body.place, at=at,
        ),
    )  # fmt: skip


# --- the agreement -------------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/agreement", response_model=CaseView, **DOCS)
async def draft(case_id: CaseId, body: DraftAgreement, request: Request, staff: Desk) -> Response:
    """Draft the agreement (调解协议书): the parties, the facts, the issues, and each term (who does what by when,
    and what shows it done)."""
    return await change_case(
        request, staff, case_id, "draft_agreement",
        lambda state, at: draft_agreement(
            state, party_ids=body.party_ids, facts=body.facts, issues=body.issues, terms=_terms(body.terms), at=at
        ),
    )  # fmt: skip


@router.post("/cases/{case_id}/agreement/amend", response_model=CaseView, **CONDITIONAL_DOCS)
async def amend(case_id: CaseId, body: AmendAgreement, request: Request, staff: Desk) -> Response:
    """Replace the whole text (the next revision), only while nobody has signed it. Requires ``If-Match``."""
    return await change_case(
        request, staff, case_id, "amend_agreement",
        lambda state, at: amend_agreement(
            state, party_ids=body.party_ids, facts=body.facts, issues=body.issues, terms=_terms(body.terms),
            reason=body.reason, at=at,
        ),
        require_if_match=True,
    )  # fmt: skip


@router.post("/cases/{case_id}/agreement/discard", response_model=CaseView, **DOCS)
async def discard(case_id: CaseId, body: DiscardAgreement, request: Request, staff: Desk) -> Response:
    """Void the draft and its signatures (to change a text someone signed: discard it and draft a new one)."""
    return await change_case(
        request, staff, case_id, "discard_agreement",
        lambda state, at: discard_agreement(state, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/agreement/signatures", response_model=CaseView, **CONDITIONAL_DOCS)
async def sign(case_id: CaseId, body: SignAgreement, request: Request, staff: Desk) -> Response:
    """One party's signature, recorded by the mediator; with the last one the agreement takes effect and its terms
    become obligations (``AgreementTookEffect``, which the complaints desk follows). Requires ``If-Match``."""
    return await change_case(
        request, staff, case_id, "sign",
        lambda state, at: sign_agreement(state, party_id=body.party_id, at=at),
        require_if_match=True,
    )  # fmt: skip


@router.post("/cases/{case_id}/agreement/postings", response_model=CaseView, **DOCS)
async def post(case_id: CaseId, body: PostAgreement, request: Request, staff: Desk) -> Response:
    """Post the agreement publicly (公示), e.g. on the compound's notice board."""
    return await change_case(
        request, staff, case_id, "post_agreement",
        lambda state, at: post_agreement(state, place=body.place, until=body.until, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/judicial-confirmation", response_model=CaseView, **DOCS)
async def apply_for_confirmation(
    case_id: CaseId, body: ApplyForConfirmation, request: Request, staff: Desk
) -> Response:
    """The parties applied together to a court for judicial confirmation (司法确认), within 30 days of the
    agreement taking effect."""
    return await change_case(
        request, staff, case_id, "apply_for_confirmation",
        lambda state, at: apply_for_judicial_confirmation(state, court=body.court, reference=body.reference, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/judicial-confirmation/decision", response_model=CaseView, **DOCS)
async def court_decision(case_id: CaseId, body: RecordDecision, request: Request, staff: Desk) -> Response:
    return await change_case(
        request, staff, case_id, "court_decision",
        lambda state, at: record_judicial_decision(state, outcome=body.outcome, remark=body.remark, at=at),
    )  # fmt: skip


# --- obligations ---------------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/obligations/{term_id}/fulfil", response_model=CaseView, **DOCS)
async def fulfil(case_id: CaseId, term_id: TermId, body: FulfilObligation, request: Request, staff: Desk) -> Response:
    """The obligor did it, as ``evidence`` shows."""
    return await change_case(
        request, staff, case_id, "fulfil",
        lambda state, at: fulfil_obligation(state, term_id=term_id, evidence=body.evidence, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/obligations/{term_id}/waive", response_model=CaseView, **DOCS)
async def waive(case_id: CaseId, term_id: TermId, body: WaiveObligation, request: Request, staff: Desk) -> Response:
    """The parties agreed that the obligation need not be carried out."""
    return await change_case(
        request, staff, case_id, "waive",
        lambda state, at: waive_obligation(state, term_id=term_id, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/obligations/{term_id}/extend", response_model=CaseView, **DOCS)
async def extend(case_id: CaseId, term_id: TermId, body: ExtendObligation, request: Request, staff: Desk) -> Response:
    """The parties agreed a later due instant."""
    return await change_case(
        request, staff, case_id, "extend_obligation",
        lambda state, at: extend_obligation(state, term_id=term_id, due_at=body.due_at, reason=body.reason, at=at),
    )  # fmt: skip


@router.post("/cases/{case_id}/follow-up-visits", response_model=CaseView, **DOCS)
async def follow_up(case_id: CaseId, body: RecordFollowUp, request: Request, staff: Desk) -> Response:
    """A follow-up visit (回访): how the agreement is being carried out, and how satisfied the party is (1–5)."""
    return await change_case(
        request, staff, case_id, "follow_up",
        lambda state, at: record_follow_up_visit(
            state, performance=body.performance, party_id=body.party_id, satisfaction=body.satisfaction, at=at
        ),
    )  # fmt: skip


# --- the end -------------------------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/close", response_model=CaseView, **DOCS)
async def close_case(case_id: CaseId, body: CloseCase, request: Request, staff: Desk) -> Response:
    """Close the case: every obligation was fulfilled or waived."""
    return await change_case(
        request, staff, case_id, "close", lambda state, at: close(state, summary=body.summary, at=at)
    )


@router.post("/cases/{case_id}/end-without-agreement", response_model=CaseView, **DOCS)
async def end(case_id: CaseId, body: EndWithoutAgreement, request: Request, staff: Desk) -> Response:
    """Mediation failed (调解不成): the case ends, and the parties are told their routes; the complaints desk takes
    its complaints back."""
    return await change_case(
        request, staff, case_id, "end_without_agreement",
        lambda state, at: end_without_agreement(state, reason=body.reason, routes_advised=body.routes_advised, at=at),
    )  # fmt: skip
