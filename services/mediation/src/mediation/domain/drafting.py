"""The mediation agreement (调解协议书): drafted, amended while nobody has signed, discarded, signed by each party.

It takes effect when every party it names has signed: the command that records the last signature also records
``AgreementTookEffect``, and nothing else ever does. Amending a signed text is refused (``AgreementAlreadySigned``):
the signatures are of one text, so to change it the mediator discards it and drafts a new one (a new id), which every
party signs again. See ``agreements`` for why.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from mediation.domain.commanding import begin, build, new_event, require_agreement
from mediation.domain.deadlines import confirmation_deadline
from mediation.domain.errors import AgreementAlreadySigned, AlreadySigned, InvalidTransition, NotAParty, Problem
from mediation.domain.events import (
    AgreementAmended,
    AgreementDiscarded,
    AgreementDrafted,
    AgreementSigned,
    AgreementTookEffect,
    CaseEvent,
)
from mediation.domain.state import CaseState
from mediation.domain.status import CaseStatus
from mediation.domain.terms import Term

# Agreements are made in mediation, after acceptance and before the case ends.
AGREEMENT_MADE_IN: Final = frozenset({CaseStatus.ACCEPTED})


def _text(
    state: CaseState,
    at: datetime,
    party_ids: Sequence[str],
    facts: str,
    issues: Sequence[str],
    terms: Sequence[Term],
) -> tuple[dict[str, Any], list[Problem]]:
    """The fields of an agreement's text, and what is wrong with it against the case (the event checks the rest)."""
    problems = [
        Problem(f"party_ids.{index}", "is not a party of the case")
        for index, party_id in enumerate(party_ids)
        if state.party(party_id) is None
    ]
    problems += [
        Problem(f"terms.{index}.due_at", "must be later than now")
        for index, term in enumerate(terms)
        if term.due_at <= at
    ]
    fields = {
        "case_id": state.case_id,
        "occurred_at": at,
        "party_ids": tuple(party_ids),
        "facts": facts,
        "issues": tuple(issues),
        "terms": tuple(terms),
    }
    return fields, problems


def draft_agreement(
    state: CaseState,
    *,
    party_ids: Sequence[str],
    facts: str,
    issues: Sequence[str],
    terms: Sequence[Term],
    at: datetime,
) -> list[CaseEvent]:
    """A new agreement under the next free id (``state.next_agreement_id``), revision 1.

    It names at least two parties of the case; each term names one of them as obligor and falls due after now.
    """
    at = begin(state, "draft an agreement for", AGREEMENT_MADE_IN, at)
    if state.agreement is not None:
        raise InvalidTransition(
            "draft an agreement for", state.status, f"agreement {state.agreement.agreement_id} is being drafted"
        )
    fields, problems = _text(state, at, party_ids, facts, issues, terms)
    return [build(AgreementDrafted, {**fields, "agreement_id": state.next_agreement_id, "revision": 1}, problems)]


def amend_agreement(
    state: CaseState,
    *,
    party_ids: Sequence[str],
    facts: str,
    issues: Sequence[str],
    terms: Sequence[Term],
    reason: str,
    at: datetime,
) -> list[CaseEvent]:
    """Replace the whole text (next revision). Refused once anyone has signed it."""
    at = begin(state, "amend the agreement of", AGREEMENT_MADE_IN, at)
    agreement = require_agreement(state, "amend the agreement of")
    if agreement.signatures:
        raise AgreementAlreadySigned(
            "amend the agreement of",
            state.status,
            f"{', '.join(agreement.signatures)} signed it; discard it and draft a new one",
        )
    fields, problems = _text(state, at, party_ids, facts, issues, terms)
    fields |= {"agreement_id": agreement.agreement_id, "revision": agreement.revision + 1, "reason": reason}
    return [build(AgreementAmended, fields, problems)]


def discard_agreement(state: CaseState, *, reason: str, at: datetime) -> list[CaseEvent]:
    """Void the draft and its signatures, e.g. to change a text someone already signed."""
    at = begin(state, "discard the agreement of", AGREEMENT_MADE_IN, at)
    agreement = require_agreement(state, "discard the agreement of")
    return [new_event(AgreementDiscarded, state, at, agreement_id=agreement.agreement_id, reason=reason)]


def sign_agreement(state: CaseState, *, party_id: str, at: datetime) -> list[CaseEvent]:
    """One party's signature; with the last one, the agreement takes effect (and its terms become obligations)."""
    at = begin(state, "sign the agreement of", AGREEMENT_MADE_IN, at)
    agreement = require_agreement(state, "sign the agreement of")
    if party_id not in agreement.party_ids:
        raise NotAParty("sign the agreement of", state.status, party_id, of=f"agreement {agreement.agreement_id}")
    if party_id in agreement.signatures:
        raise AlreadySigned("sign the agreement of", state.status, f"{party_id} already signed")
    signed = new_event(
        AgreementSigned, state, at, agreement_id=agreement.agreement_id, revision=agreement.revision, party_id=party_id
    )
    if agreement.unsigned_party_ids != (party_id,):
        return [signed]
    took_effect = new_event(
        AgreementTookEffect,
        state,
        at,
        agreement_id=agreement.agreement_id,
        complaint_ids=state.complaint_ids,
        confirmation_window_ends_at=confirmation_deadline(at),
    )
    return [signed, took_effect]
