"""Fixtures for the billing-escrow domain's tests: an account harness that runs commands and folds their events.

Tests run with ``--import-mode=importlib``, so test modules cannot import from here: what they share comes as
fixtures.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from billing_escrow.domain import (
    AccountEvent,
    AccountState,
    AccountTerms,
    BankAccountDetails,
    Condition,
    Payee,
    PaymentChannel,
    Purpose,
    Signer,
    SignerRole,
    activate_account,
    apply_account_events,
    business_date,
    execute_disbursement,
    open_account,
    record_payment,
    request_account,
    request_disbursement,
    sign_disbursement,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 3 March 2025, 09:00 in Tianchang
POWER_COMPANY = Payee(payee_id="state-grid-tianchang", name="国网天长市供电公司", bank_name="中国工商银行天长支行")
ARREARS = Condition(code="power_company_confirms_arrears", text="供电公司书面确认小区总表欠费金额")
FINANCE = Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-wang")
NOTARY = Signer(role=SignerRole.NOTARY, signer_id="notary-zhao")
COMMITTEE = Signer(role=SignerRole.OWNERS_COMMITTEE, signer_id="yw-chen")
REQUESTER = "fin-li"


class Books:
    """One escrow account and a clock: runs commands at the current time and folds what they return."""

    def __init__(self, *, owners_committee: bool = False, account_id: str = "jyht-electricity") -> None:
        self.now = T0
        self.events: list[AccountEvent] = request_account(
            account_id=account_id,
            compound_id="jinyuan-huating",
            purpose=Purpose.ELECTRICITY,
            terms=AccountTerms.standard(owners_committee=owners_committee),
            at=self.now,
        )
        self.state = self._fold(self.events)
        self.do(
            open_account,
            notary_reference="(2025)皖滁天证字第0301号",
            supervising_notary_id="notary-zhao",
            supervising_notary_name="赵公证员",
            bank_account=BankAccountDetails(
                bank_name="中国建设银行天长支行",
                account_number="34050172630800001234",
                account_name="金园华庭电费监管账户",
            ),
        )
        self.do(activate_account)
        self._payments = 0

    @staticmethod
    def _fold(events: list[AccountEvent], state: AccountState | None = None) -> AccountState:
        folded = apply_account_events(state, events)
        assert folded is not None
        return folded

    @property
    def today(self) -> date:
        return business_date(self.now)

    def later(self, **delta: float) -> "Books":
        self.now += timedelta(**delta)
        return self

    def do(self, command: Callable[..., list[AccountEvent]], **arguments: Any) -> list[AccountEvent]:
        arguments.setdefault("at", self.now)
        events = command(self.state, **arguments)
        self.state = self._fold(events, self.state)
        self.events.extend(events)
        return events

    def pay(self, household_id: str, amount_fen: int, **overrides: Any) -> list[AccountEvent]:
        self._payments += 1
        arguments: dict[str, Any] = {
            "movement_id": f"pay-{self._payments}",
            "household_id": household_id,
            "amount_fen": amount_fen,
            "channel": PaymentChannel.WECHAT_PAY,
            "reference": f"WX4200000{self._payments:04d}",
            "booked_on": self.today,
        }
        arguments.update(overrides)
        return self.do(record_payment, **arguments)

    def request(self, disbursement_id: str, amount_fen: int, **overrides: Any) -> list[AccountEvent]:
        arguments: dict[str, Any] = {
            "disbursement_id": disbursement_id,
            "payee": POWER_COMPANY,
            "amount_fen": amount_fen,
            "condition": ARREARS,
            "evidence": ["doc-grid-confirmation-2025-03"],
            "expires_at": self.now + timedelta(days=14),
            "requested_by": REQUESTER,
        }
        arguments.update(overrides)
        return self.do(request_disbursement, **arguments)

    def sign_all(self, disbursement_id: str) -> None:
        signers = {FINANCE.role: FINANCE, NOTARY.role: NOTARY, COMMITTEE.role: COMMITTEE}
        for role in self.state.disbursements[disbursement_id].required_roles:
            self.do(sign_disbursement, disbursement_id=disbursement_id, signer=signers[role])

    def execute(self, disbursement_id: str, **overrides: Any) -> list[AccountEvent]:
        arguments: dict[str, Any] = {
            "disbursement_id": disbursement_id,
            "bank_reference": f"CCB-OUT-{disbursement_id}",
            "booked_on": self.today,
        }
        arguments.update(overrides)
        return self.do(execute_disbursement, **arguments)


@pytest.fixture
def books() -> Callable[..., Books]:
    """``books(owners_committee=False)``: an active electricity escrow account of 金园华庭, opened at T0."""
    return lambda **kwargs: Books(**kwargs)


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def power_company() -> Payee:
    return POWER_COMPANY


@pytest.fixture
def arrears_condition() -> Condition:
    return ARREARS


@pytest.fixture
def signers() -> dict[str, Signer]:
    return {
        "finance": FINANCE,
        "notary": NOTARY,
        "committee": COMMITTEE,
        "requester": Signer(role=SignerRole.CENTER_FINANCE, signer_id=REQUESTER),
    }
