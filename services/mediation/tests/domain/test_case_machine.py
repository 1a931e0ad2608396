"""A hypothesis state machine over a mediation case.

Every command is tried in whatever state the case happens to be in; a model written here (not derived from the
implementation) says whether it is legal and what it leads to. Checked after every step:

- an illegal command is refused with a ``DomainError`` (the specific one where a rule names it), and neither the
  refused nor an accepted command changes the state it was given;
- nothing takes effect without every signature: each ``AgreementTookEffect`` follows a signature of every party its
  agreement names, and the state agrees with the model on who signed;
- no obligation is fulfilled (or settled) twice;
- an obligation is marked overdue at most once per due instant, and only after it;
- replaying all events from scratch (also after a JSON round trip through the registry) gives the same state.
"""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mediation.domain import (
    READABLE_AFTER_END,
    AccessRefused,
    AccessStatus,
    AgreementAlreadySigned,
    AgreementAmended,
    AgreementDrafted,
    AgreementSigned,
    AgreementTookEffect,
    AlreadySigned,
    CaseEvent,
    CaseState,
    CaseStatus,
    ConfirmationWindowClosed,
    DomainError,
    EventDoesNotFulfil,
    ExternalFulfilment,
    MeetingStatus,
    NotAParty,
    ObligationAlreadySettled,
    ObligationFulfilled,
    ObligationMarkedOverdue,
    ObligationsOutstanding,
    ObligationStatus,
    ObligationWaived,
    PartyDetails,
    PartyKind,
    Route,
    Rsvp,
    Term,
    UnknownItem,
    accept,
    access_status,
    add_party,
    amend_agreement,
    answer_invitation,
    apply_all,
    apply_for_judicial_confirmation,
    cancel_meeting,
    close,
    decline,
    discard_agreement,
    draft_agreement,
    end_without_agreement,
    extend_obligation,
    fulfil_by_external_event,
    fulfil_obligation,
    grant_party_access,
    invite_parties,
    mark_obligation_overdue,
    open_by_referral,
    record_attendance,
    record_minutes,
    record_rsvp,
    registry,
    remove_party,
    replay,
    revoke_party_access,
    schedule_meeting,
    sign_agreement,
    waive_obligation,
)

T0 = datetime(2025, 4, 7, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CASE_ID = "case-jinyuan-power"
ARREARS_PAID = "jinlin.escrow.ArrearsPaid.v1"
MATCH = {"compound_id": "jinyuan-huating"}

ORGANISATIONS = ["某物业服务有限公司", "国网天长市供电公司", "金园华庭业主委员会", "金园社区居委会", "天长市水务公司"]
PARTY_IDS = [f"party-{n}" for n in range(1, 7)]  # party-4 .. party-6 exist only once parties were added
STRANGER_ID = "party-99"  # never a party: numbering never gets that far in a run
MEETING_IDS = ["meeting-1", "meeting-2", "meeting-3"]
TERM_IDS = ["t-1", "t-2", "t-3"]  # t-3 is never drafted
EVENT_IDS = ["esc-1", "esc-2"]

# The model's own statement of the rules: where each kind of command is allowed.
PARTIES_CHANGE = {CaseStatus.OPENED, CaseStatus.ACCEPTED}
MEETINGS = {CaseStatus.ACCEPTED, CaseStatus.AGREEMENT_IN_EFFECT}
AGREED = {CaseStatus.AGREEMENT_IN_EFFECT, CaseStatus.CLOSED}
REOPENABLE = {CaseStatus.DECLINED, CaseStatus.ENDED_WITHOUT_AGREEMENT}
CONFIRMATION_DAYS = 30

# An agreement's text as drawn: the parties it names (mostly parties of the case: indices into them, sometimes with
# a stranger), and its terms as (obligor index, days until due, fulfilled by escrow).
PICKS = st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True)
STRANGER = st.integers(0, 9)  # 0: the text also names a stranger
TERMS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 12), st.booleans()), min_size=1, max_size=2)


# Who a command names: mostly one of the parties it is meant for (an index into them); one draw in five, any id at
# all, party of the case or not. As (index, stranger unless nonzero).
PARTY_PICK = st.tuples(st.integers(0, 5), st.integers(0, 4))


