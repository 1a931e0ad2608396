"""The escrow account's lifecycle: requested → opened → active ⇄ frozen → closed → reopened by the notary."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from billing_escrow.domain import (
    AccountStatus,
    AccountTerms,
    BankAccountDetails,
    EscrowAccountRequested,
    InvalidTransition,
    Purpose,
    Signer,
    SignerRole,
    ValidationFailed,
    activate_account,
    change_terms,
    close_account,
    close_books,
    freeze_account,
    open_account,
    reopen_account,
    replay_account,
    request_account,
    unfreeze_account,
)
from billing_escrow.domain.errors import IdempotencyConflict

BANK = BankAccountDetails(bank_name="建设银行", account_number="3405001", account_name="监管账户")


def test_an_account_is_requested_then_opened_at_the_notary_then_activated(books: Callable[..., Any]) -> None:
    b = books()
    assert b.state.status is AccountStatus.ACTIVE
    assert b.state.notary is not None
    assert b.state.notary.supervising_notary_id == "notary-zhao"
    assert b.state.notary.bank_account.account_number == "34050172630800001234"
    assert b.state.version == 3
    assert b.state.terms.required_roles == (SignerRole.CENTER_FINANCE, SignerRole.NOTARY)


def test_a_requested_account_takes_no_money_and_can_only_be_opened_or_closed(t0: Any) -> None:
    [requested] = request_account(account_id="a-1", compound_id="c", purpose=Purpose.WATER, at=t0)
    assert isinstance(requested, EscrowAccountRequested)
    state = replay_account([requested])
    assert state.status is AccountStatus.REQUESTED
    with pytest.raises(InvalidTransition, match="account is requested"):
        activate_account(state, at=t0)
    with pytest.raises(InvalidTransition):
        freeze_account(state, hold_id="h", reason="x", at=t0)
    assert close_account(state, reason="不再需要", at=t0)


def test_terms_always_include_the_center_and_the_notary() -> None:
    with pytest.raises(ValidationError, match="must include"):
        AccountTerms(required_roles=(SignerRole.NOTARY,))
    with pytest.raises(ValidationError, match="only once"):
        AccountTerms(required_roles=(SignerRole.NOTARY, SignerRole.NOTARY, SignerRole.CENTER_FINANCE))
    terms = AccountTerms(required_roles=(SignerRole.OWNERS_COMMITTEE, SignerRole.NOTARY, SignerRole.CENTER_FINANCE))
    assert terms == AccountTerms.standard(owners_committee=True)  # kept in one order, so equal terms are equal


def test_a_hold_freezes_and_each_hold_is_lifted_by_its_own_id(books: Callable[..., Any]) -> None:
    b = books()
    b.do(freeze_account, hold_id="court-1", reason="法院冻结")
    b.do(freeze_account, hold_id="notary-1", reason="公证处暂停支付")
    assert b.state.status is AccountStatus.FROZEN
    assert b.do(freeze_account, hold_id="court-1", reason="法院冻结") == []  # a retry
    with pytest.raises(IdempotencyConflict):
        b.do(freeze_account, hold_id="court-1", reason="another reason")
    b.do(unfreeze_account, hold_id="court-1")
    assert b.state.status is AccountStatus.FROZEN  # one hold is still in place
    with pytest.raises(InvalidTransition, match="no such hold"):
        b.do(unfreeze_account, hold_id="court-1")
    b.do(unfreeze_account, hold_id="notary-1", reason="已核实")
    assert b.state.status is AccountStatus.ACTIVE
    with pytest.raises(IdempotencyConflict, match="new hold id"):
        b.do(freeze_account, hold_id="court-1", reason="法院冻结")


def test_an_account_closes_only_at_zero(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-301", 5000)
    with pytest.raises(InvalidTransition, match="still holds money"):
        b.do(close_account, reason="移交完成")
    b.request("d-1", 5000, evidence=["doc-1"])
    with pytest.raises(InvalidTransition, match="still holds money"):
        b.do(close_account, reason="移交完成")
    b.sign_all("d-1")
    b.execute("d-1")
    assert b.state.held == 0
    b.do(close_account, reason="移交完成")
    assert b.state.status is AccountStatus.CLOSED
    with pytest.raises(InvalidTransition, match="account is closed"):
        b.pay("h-301", 100)


def test_a_frozen_account_does_not_close(books: Callable[..., Any]) -> None:
    b = books()
    b.do(freeze_account, hold_id="h1", reason="冻结")
    with pytest.raises(InvalidTransition, match="frozen"):
        b.do(close_account, reason="x")


def test_only_the_notary_reopens_a_closed_account(books: Callable[..., Any]) -> None:
    b = books()
    b.do(close_account, reason="x")
    finance = Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-wang")
    with pytest.raises(InvalidTransition, match="only the notary"):
        b.do(reopen_account, reopened_by=finance, reason="重新启用")
    b.do(reopen_account, reopened_by=Signer(role=SignerRole.NOTARY, signer_id="notary-zhao"), reason="重新启用")
    assert b.state.status is AccountStatus.ACTIVE
    b.pay("h-1", 100)
    assert b.state.held == 100


def test_new_terms_apply_to_requests_made_after_them(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-before", 1000)
    b.do(change_terms, terms=AccountTerms.standard(owners_committee=True), reason="调解协议约定业委会会签")
    b.request("d-after", 1000)
    assert SignerRole.OWNERS_COMMITTEE not in b.state.disbursements["d-before"].required_roles
    assert SignerRole.OWNERS_COMMITTEE in b.state.disbursements["d-after"].required_roles
    with pytest.raises(InvalidTransition, match="the same"):
        b.do(change_terms, terms=AccountTerms.standard(owners_committee=True), reason="again")


def test_books_close_through_a_day_that_is_over_and_only_move_forward(books: Callable[..., Any]) -> None:
    b = books()
    b.later(days=40)
    with pytest.raises(ValidationFailed, match="already over"):
        b.do(close_books, through=b.today)
    b.do(close_books, through=b.today - timedelta(days=5))
    assert b.do(close_books, through=b.today - timedelta(days=5)) == []
    with pytest.raises(ValidationFailed, match="already closed"):
        b.do(close_books, through=b.today - timedelta(days=6))
    assert b.state.books_closed_through == b.today - timedelta(days=5)


def test_commands_refuse_naive_or_out_of_order_instants(books: Callable[..., Any]) -> None:
    b = books()
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        b.do(freeze_account, hold_id="h", reason="r", at=b.now.replace(tzinfo=None))
    with pytest.raises(ValidationFailed, match="before the account's last"):
        b.do(freeze_account, hold_id="h", reason="r", at=b.now - timedelta(seconds=1))


def test_an_account_is_opened_once(books: Callable[..., Any]) -> None:
    b = books()
    with pytest.raises(InvalidTransition, match="account is active"):
        b.do(
            open_account,
            notary_reference="N-2",
            supervising_notary_id="n",
            supervising_notary_name="n",
            bank_account=BANK,
        )
