"""Fixtures for the mediation domain's tests: the parties of the Jinyuan Huating story and a desk that runs commands.

Tests run with ``--import-mode=importlib``, so test modules cannot import from here: what they share comes as
fixtures.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mediation.domain import (
    CaseEvent,
    CaseState,
    ExternalFulfilment,
    PartyDetails,
    PartyKind,
    Term,
    accept,
    apply_all,
    draft_agreement,
    open_by_referral,
    sign_agreement,
)

T0 = datetime(2025, 4, 7, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Tianchang
DAY = timedelta(days=1)
NAME_ENC = "enc:v1:k-p-7:bmFtZWNpcGhlcnRleHQ"

# party-1 .. party-4 in a referral made with these, in this order.
PROPERTY_COMPANY = PartyDetails(kind=PartyKind.PROPERTY_COMPANY, organisation="某物业服务有限公司")
POWER_COMPANY = PartyDetails(kind=PartyKind.UTILITY, organisation="国网天长市供电公司")
OWNERS_COMMITTEE = PartyDetails(kind=PartyKind.OWNERS_COMMITTEE, organisation="金园华庭业主委员会")
RESIDENTS_REP = PartyDetails(kind=PartyKind.RESIDENTS_REPRESENTATIVE, person_ref="p-7", person_name_enc=NAME_ENC)
PARTIES = (PROPERTY_COMPANY, POWER_COMPANY, OWNERS_COMMITTEE, RESIDENTS_REP)

ARREARS_PAID = ExternalFulfilment(
    service="escrow", event_type="jinlin.escrow.ArrearsPaid.v1", match={"compound_id": "jinyuan-huating"}
)


def referral(**overrides: Any) -> dict[str, Any]:
    """The arguments of a typical referral from the complaints desk, with any overridden."""
    arguments: dict[str, Any] = {
        "case_id": "case-jinyuan-power",
        "complaint_ids": ["c-1", "c-2"],
        "compound_id": "jinyuan-huating",
        "reason": "物业公司拖欠电费，影响一户一表改造",
        "parties": PARTIES,
        "escalation_event_id": "evt-escalated-1",
        "category_code": "electricity",
        "at": T0,
    }
    arguments.update(overrides)
    return arguments


def terms(now: datetime) -> list[Term]:
    """The Jinyuan Huating agreement: the arrears paid from escrow, then the meters installed."""
    return [
        Term(
            term_id="t-arrears",
            obligor="party-3",
            what="从监管账户向供电公司结清小区欠缴电费",
            due_at=now + 10 * DAY,
            evidence_required="供电公司出具的结清证明",
            fulfilled_by=ARREARS_PAID,
        ),
        Term(
            term_id="t-meters",
            obligor="party-2",
            what="完成一户一表改造，逐户直供电",
            due_at=now + 40 * DAY,
            evidence_required="改造竣工验收单",
        ),
    ]


class Desk:
    """One case and a clock: runs commands at the current time and folds what they return."""

    def __init__(self, **referral_overrides: Any) -> None:
        arguments = referral(**referral_overrides)
        self.now: datetime = arguments["at"]
        self.events: list[CaseEvent] = open_by_referral(None, **arguments)
        state = apply_all(None, self.events)
        assert state is not None
        self.state: CaseState = state

    def later(self, **delta: float) -> "Desk":
        self.now += timedelta(**delta)
        return self

    def do(self, command: Callable[..., list[CaseEvent]], **arguments: Any) -> list[CaseEvent]:
        arguments.setdefault("at", self.now)
        events = command(self.state, **arguments)
        state = apply_all(self.state, events)
        assert state is not None
        self.state = state
        self.events.extend(events)
        return events

    def draft(self, party_ids: tuple[str, ...] = ("party-1", "party-2", "party-3")) -> list[CaseEvent]:
        return self.do(draft_agreement, party_ids=party_ids, facts="事实", issues=["欠费"], terms=terms(self.now))


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def parties() -> tuple[PartyDetails, ...]:
    return PARTIES


@pytest.fixture
def referral_arguments() -> Callable[..., dict[str, Any]]:
    """``referral_arguments(**overrides)``: the keyword arguments of a typical ``open_by_referral``."""
    return referral


@pytest.fixture
def terms_from() -> Callable[[datetime], list[Term]]:
    """The agreement's two terms (arrears by party-3 via escrow, due in 10 days; meters by party-2, 40 days)."""
    return terms


@pytest.fixture
def desk() -> Callable[..., Desk]:
    """``desk(**referral_overrides)``: a freshly referred case with four parties (party-1 .. party-4), at T0."""
    return Desk


@pytest.fixture
def accepted() -> Desk:
    d = Desk()
    d.do(accept)
    return d


@pytest.fixture
def drafted(accepted: Desk) -> Desk:
    """Accepted, and an agreement drafted a day later between party-1, party-2 and party-3."""
    accepted.later(days=1).draft()
    return accepted


@pytest.fixture
def agreed(drafted: Desk) -> Desk:
    """The agreement took effect (everybody signed the same day it was drafted)."""
    for party_id in ("party-1", "party-2", "party-3"):
        drafted.do(sign_agreement, party_id=party_id)
    return drafted
