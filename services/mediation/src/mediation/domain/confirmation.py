"""After the agreement took effect: public posting (公示) and judicial confirmation (司法确认).

The parties may apply together to a court within 30 days of the agreement taking effect (the instant of the 30th
day's end is included); the court's answer is recorded when it comes, which may be after the case closed.
A rejection is recorded and changes nothing else: the obligations stand until the parties settle them otherwise.
"""

from datetime import datetime

from mediation.domain.agreements import Agreement, JudicialOutcome
from mediation.domain.commanding import begin, coerce, new_event
from mediation.domain.errors import ConfirmationWindowClosed, InvalidTransition, ValidationFailed
from mediation.domain.events import AgreementPosted, CaseEvent, JudicialConfirmationApplied, JudicialConfirmationDecided
from mediation.domain.state import CaseState
from mediation.domain.status import AGREED
from mediation.domain.utc import require_utc


def _in_effect(state: CaseState, command: str) -> Agreement:
    agreement = state.agreement
    if agreement is None or agreement.took_effect_at is None:  # an agreed case always has one in effect
        raise InvalidTransition(command, state.status, "no agreement took effect")
    return agreement


def post_agreement(state: CaseState, *, place: str, at: datetime, until: datetime | None = None) -> list[CaseEvent]:
    """Post the agreement publicly (e.g. the compound's notice board), until ``until`` if known. Can be repeated."""
    at = begin(state, "post the agreement of", AGREED, at)
    agreement = _in_effect(state, "post the agreement of")
    if until is not None and require_utc(until, "until") <= at:
        raise ValidationFailed.single("until", "must be later than the posting")
    return [new_event(AgreementPosted, state, at, agreement_id=agreement.agreement_id, place=place, until=until)]


def apply_for_judicial_confirmation(
    state: CaseState, *, court: str, at: datetime, reference: str | None = None
) -> list[CaseEvent]:
    """The joint application of every party of the agreement to ``court``; once, within the 30-day window."""
    at = begin(state, "apply for judicial confirmation of", AGREED, at)
    agreement = _in_effect(state, "apply for judicial confirmation of")
    if agreement.judicial_confirmation is not None:
        raise InvalidTransition("apply for judicial confirmation of", state.status, "the parties already applied")
    deadline = agreement.confirmation_deadline
    if deadline is None or at > deadline:
        raise ConfirmationWindowClosed(
            "apply for judicial confirmation of", state.status, "the 30 days after the agreement took effect are over"
        )
    return [
        new_event(
            JudicialConfirmationApplied,
            state,
            at,
            agreement_id=agreement.agreement_id,
            court=court,
            party_ids=agreement.party_ids,
            reference=reference,
        )
    ]


def record_judicial_decision(
    state: CaseState, *, outcome: JudicialOutcome, at: datetime, remark: str = ""
) -> list[CaseEvent]:
    """The court's answer to the parties' application: confirmed or rejected."""
    at = begin(state, "record the court's decision on", AGREED, at)
    agreement = _in_effect(state, "record the court's decision on")
    application = agreement.judicial_confirmation
    if application is None:
        raise InvalidTransition("record the court's decision on", state.status, "nobody applied to a court")
    if application.outcome is not None:
        raise InvalidTransition("record the court's decision on", state.status, "the court already decided")
    outcome = coerce(JudicialOutcome, outcome, "outcome")
    return [
        new_event(
            JudicialConfirmationDecided, state, at, agreement_id=agreement.agreement_id, outcome=outcome, remark=remark
        )
    ]
