"""The agreement: drafted after acceptance, amended only while unsigned, in effect only with every signature;
posted publicly; judicial confirmation within 30 days."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from mediation.domain import (
    AgreementAlreadySigned,
    AgreementAmended,
    AgreementSigned,
    AgreementTookEffect,
    AlreadySigned,
    CaseStatus,
    ConfirmationWindowClosed,
    InvalidTransition,
    JudicialOutcome,
    NotAParty,
    ObligationStatus,
    Route,
    Term,
    ValidationFailed,
    amend_agreement,
    apply_for_judicial_confirmation,
    close,
    discard_agreement,
    draft_agreement,
    end_without_agreement,
    fulfil_obligation,
    open_by_referral,
    post_agreement,
    record_judicial_decision,
    sign_agreement,
)

Desk = Any
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
COURT = "天长市人民法院"


def _text(d: Desk, terms: list[Term], **overrides: Any) -> dict[str, Any]:
    text: dict[str, Any] = {
        "party_ids": ["party-1", "party-2", "party-3"],
        "facts": "物业公司未缴纳小区总表电费，供电公司暂停一户一表改造。",
        "issues": ["欠费由谁承担", "改造何时进行"],
        "terms": terms,
    }
    text.update(overrides)
    return text


def _status(d: Desk) -> CaseStatus:
    status: CaseStatus = d.state.status
    return status


# --- drafting ------------------------------------------------------------------------------------------------------


def test_an_agreement_only_after_acceptance(desk: Callable[..., Desk], terms_from: Callable[..., list[Term]]) -> None:
    d = desk()
    with pytest.raises(InvalidTransition, match="cannot draft an agreement for a case that is opened"):
        d.do(draft_agreement, **_text(d, terms_from(d.now)))


def test_drafting_records_the_whole_text(drafted: Desk) -> None:
    agreement = drafted.state.agreement
    assert agreement is not None
    assert (agreement.agreement_id, agreement.revision) == ("agreement-1", 1)
    assert agreement.party_ids == ("party-1", "party-2", "party-3")
    assert [term.term_id for term in agreement.terms] == ["t-arrears", "t-meters"]
    assert agreement.signatures == {}
    assert drafted.state.status is CaseStatus.ACCEPTED


def test_a_text_names_parties_of_the_case_and_terms_they_perform(
    accepted: Desk, terms_from: Callable[..., list[Term]]
) -> None:
    d = accepted
    good = terms_from(d.now + DAY)
    stranger_term = good[0].model_copy(update={"obligor": "party-4"})  # party-4 is not named in this text
    cases: list[tuple[dict[str, Any], str]] = [
        (_text(d, good, party_ids=["party-1", "party-9"]), "party_ids.1"),
        (_text(d, good, party_ids=["party-1"]), "party_ids"),
        (_text(d, good, party_ids=["party-1", "party-1", "party-3"]), "event"),
        (_text(d, [stranger_term]), "event"),
        (_text(d, [good[0], good[0]]), "event"),
        (_text(d, []), "terms"),
        (_text(d, good, issues=[]), "issues"),
        (_text(d, good, facts=" "), "facts"),
        (_text(d, [good[0].model_copy(update={"due_at": d.now})]), "terms.0.due_at"),
    ]
    for text, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            d.do(draft_agreement, **text)
        assert field in {problem.field for problem in refused.value.problems}, text
    assert d.state.agreement is None


def test_one_agreement_at_a_time(drafted: Desk, terms_from: Callable[..., list[Term]]) -> None:
    with pytest.raises(InvalidTransition, match="agreement-1 is being drafted"):
        drafted.do(draft_agreement, **_text(drafted, terms_from(drafted.now)))


def test_an_unsigned_agreement_is_amended_as_a_whole(drafted: Desk, terms_from: Callable[..., list[Term]]) -> None:
    new_terms = terms_from(drafted.now + 5 * DAY)
    [amended] = drafted.do(amend_agreement, **_text(drafted, new_terms, facts="新的事实"), reason="供电公司更正金额")
    assert isinstance(amended, AgreementAmended)
    agreement = drafted.state.agreement
    assert agreement is not None
    assert (agreement.revision, agreement.facts, agreement.terms) == (2, "新的事实", tuple(new_terms))


def test_amending_after_a_signature_is_refused(drafted: Desk, terms_from: Callable[..., list[Term]]) -> None:
    drafted.do(sign_agreement, party_id="party-2")
    before = drafted.state
    with pytest.raises(AgreementAlreadySigned, match="party-2 signed it"):
        drafted.do(amend_agreement, **_text(drafted, terms_from(drafted.now)), reason="x")
    assert drafted.state == before


def test_to_change_a_signed_text_it_is_discarded_and_drafted_anew(drafted: Desk) -> None:
    drafted.do(sign_agreement, party_id="party-2")
    drafted.do(discard_agreement, reason="金额有误")
    assert drafted.state.agreement is None
    drafted.draft()
    agreement = drafted.state.agreement
    assert agreement is not None
    assert (agreement.agreement_id, agreement.signatures) == ("agreement-2", {})


# --- signing -------------------------------------------------------------------------------------------------------


def test_it_takes_effect_with_the_last_signature_and_not_before(drafted: Desk) -> None:
    [first] = drafted.do(sign_agreement, party_id="party-1")
    [second] = drafted.later(hours=1).do(sign_agreement, party_id="party-3")
    assert isinstance(first, AgreementSigned) and isinstance(second, AgreementSigned)
    assert _status(drafted) is CaseStatus.ACCEPTED
    assert drafted.state.obligations == {}
    last, took_effect = drafted.later(hours=1).do(sign_agreement, party_id="party-2")
    assert isinstance(last, AgreementSigned)
    assert isinstance(took_effect, AgreementTookEffect)
    assert _status(drafted) is CaseStatus.AGREEMENT_IN_EFFECT
    agreement = drafted.state.agreement
    assert agreement is not None
    assert agreement.took_effect_at == drafted.now
    assert agreement.signatures == {
        "party-1": drafted.now - 2 * timedelta(hours=1),
        "party-3": drafted.now - timedelta(hours=1),
        "party-2": drafted.now,
    }


def test_taking_effect_tells_the_complaints_desk_everything_it_needs(agreed: Desk) -> None:
    [took_effect] = [event for event in agreed.events if isinstance(event, AgreementTookEffect)]
    assert took_effect.case_id == "case-jinyuan-power"
    assert took_effect.agreement_id == "agreement-1"
    assert took_effect.complaint_ids == ("c-1", "c-2")
    assert took_effect.confirmation_window_ends_at == took_effect.occurred_at + 30 * DAY


def test_complaints_that_joined_later_are_on_the_news(drafted: Desk) -> None:
    drafted.do(
        open_by_referral,
        case_id=drafted.state.case_id,
        complaint_ids=["c-3"],
        compound_id="jinyuan-huating",
        reason="同一问题",
        parties=[],
        escalation_event_id="evt-later",
    )
    for party_id in ("party-1", "party-2", "party-3"):
        events = drafted.do(sign_agreement, party_id=party_id)
    assert isinstance(events[-1], AgreementTookEffect)
    assert events[-1].complaint_ids == ("c-1", "c-2", "c-3")


def test_every_term_becomes_an_obligation(agreed: Desk) -> None:
    obligations = agreed.state.obligations
    assert list(obligations) == ["t-arrears", "t-meters"]
    arrears = obligations["t-arrears"]
    assert (arrears.obligor, arrears.status, arrears.due_at) == ("party-3", ObligationStatus.OPEN, arrears.term.due_at)


def test_a_signature_from_someone_not_named_is_refused(drafted: Desk) -> None:
    # party-4 is a party of the case but not of the agreement; party-9 is nobody.
    for party_id in ("party-4", "party-9"):
        with pytest.raises(NotAParty, match=f"{party_id} is not a party of agreement agreement-1"):
            drafted.do(sign_agreement, party_id=party_id)
    assert drafted.state.agreement is not None
    assert drafted.state.agreement.signatures == {}


def test_a_party_signs_once(drafted: Desk) -> None:
    drafted.do(sign_agreement, party_id="party-1")
    with pytest.raises(AlreadySigned):
        drafted.do(sign_agreement, party_id="party-1")


def test_nothing_to_sign_without_a_draft(accepted: Desk) -> None:
    with pytest.raises(InvalidTransition, match="no agreement is drafted"):
        accepted.do(sign_agreement, party_id="party-1")


def test_signatures_under_a_discarded_draft_do_not_count(drafted: Desk) -> None:
    drafted.do(sign_agreement, party_id="party-1")
    drafted.do(sign_agreement, party_id="party-2")
    drafted.do(discard_agreement, reason="重拟")
    drafted.draft()
    assert drafted.do(sign_agreement, party_id="party-3") == [drafted.events[-1]]
    assert drafted.state.status is CaseStatus.ACCEPTED


def test_an_agreement_in_effect_is_not_amended_discarded_or_signed_again(
    agreed: Desk, terms_from: Callable[..., list[Term]]
) -> None:
    with pytest.raises(InvalidTransition):
        agreed.do(amend_agreement, **_text(agreed, terms_from(agreed.now)), reason="x")
    with pytest.raises(InvalidTransition):
        agreed.do(discard_agreement, reason="x")
    with pytest.raises(InvalidTransition):
        agreed.do(sign_agreement, party_id="party-1")


def test_an_unsigned_draft_lapses_when_mediation_fails(drafted: Desk) -> None:
    drafted.do(sign_agreement, party_id="party-1")
    drafted.do(end_without_agreement, reason="供电公司不同意", routes_advised=[Route.LITIGATION])
    with pytest.raises(InvalidTransition):
        drafted.do(sign_agreement, party_id="party-2")
    assert drafted.state.status is CaseStatus.ENDED_WITHOUT_AGREEMENT


# --- posting and the court -----------------------------------------------------------------------------------------


def test_the_agreement_is_posted_publicly(agreed: Desk, drafted: Desk) -> None:
    agreed.do(post_agreement, place="金园华庭公告栏", until=agreed.now + 7 * DAY)
    agreed.do(post_agreement, place="社区公众号")
    agreement = agreed.state.agreement
    assert agreement is not None
    assert [(p.place, p.until) for p in agreement.postings] == [
        ("金园华庭公告栏", agreed.now + 7 * DAY),
        ("社区公众号", None),
    ]
    with pytest.raises(ValidationFailed, match="until"):
        agreed.do(post_agreement, place="x", until=agreed.now)


def test_a_draft_is_not_posted(drafted: Desk) -> None:
    with pytest.raises(InvalidTransition):
        drafted.do(post_agreement, place="公告栏")


@pytest.mark.parametrize("after", [timedelta(0), 29 * DAY, 30 * DAY])
def test_judicial_confirmation_within_30_days(agreed: Desk, after: timedelta) -> None:
    agreement = agreed.state.agreement
    assert agreement is not None and agreement.took_effect_at is not None
    agreed.now = agreement.took_effect_at + after
    agreed.do(apply_for_judicial_confirmation, court=COURT, reference="(2025)皖1181民特1号")
    confirmation = agreed.state.agreement.judicial_confirmation
    assert confirmation is not None
    assert (confirmation.court, confirmation.party_ids) == (COURT, ("party-1", "party-2", "party-3"))


def test_judicial_confirmation_not_after_30_days(agreed: Desk) -> None:
    agreed.later(days=30, seconds=1)
    with pytest.raises(ConfirmationWindowClosed):
        agreed.do(apply_for_judicial_confirmation, court=COURT)
    assert agreed.state.agreement is not None
    assert agreed.state.agreement.judicial_confirmation is None


def test_judicial_confirmation_needs_an_agreement_in_effect(drafted: Desk) -> None:
    with pytest.raises(InvalidTransition):
        drafted.do(apply_for_judicial_confirmation, court=COURT)


def test_the_court_answers_once_and_may_answer_after_the_case_closed(agreed: Desk) -> None:
    with pytest.raises(InvalidTransition, match="nobody applied"):
        agreed.do(record_judicial_decision, outcome=JudicialOutcome.CONFIRMED)
    agreed.do(apply_for_judicial_confirmation, court=COURT)
    with pytest.raises(InvalidTransition, match="already applied"):
        agreed.do(apply_for_judicial_confirmation, court=COURT)
    for term_id in ("t-arrears", "t-meters"):
        agreed.do(fulfil_obligation, term_id=term_id, evidence="证明")
    agreed.do(close)
    agreed.later(days=20).do(record_judicial_decision, outcome=JudicialOutcome.CONFIRMED, remark="裁定有效")
    confirmation = agreed.state.agreement.judicial_confirmation
    assert confirmation is not None
    assert (confirmation.outcome, confirmation.decided_at) == (JudicialOutcome.CONFIRMED, agreed.now)
    with pytest.raises(InvalidTransition, match="already decided"):
        agreed.do(record_judicial_decision, outcome=JudicialOutcome.REJECTED)


def test_a_rejection_leaves_the_obligations_standing(agreed: Desk, t0: datetime) -> None:
    agreed.do(apply_for_judicial_confirmation, court=COURT)
    agreed.do(record_judicial_decision, outcome=JudicialOutcome.REJECTED)
    assert agreed.state.status is CaseStatus.AGREEMENT_IN_EFFECT
    assert agreed.state.unsettled_term_ids == ("t-arrears", "t-meters")
