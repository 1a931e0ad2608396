"""Fixtures for the statements' documents: real statements made by the domain from a ledger, signed with a real key.

Tests run with ``--import-mode=importlib``, so what the test modules share comes as fixtures.

``chain`` is three monthly statements of the 金园华庭 electricity account, each signed:

1. March: payments in by WeChat and bank transfer, a duplicate payment reversed, a reallocation between households,
   the arrears paid out to the power company with both co-signatures (and one payment out voided, one pending);
2. April: nothing happened (an empty period: opening = closing, no entries);
3. May: two more payments in.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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
    StatementChainState,
    StatementIssued,
    StatementKind,
    activate_account,
    apply_account_events,
    apply_statement_events,
    business_date,
    close_books,
    execute_disbursement,
    issue_statement,
    open_account,
    reallocate_funds,
    record_payment,
    request_account,
    request_disbursement,
    reverse_movement,
    sign_disbursement,
    void_disbursement,
)
from billing_escrow.statements.render import render_documents, sign_statement_event

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
POWER_COMPANY = Payee(payee_id="state-grid-tianchang", name="国网天长市供电公司", bank_name="中国工商银行天长支行")
ARREARS = Condition(code="power_company_confirms_arrears", text="供电公司书面确认小区总表欠费金额")
SIGNERS = {
    SignerRole.CENTER_FINANCE: Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-wang"),
    SignerRole.NOTARY: Signer(role=SignerRole.NOTARY, signer_id="notary-zhao"),
    SignerRole.OWNERS_COMMITTEE: Signer(role=SignerRole.OWNERS_COMMITTEE, signer_id="yw-chen"),
}


class Books:
    """One escrow account, its statement chain and a clock."""

    def __init__(self, account_id: str = "jyht-electricity", bank_account_number: str = "34050172630800001234") -> None:
        self.now = T0
        self.state: AccountState | None = None
        self.account_events: list[AccountEvent] = []
        self._fold(
            request_account(
                account_id=account_id,
                compound_id="jinyuan-huating",
                purpose=Purpose.ELECTRICITY,
                terms=AccountTerms.standard(owners_committee=False),
                at=self.now,
            )
        )
        self.do(
            open_account,
            notary_reference="(2025)皖滁天证字第0301号",
            supervising_notary_id="notary-zhao",
            supervising_notary_name="赵公证员",
            bank_account=BankAccountDetails(
                bank_name="中国建设银行天长支行",
                account_number=bank_account_number,
                account_name="金园华庭电费监管账户",
            ),
        )
        self.do(activate_account)
        self.chain: StatementChainState | None = None
        self.issued: list[StatementIssued] = []

    def _fold(self, events: list[AccountEvent]) -> None:
        self.state = apply_account_events(self.state, events)
        self.account_events.extend(events)

    @property
    def today(self) -> date:
        return business_date(self.now)

    def on(self, day: date) -> "Books":
        """Move the clock to 10:00 in Tianchang on ``day``."""
        moment = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
        assert moment >= self.now
        self.now = moment
        return self

    def do(self, command: Callable[..., list[AccountEvent]], **arguments: Any) -> list[AccountEvent]:
        self.now += timedelta(minutes=1)
        arguments.setdefault("at", self.now)
        assert self.state is not None
        events = command(self.state, **arguments)
        self._fold(events)
        return events

    def pay(self, movement_id: str, household_id: str, amount_fen: int, reference: str, **kw: Any) -> None:
        kw.setdefault("channel", PaymentChannel.WECHAT_PAY)
        self.do(
            record_payment,
            movement_id=movement_id,
            household_id=household_id,
            amount_fen=amount_fen,
            reference=reference,
            booked_on=self.today,
            **kw,
        )

    def pay_out(self, disbursement_id: str, amount_fen: int) -> None:
        self.do(
            request_disbursement,
            disbursement_id=disbursement_id,
            payee=POWER_COMPANY,
            amount_fen=amount_fen,
            condition=ARREARS,
            evidence=["doc-grid-confirmation-2025-03"],
            expires_at=self.now + timedelta(days=14),
            requested_by="fin-li",
        )
        assert self.state is not None
        for role in self.state.disbursements[disbursement_id].required_roles:
            self.do(sign_disbursement, disbursement_id=disbursement_id, signer=SIGNERS[role])
        self.do(
            execute_disbursement,
            disbursement_id=disbursement_id,
            bank_reference=f"CCB-OUT-{disbursement_id}",
            booked_on=self.today,
        )

    def issue(
        self, statement_id: str, start: date, end: date, kind: StatementKind = StatementKind.PERIODIC
    ) -> StatementIssued:
        """Close the books through ``end`` (periodic), then issue the next statement, unsigned."""
        if kind is StatementKind.PERIODIC:
            if self.today <= end:
                self.on(end + timedelta(days=1))
            self.do(close_books, through=end)
        self.now += timedelta(minutes=1)
        assert self.state is not None
        [event] = issue_statement(
            self.chain,
            self.state,
            statement_id=statement_id,
            kind=kind,
            period_start=start,
            period_end=end,
            at=self.now,
        )
        assert isinstance(event, StatementIssued)
        self.chain = apply_statement_events(self.chain, [event])
        self.issued.append(event)
        return event


def march(b: Books) -> None:
    b.on(date(2025, 3, 3))
    b.pay("p1", "h-101", 50_000, "4200000001202503031234")
    b.pay("p2", "h-102", 30_000, "4200000002202503035678")
    b.on(date(2025, 3, 5))
    b.pay("p3", "h-201", 20_000, "CCB20250305000017", channel=PaymentChannel.BANK_TRANSFER)
    b.pay("p4", "h-201", 999, "CCB20250305000018", channel=PaymentChannel.BANK_TRANSFER)
    b.do(reverse_movement, movement_id="r4", reverses="p4", reason="重复入账", booked_on=b.today)
    b.do(
        reallocate_funds,
        movement_id="fix-1",
        from_household_id="h-102",
        to_household_id="h-101",
        amount_fen=5_000,
        reason="门牌号填错",
        booked_on=b.today,
    )
    b.on(date(2025, 3, 10))
    b.pay_out("d-arrears", 60_000)
    b.do(
        request_disbursement,
        disbursement_id="d-void",
        payee=POWER_COMPANY,
        amount_fen=1_000,
        condition=ARREARS,
        evidence=["doc-x"],
        expires_at=b.now + timedelta(days=14),
        requested_by="fin-li",
    )
    b.do(void_disbursement, disbursement_id="d-void", reason="撤回")


def may(b: Books) -> None:
    b.on(date(2025, 5, 6))
    b.pay("p5", "h-102", 12_345, "4200000005202505061111")
    b.pay("p6", "h-301", 7, "ALI2025050622223333", channel=PaymentChannel.ALIPAY)


@dataclass
class Chain:
    books: Books
    key: Ed25519PrivateKey
    events: list[StatementIssued]  # signed

    def write(self, directory: Path, *, pdf: bool = False) -> list[Path]:
        """Each statement's JSON and XML (and PDF) in ``directory``; returns the JSON paths in chain order."""
        paths = []
        for event in self.events:
            documents = render_documents(event.statement, event.signature)
            base = directory / documents.stem
            directory.mkdir(parents=True, exist_ok=True)
            base.with_suffix(".json").write_bytes(documents.json)
            base.with_suffix(".xml").write_bytes(documents.xml)
            if pdf:
                base.with_suffix(".pdf").write_bytes(documents.pdf)
            paths.append(base.with_suffix(".json"))
        return paths


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def chain(signing_key: Ed25519PrivateKey) -> Chain:
    b = Books()
    march(b)
    b.issue("st-2025-03", date(2025, 3, 3), date(2025, 3, 31))
    b.issue("st-2025-04", date(2025, 4, 1), date(2025, 4, 30))
    may(b)
    b.issue("st-2025-05", date(2025, 5, 1), date(2025, 5, 31))
    return Chain(b, signing_key, [sign_statement_event(e, signing_key) for e in b.issued])


@pytest.fixture
def books() -> Callable[..., Books]:
    return Books


@pytest.fixture
def scenario() -> Callable[[Books, str], None]:
    """``scenario(books, "march" | "may")``: play one month's movements."""
    return lambda b, name: {"march": march, "may": may}[name](b)