def _choose(pick: tuple[int, int], among: list[str]) -> str:
    index, usual = pick
    return among[index % len(among)] if among and usual else PARTY_IDS[index]


def _details(organisation: str) -> PartyDetails:
    return PartyDetails(kind=PartyKind.OTHER, organisation=organisation)


@dataclass
class ModelMeeting:
    starts_at: datetime
    status: MeetingStatus = MeetingStatus.SCHEDULED
    invited: list[str] = field(default_factory=list)
    attended_recorded: bool = False


@dataclass
class ModelTerm:
    term_id: str
    obligor: str
    due: datetime
    external: bool


@dataclass
class ModelAgreement:
    agreement_id: str
    party_ids: list[str]
    terms: list[ModelTerm]
    signed: set[str] = field(default_factory=set)


@dataclass
class ModelObligation:
    due: datetime
    status: ObligationStatus = ObligationStatus.OPEN
    marked_for: set[datetime] = field(default_factory=set)
    by_event: str | None = None


@dataclass
class ModelAccess:
    party_id: str
    expires: datetime
    revoked: bool = False


@dataclass
class Model:
    status: CaseStatus = CaseStatus.OPENED
    parties: dict[str, str] = field(default_factory=dict)  # party id -> organisation
    numbered: int = 0
    complaint_ids: list[str] = field(default_factory=list)
    escalations: set[str] = field(default_factory=set)
    meetings: dict[str, ModelMeeting] = field(default_factory=dict)
    agreement: ModelAgreement | None = None
    agreements: int = 0
    took_effect_at: datetime | None = None
    obligations: dict[str, ModelObligation] = field(default_factory=dict)
    applied_to_court: bool = False
    ended_at: datetime | None = None  # of the round that was declined, ended without agreement, or closed
    accesses: dict[str, ModelAccess] = field(default_factory=dict)


class CaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.events: list[CaseEvent] = []
        self.state: CaseState
        self.model = Model()
        self.escalations_sent = 1
        self.secrets_made = 0

    # Where a run starts: just referred, or already further on, reached through the same rules (so the model follows).
    # Left to chance alone, few runs would get as far as carrying out an agreement.
    @initialize(
        parties=st.integers(2, 3),
        stage=st.sampled_from(["opened", "accepted", "meeting", "drafted", "agreed"]),
        terms=TERMS,
    )
    def refer(self, parties: int, stage: str, terms: list[tuple[int, int, bool]]) -> None:
        self._open(parties)
        if stage == "opened":
            return
        self.accept()
        if stage == "accepted":
            return
        if stage == "meeting":  # a meeting tomorrow, everybody invited
            self.schedule_meeting(start_in_hours=24)
            for index in range(parties):
                self.invite(meeting_id="meeting-1", pick=(index, 1))
            return
        self.draft(picks=list(range(parties)), stranger=1, terms=[(o, max(days, 1), x) for o, days, x in terms])
        if stage == "agreed":
            for index in range(parties):
                self.sign(pick=(index, 1))
            assert self.model.status is CaseStatus.AGREEMENT_IN_EFFECT

    def _open(self, parties: int) -> None:
        self.events = open_by_referral(
            None,
            case_id=CASE_ID,
            complaint_ids=["c-1"],
            compound_id="jinyuan-huating",
            reason="物业公司拖欠电费",
            parties=[_details(name) for name in ORGANISATIONS[:parties]],
            escalation_event_id="evt-1",
            at=self.now,
        )
        state = apply_all(None, self.events)
        assert state is not None
        self.state = state
        m = self.model
        m.parties = {f"party-{n + 1}": ORGANISATIONS[n] for n in range(parties)}
        m.numbered, m.complaint_ids, m.escalations = parties, ["c-1"], {"evt-1"}

    # --- driving ---------------------------------------------------------------------------------------------------

    def attempt(
        self, legal: bool, command: Callable[..., list[CaseEvent]], error: type[DomainError] = DomainError, **kw: Any
    ) -> list[CaseEvent] | None:
        """Run the command; it must succeed exactly when the model says it is legal, and never touch its input."""
        before = copy.deepcopy(self.state)
        if not legal:
            with pytest.raises(error):
                command(self.state, at=self.now, **kw)
            assert self.state == before
            return None
        new_events = command(self.state, at=self.now, **kw)
        assert self.state == before
        state = apply_all(self.state, new_events)
        assert state is not None
        self.state = state
        self.events.extend(new_events)
        return new_events

    # Steps from minutes to weeks, so that meetings start, obligations fall due and the court's window closes.
    @rule(
        step=st.sampled_from([timedelta(0), HOUR, 6 * HOUR, DAY, 3 * DAY, 8 * DAY, 16 * DAY]), extra=st.integers(0, 59)
    )
    def time_passes(self, step: timedelta, extra: int) -> None:
        self.now += step + timedelta(minutes=extra)

    # A second way for time to pass, so that it passes about as often as anything else happens.
    @rule(days=st.integers(1, 12))
    def days_pass(self, days: int) -> None:
        self.now += days * DAY

    # --- opening and ending ----------------------------------------------------------------------------------------

    @rule()
    def accept(self) -> None:
        if self.attempt(self.model.status is CaseStatus.OPENED, accept):
            self.model.status = CaseStatus.ACCEPTED

    # Declining and ending end the case; tried as often as the other commands, they would end most runs before the
    # interesting states are reached. So most draws pass them by.
    @rule(chance=st.integers(0, 19))
    def decline(self, chance: int) -> None:
        if chance == 0 and self.attempt(
            self.model.status is CaseStatus.OPENED, decline, reason="不予受理", routes_advised=[Route.LITIGATION]
        ):
            self.model.status, self.model.ended_at = CaseStatus.DECLINED, self.now

    @rule(chance=st.integers(0, 19))
    def end_without_agreement(self, chance: int) -> None:
        if chance == 0 and self.attempt(
            self.model.status is CaseStatus.ACCEPTED,
            end_without_agreement,
            reason="调解不成",
            routes_advised=[Route.ARBITRATION],
        ):
            self.model.status, self.model.ended_at = CaseStatus.ENDED_WITHOUT_AGREEMENT, self.now

    @rule(redelivery=st.booleans(), which=st.integers(0, 5), new_complaint=st.booleans(), made_at_t0=st.booleans())
    def escalation_arrives(self, redelivery: bool, which: int, new_complaint: bool, made_at_t0: bool) -> None:
        """A new escalation, or one already taken in delivered again; made now, or back when the case was opened
        (another complaint's event of the first escalation, delivered late)."""
        m = self.model
        if redelivery:
            taken_in = sorted(m.escalations)
            event_id = taken_in[which % len(taken_in)]
        else:
            self.escalations_sent += 1
            event_id = f"evt-{self.escalations_sent}"
        complaint_ids = [*m.complaint_ids, f"c-{self.escalations_sent}"] if new_complaint else list(m.complaint_ids)
        # Only complaints the case lacks are refused by an agreement in effect: a duplicate is never an error.
        legal = event_id in m.escalations or m.status not in AGREED or not new_complaint
        events = self.attempt(
            legal,
            open_by_referral,
            case_id=CASE_ID,
            complaint_ids=complaint_ids,
            compound_id="jinyuan-huating",
            reason="再次转来",
            parties=[],
            escalation_event_id=event_id,
            escalated_at=T0 if made_at_t0 else self.now,
        )
        if events is None or event_id in m.escalations:
            assert events is None or events == []
            return
        escalated_at = T0 if made_at_t0 else self.now
        late_duplicate = not new_complaint and m.ended_at is not None and escalated_at <= m.ended_at
        if m.status in REOPENABLE and not late_duplicate:
            m.status, m.agreement, m.ended_at = CaseStatus.OPENED, None, None
        elif not new_complaint:
            assert events == []
            return
        m.escalations.add(event_id)
        m.complaint_ids = list(dict.fromkeys([*m.complaint_ids, *complaint_ids]))

    # --- parties ---------------------------------------------------------------------------------------------------

    @rule(organisation=st.sampled_from(ORGANISATIONS))
    def add_party(self, organisation: str) -> None:
        m = self.model
        legal = m.status in PARTIES_CHANGE and organisation not in m.parties.values()
        if self.attempt(legal, add_party, party=_details(organisation)):
            m.numbered += 1
            m.parties[f"party-{m.numbered}"] = organisation

    # Removing parties freely would leave too few to agree; most draws pass it by.
    @rule(party_id=st.sampled_from(PARTY_IDS), chance=st.integers(0, 3))
    def remove_party(self, party_id: str, chance: int) -> None:
        if chance:
            return
        m = self.model
        named = m.agreement is not None and party_id in m.agreement.party_ids
        is_party = party_id in m.parties
        legal = m.status in PARTIES_CHANGE and is_party and not named and len(m.parties) > 1
        error = NotAParty if m.status in PARTIES_CHANGE and not is_party else DomainError
        if self.attempt(legal, remove_party, error, party_id=party_id, reason="退出"):
            del m.parties[party_id]

    # --- meetings --------------------------------------------------------------------------------------------------

    @rule(start_in_hours=st.integers(1, 24 * 10))
    def schedule_meeting(self, start_in_hours: int) -> None:
        m = self.model
        start = self.now + start_in_hours * HOUR
        if self.attempt(
            m.status in MEETINGS,
            schedule_meeting,
            place="服务站",
            starts_at=start,
            ends_at=start + HOUR,
            agenda=["议题"],
        ):
            m.meetings[f"meeting-{len(m.meetings) + 1}"] = ModelMeeting(start)

    def _meeting_gate(self, meeting_id: str) -> tuple[ModelMeeting | None, type[DomainError]]:
        meeting = self.model.meetings.get(meeting_id)
        error = UnknownItem if self.model.status in MEETINGS and meeting is None else DomainError
        return meeting, error

    @rule(meeting_id=st.sampled_from(MEETING_IDS), pick=PARTY_PICK)
    def invite(self, meeting_id: str, pick: tuple[int, int]) -> None:
        m = self.model
        meeting, error = self._meeting_gate(meeting_id)
        party_id = _choose(pick, list(m.parties))
        legal = (
            m.status in MEETINGS
            and meeting is not None
            and meeting.status is MeetingStatus.SCHEDULED
            and not meeting.attended_recorded
            and party_id in m.parties
            and party_id not in meeting.invited
        )
        if self.attempt(legal, invite_parties, error, meeting_id=meeting_id, party_ids=[party_id]):
            assert meeting is not None
            meeting.invited.append(party_id)

    @rule(meeting_id=st.sampled_from(MEETING_IDS), pick=PARTY_PICK, rsvp=st.sampled_from(Rsvp))
    def rsvp(self, meeting_id: str, pick: tuple[int, int], rsvp: Rsvp) -> None:
        m = self.model
        meeting, error = self._meeting_gate(meeting_id)
        party_id = _choose(pick, meeting.invited if meeting is not None else [])
        legal = (
            m.status in MEETINGS
            and meeting is not None
            and meeting.status is MeetingStatus.SCHEDULED
            and not meeting.attended_recorded
            and party_id in m.parties
            and party_id in meeting.invited
            and self.now < meeting.starts_at
        )
        self.attempt(legal, record_rsvp, error, meeting_id=meeting_id, party_id=party_id, rsvp=rsvp)

    @rule(meeting_id=st.sampled_from(MEETING_IDS), pick=PARTY_PICK, came=st.booleans())
    def attend(self, meeting_id: str, pick: tuple[int, int], came: bool) -> None:
        m = self.model
        meeting, error = self._meeting_gate(meeting_id)
        party_id = _choose(pick, list(m.parties))
        legal = (
            m.status in MEETINGS
            and meeting is not None
            and meeting.status is not MeetingStatus.CANCELLED
            and party_id in m.parties
            and self.now >= meeting.starts_at
        )
        if self.attempt(legal, record_attendance, error, meeting_id=meeting_id, party_id=party_id, attended=came):
            assert meeting is not None
            meeting.attended_recorded = True

    @rule(meeting_id=st.sampled_from(MEETING_IDS))
    def minutes(self, meeting_id: str) -> None:
        m = self.model
        meeting, error = self._meeting_gate(meeting_id)
        legal = (
            m.status in MEETINGS
            and meeting is not None
            and meeting.status is MeetingStatus.SCHEDULED
            and self.now >= meeting.starts_at
        )
        if self.attempt(legal, record_minutes, error, meeting_id=meeting_id, minutes="会议记录"):
            assert meeting is not None
            meeting.status = MeetingStatus.HELD

    @rule(meeting_id=st.sampled_from(MEETING_IDS))
    def cancel(self, meeting_id: str) -> None:
        m = self.model
        meeting, error = self._meeting_gate(meeting_id)
        legal = (
            m.status in MEETINGS
            and meeting is not None
            and meeting.status is MeetingStatus.SCHEDULED
            and not meeting.attended_recorded
        )
        if self.attempt(legal, cancel_meeting, error, meeting_id=meeting_id, reason="改期"):
            assert meeting is not None
            meeting.status = MeetingStatus.CANCELLED

    # --- the agreement ---------------------------------------------------------------------------------------------

    def _party_ids(self, picks: list[int], stranger: int) -> list[str]:
        current = list(self.model.parties)
        chosen = list(dict.fromkeys(current[pick % len(current)] for pick in picks))
        return [*chosen, STRANGER_ID] if stranger == 0 else chosen

    def _text(self, party_ids: list[str], terms: list[tuple[int, int, bool]]) -> tuple[dict[str, Any], list[ModelTerm]]:
        """An agreement's text: each term as (obligor index into party_ids, days until due, fulfilled by escrow)."""
        model_terms = [
            ModelTerm(TERM_IDS[n], party_ids[obligor % len(party_ids)], self.now + days * DAY, external)
            for n, (obligor, days, external) in enumerate(terms)
        ]
        text = {
            "party_ids": party_ids,
            "facts": "事实",
            "issues": ["争议焦点"],
            "terms": [
                Term(
                    term_id=t.term_id,
                    obligor=t.obligor,
                    what="履行事项",
                    due_at=t.due,
                    evidence_required="证明",
                    fulfilled_by=ExternalFulfilment(service="escrow", event_type=ARREARS_PAID, match=MATCH)
                    if t.external
                    else None,
                )
                for t in model_terms
            ],
        }
        return text, model_terms

    def _valid_text(self, party_ids: list[str], terms: list[ModelTerm]) -> bool:
        return (
            len(party_ids) >= 2
            and all(p in self.model.parties for p in party_ids)
            and all(t.due > self.now for t in terms)
        )

    @rule(picks=PICKS, stranger=STRANGER, terms=TERMS)
    def draft(self, picks: list[int], stranger: int, terms: list[tuple[int, int, bool]]) -> None:
        m = self.model
        party_ids = self._party_ids(picks, stranger)
        text, model_terms = self._text(party_ids, terms)
        legal = m.status is CaseStatus.ACCEPTED and m.agreement is None and self._valid_text(party_ids, model_terms)
        if self.attempt(legal, draft_agreement, **text):
            m.agreements += 1
            m.agreement = ModelAgreement(f"agreement-{m.agreements}", party_ids, model_terms)

    @rule(picks=PICKS, stranger=STRANGER, terms=TERMS)
    def amend(self, picks: list[int], stranger: int, terms: list[tuple[int, int, bool]]) -> None:
        m = self.model
        party_ids = self._party_ids(picks, stranger)
        text, model_terms = self._text(party_ids, terms)
        drafting = m.status is CaseStatus.ACCEPTED and m.agreement is not None
        signed = drafting and m.agreement is not None and bool(m.agreement.signed)
        legal = drafting and not signed and self._valid_text(party_ids, model_terms)
        error = AgreementAlreadySigned if signed else DomainError
        if self.attempt(legal, amend_agreement, error, **text, reason="修改"):
            assert m.agreement is not None
            m.agreement.party_ids, m.agreement.terms = party_ids, model_terms

    @rule()
    def discard(self) -> None:
        m = self.model
        if self.attempt(m.status is CaseStatus.ACCEPTED and m.agreement is not None, discard_agreement, reason="重拟"):
            m.agreement = None

    @rule(pick=PARTY_PICK)
    def sign(self, pick: tuple[int, int]) -> None:
        m = self.model
        agreement = m.agreement if m.status is CaseStatus.ACCEPTED else None
        party_id = _choose(pick, m.agreement.party_ids if m.agreement is not None else [])
        error: type[DomainError] = DomainError
        if agreement is not None and party_id not in agreement.party_ids:
            error = NotAParty
        elif agreement is not None and party_id in agreement.signed:
            error = AlreadySigned
        legal = agreement is not None and error is DomainError
        events = self.attempt(legal, sign_agreement, error, party_id=party_id)
        if events is None:
            return
        assert agreement is not None
        agreement.signed.add(party_id)
        if agreement.signed == set(agreement.party_ids):
            assert [type(e).__name__ for e in events] == ["AgreementSigned", "AgreementTookEffect"]
            m.status, m.took_effect_at = CaseStatus.AGREEMENT_IN_EFFECT, self.now
            m.obligations = {t.term_id: ModelObligation(t.due) for t in agreement.terms}
        else:
            assert [type(e).__name__ for e in events] == ["AgreementSigned"]

    @rule()
    def apply_to_court(self) -> None:
        m = self.model
        agreed = m.status in AGREED and not m.applied_to_court
        in_time = m.took_effect_at is not None and self.now <= m.took_effect_at + CONFIRMATION_DAYS * DAY
        error = ConfirmationWindowClosed if agreed and not in_time else DomainError
        if self.attempt(agreed and in_time, apply_for_judicial_confirmation, error, court="天长市人民法院"):
            m.applied_to_court = True

    # --- obligations -----------------------------------------------------------------------------------------------

    def _obligation_gate(self, term_id: str) -> tuple[ModelObligation | None, type[DomainError]]:
        m = self.model
        obligation = m.obligations.get(term_id)
        if m.status is not CaseStatus.AGREEMENT_IN_EFFECT:
            return obligation, DomainError
        if obligation is None:
            return None, UnknownItem
        if obligation.status is not ObligationStatus.OPEN:
            return obligation, ObligationAlreadySettled
        return obligation, DomainError

    def _term(self, term_id: str) -> ModelTerm:
        assert self.model.agreement is not None
        return next(t for t in self.model.agreement.terms if t.term_id == term_id)

    @rule(term_id=st.sampled_from(TERM_IDS))
    def fulfil(self, term_id: str) -> None:
        obligation, error = self._obligation_gate(term_id)
        legal = obligation is not None and error is DomainError and self.model.status is CaseStatus.AGREEMENT_IN_EFFECT
        if self.attempt(legal, fulfil_obligation, error, term_id=term_id, evidence="证明材料"):
            assert obligation is not None
            obligation.status = ObligationStatus.FULFILLED

    @rule(term_id=st.sampled_from(TERM_IDS), event_id=st.sampled_from(EVENT_IDS), mismatch=st.integers(0, 3))
    def escrow_event_arrives(self, term_id: str, event_id: str, mismatch: int) -> None:
        m = self.model
        matching = mismatch != 0  # mostly the compound the terms name
        data = MATCH if matching else {"compound_id": "another-compound"}
        already = m.obligations.get(term_id)
        if m.status in AGREED and already is not None and already.by_event == event_id:
            events = self.attempt(
                True,
                fulfil_by_external_event,
                term_id=term_id,
                service="escrow",
                event_type=ARREARS_PAID,
                event_id=event_id,
                data=data,
            )
            assert events == []
            return
        obligation, error = self._obligation_gate(term_id)
        open_ = obligation is not None and error is DomainError and m.status is CaseStatus.AGREEMENT_IN_EFFECT
        fits = open_ and self._term(term_id).external and matching
        if open_ and not fits:
            error = EventDoesNotFulfil
        if self.attempt(
            fits,
            fulfil_by_external_event,
            error,
            term_id=term_id,
            service="escrow",
            event_type=ARREARS_PAID,
            event_id=event_id,
            data=data,
        ):
            assert obligation is not None
            obligation.status, obligation.by_event = ObligationStatus.FULFILLED, event_id
            # At-least-once delivery: the same event straight again must record nothing.
            again = self.attempt(
                True,
                fulfil_by_external_event,
                term_id=term_id,
                service="escrow",
                event_type=ARREARS_PAID,
                event_id=event_id,
                data=data,
            )
            assert again == []

    @rule(term_id=st.sampled_from(TERM_IDS))
    def overdue_watcher(self, term_id: str) -> None:
        obligation, error = self._obligation_gate(term_id)
        open_ = obligation is not None and error is DomainError and self.model.status is CaseStatus.AGREEMENT_IN_EFFECT
        marked = open_ and obligation is not None and obligation.due in obligation.marked_for
        late = open_ and obligation is not None and self.now > obligation.due
        events = self.attempt(marked or late, mark_obligation_overdue, error, term_id=term_id)
        if events is None:
            return
        assert obligation is not None
        if marked:
            assert events == []
            return
        obligation.marked_for.add(obligation.due)
        # A watcher that crashed after recording runs again at once: it must record nothing.
        assert self.attempt(True, mark_obligation_overdue, term_id=term_id) == []

    @rule(term_id=st.sampled_from(TERM_IDS), days=st.integers(0, 10))
    def extend(self, term_id: str, days: int) -> None:
        obligation, error = self._obligation_gate(term_id)
        open_ = obligation is not None and error is DomainError and self.model.status is CaseStatus.AGREEMENT_IN_EFFECT
        new_due = (obligation.due if obligation is not None else self.now) + days * DAY
        legal = open_ and obligation is not None and new_due > obligation.due and new_due > self.now
        if self.attempt(legal, extend_obligation, error, term_id=term_id, due_at=new_due, reason="同意延期"):
            assert obligation is not None
            obligation.due = new_due

    @rule(term_id=st.sampled_from(TERM_IDS))
    def waive(self, term_id: str) -> None:
        obligation, error = self._obligation_gate(term_id)
        legal = obligation is not None and error is DomainError and self.model.status is CaseStatus.AGREEMENT_IN_EFFECT
        if self.attempt(legal, waive_obligation, error, term_id=term_id, reason="各方同意免除"):
            assert obligation is not None
            obligation.status = ObligationStatus.WAIVED

    @rule()
    def close(self) -> None:
        m = self.model
        in_effect = m.status is CaseStatus.AGREEMENT_IN_EFFECT
        settled = all(o.status is not ObligationStatus.OPEN for o in m.obligations.values())
        error = ObligationsOutstanding if in_effect and not settled else DomainError
        if self.attempt(in_effect and settled, close, error):
            m.status, m.ended_at = CaseStatus.CLOSED, self.now

    # --- a party's own access --------------------------------------------------------------------------------------

    def _works(self, access: ModelAccess) -> bool:
        m = self.model
        ends = access.expires if m.ended_at is None else min(access.expires, m.ended_at + READABLE_AFTER_END)
        return not access.revoked and access.party_id in m.parties and self.now < ends

    @rule(pick=PARTY_PICK, days=st.integers(1, 400))
    def grant_access(self, pick: tuple[int, int], days: int) -> None:
        m = self.model
        party_id = _choose(pick, list(m.parties))
        expires = self.now + days * DAY
        readable = m.ended_at is None or self.now < m.ended_at + READABLE_AFTER_END
        legal = party_id in m.parties and days <= 365 and readable
        error = NotAParty if party_id not in m.parties else DomainError
        self.secrets_made += 1
        digest = f"{self.secrets_made:064x}"
        if self.attempt(legal, grant_party_access, error, party_id=party_id, token_sha256=digest, expires_at=expires):
            m.accesses[f"access-{len(m.accesses) + 1}"] = ModelAccess(party_id, expires)

    @rule(number=st.integers(1, 4))
    def revoke_access(self, number: int) -> None:
        access = self.model.accesses.get(f"access-{number}")
        legal = access is not None and not access.revoked
        error = UnknownItem if access is None else DomainError
        party_id = access.party_id if access is not None else "party-1"
        if self.attempt(
            legal, revoke_party_access, error, party_id=party_id, access_id=f"access-{number}", reason="收回"
        ):
            assert access is not None
            access.revoked = True

    @rule(number=st.integers(1, 4), meeting_id=st.sampled_from(MEETING_IDS), rsvp=st.sampled_from(Rsvp))
    def party_answers(self, number: int, meeting_id: str, rsvp: Rsvp) -> None:
        """A party answers their own invitation through their access."""
        m = self.model
        access = m.accesses.get(f"access-{number}")
        works = access is not None and self._works(access)
        meeting, error = self._meeting_gate(meeting_id)
        legal = (
            access is not None
            and works
            and m.status in MEETINGS
            and meeting is not None
            and meeting.status is MeetingStatus.SCHEDULED
            and not meeting.attended_recorded
            and access.party_id in meeting.invited
            and self.now < meeting.starts_at
        )
        error = error if works else AccessRefused
        self.attempt(legal, answer_invitation, error, access_id=f"access-{number}", meeting_id=meeting_id, rsvp=rsvp)

    # --- what must always hold -------------------------------------------------------------------------------------

    @invariant()
    def the_state_is_the_models(self) -> None:
        m, s = self.model, self.state
        assert s.status is m.status
        assert list(s.parties) == list(m.parties)
        assert list(s.complaint_ids) == m.complaint_ids
        assert s.version == len(self.events)
        if m.status in REOPENABLE:
            assert s.ended_at == m.ended_at
        assert {i: (x.status, x.invited) for i, x in s.meetings.items()} == {
            i: (x.status, tuple(x.invited)) for i, x in m.meetings.items()
        }
        model_agreement = (
            (m.agreement.agreement_id, tuple(m.agreement.party_ids), m.agreement.signed) if m.agreement else None
        )
        agreement = s.agreement
        assert model_agreement == (
            (agreement.agreement_id, agreement.party_ids, set(agreement.signatures)) if agreement else None
        )
        assert {t: (o.status, o.due_at) for t, o in s.obligations.items()} == {
            t: (o.status, o.due) for t, o in m.obligations.items()
        }

    @invariant()
    def an_access_works_exactly_while_the_model_says(self) -> None:
        accesses = self.state.party_access
        assert list(accesses) == list(self.model.accesses)
        for access_id, access in self.model.accesses.items():
            works = access_status(self.state, accesses[access_id], self.now) is AccessStatus.ACTIVE
            assert works == self._works(access), access_id

    @invariant()
    def nothing_takes_effect_without_every_signature(self) -> None:
        named: dict[str, set[str]] = {}
        signed: dict[str, set[str]] = {}
        for event in self.events:
            if isinstance(event, AgreementDrafted | AgreementAmended):
                named[event.agreement_id] = set(event.party_ids)
                signed[event.agreement_id] = set()
            elif isinstance(event, AgreementSigned):
                signed[event.agreement_id].add(event.party_id)
            elif isinstance(event, AgreementTookEffect):
                assert signed[event.agreement_id] == named[event.agreement_id]
        took_effect = [e for e in self.events if isinstance(e, AgreementTookEffect)]
        assert len(took_effect) <= 1
        assert (self.state.status in AGREED) == bool(took_effect)

    @invariant()
    def no_obligation_is_settled_twice(self) -> None:
        settled = [e.term_id for e in self.events if isinstance(e, ObligationFulfilled | ObligationWaived)]
        assert len(settled) == len(set(settled))

    @invariant()
    def overdue_is_marked_at_most_once_per_deadline_and_only_after_it(self) -> None:
        marks = [e for e in self.events if isinstance(e, ObligationMarkedOverdue)]
        assert len({(e.term_id, e.due_at) for e in marks}) == len(marks)
        assert all(e.occurred_at > e.due_at for e in marks)

    @invariant()
    def replaying_the_events_gives_the_same_state(self) -> None:
        assert replay(self.events) == self.state
        decoded = [registry.decode(registry.type_of(e), json.loads(e.model_dump_json())) for e in self.events]
        assert replay(decoded) == self.state


CaseMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=80, deadline=None)
test_case_machine = CaseMachine.TestCase
