"""Payments out: reserved at request, co-signed under four eyes, executed, voided or expired — each exactly once."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_escrow.domain import (
    ESCROW_BANK,
    DisbursementExecuted,
    DisbursementRequested,
    DisbursementStatus,
    FourEyesViolation,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    Signer,
    SignerRole,
    ValidationFailed,
    disbursements_due_for_expiry,
    expire_disbursement,
    freeze_account,
    pro_rata_charges,
    reserved_account,
    sign_disbursement,
    unfreeze_account,
    void_disbursement,
)


def test_a_request_reserves_its_amount_at_once(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 6000)
    b.pay("h-2", 4000)
    [requested] = b.request("d-1", 5000)
    assert isinstance(requested, DisbursementRequested)
    assert (b.state.held, b.state.reserved, b.state.available) == (10_000, 5000, 5000)
    # Pro rata to what each household has free: 6000 : 4000.
    assert {(c.household_id, c.amount_fen) for c in requested.charges} == {("h-1", 3000), ("h-2", 2000)}
    assert b.state.balances.household_reserved("h-1") == 3000
    assert b.state.disbursements["d-1"].status is DisbursementStatus.PENDING


def test_no_request_for_more_than_is_available(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 5000)
    b.request("d-1", 3000)
    with pytest.raises(InsufficientFunds) as failure:
        b.request("d-2", 2001)
    assert (failure.value.ledger_account, failure.value.needed, failure.value.available) == ("available", 2001, 2000)
    b.request("d-2", 2000)
    assert b.state.available == 0


def test_two_disbursements_racing_for_the_same_money_one_fails_cleanly(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    state_both_saw = b.state
    b.request("d-first", 8000)
    # The second request was decided on the same state; the store's version check makes it retry on the new state,
    # where the money is already reserved.
    assert state_both_saw.available == 10_000
    with pytest.raises(InsufficientFunds):
        b.request("d-second", 8000)
    assert set(b.state.disbursements) == {"d-first"}
    assert b.state.reserved == 8000


def test_explicit_charges_must_add_up_and_be_covered_per_household(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 5000)
    b.pay("h-2", 5000)
    with pytest.raises(ValidationFailed, match="add up"):
        b.request("d-1", 3000, charges={"h-1": 1000, "h-2": 1000})
    with pytest.raises(InsufficientFunds, match="household:h-1"):
        b.request("d-1", 6000, charges={"h-1": 6000})
    with pytest.raises(ValidationFailed, match="charges"):
        b.request("d-1", 1000, charges={"h-1": True})
    [requested] = b.request("d-1", 3000, charges={"h-2": 2500, "h-1": 500})
    assert isinstance(requested, DisbursementRequested)
    assert [(c.household_id, c.amount_fen) for c in requested.charges] == [("h-1", 500), ("h-2", 2500)]


def test_a_retried_request_is_one_request_and_a_changed_one_is_refused(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    expires = b.now + timedelta(days=7)
    b.request("d-1", 4000, expires_at=expires)
    b.pay("h-2", 10_000)  # the pro-rata split would differ now: a retry must not care
    assert b.request("d-1", 4000, expires_at=expires) == []
    with pytest.raises(IdempotencyConflict, match="disbursement d-1"):
        b.request("d-1", 4001, expires_at=expires)
    assert b.state.reserved == 4000


def test_the_requester_does_not_cosign_and_one_person_signs_once(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-1", 1000, requested_by="fin-li")
    with pytest.raises(FourEyesViolation, match="requested"):
        b.do(
            sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-li")
        )
    b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-wang"))
    with pytest.raises(FourEyesViolation, match="one role only"):
        b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.NOTARY, signer_id="fin-wang"))


def test_each_role_signs_once_and_only_the_roles_the_terms_require(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-1", 1000)
    finance = Signer(role=SignerRole.CENTER_FINANCE, signer_id="fin-wang")
    b.do(sign_disbursement, disbursement_id="d-1", signer=finance)
    assert b.do(sign_disbursement, disbursement_id="d-1", signer=finance) == []  # a retry
    with pytest.raises(InvalidTransition, match="already signed as center_finance"):
        b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.CENTER_FINANCE, signer_id="x"))
    with pytest.raises(InvalidTransition, match="do not ask"):
        b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.OWNERS_COMMITTEE, signer_id="y"))
    assert b.state.disbursements["d-1"].missing_roles == (SignerRole.NOTARY,)


def test_execution_waits_for_every_required_signature(books: Callable[..., Any]) -> None:
    b = books(owners_committee=True)
    b.pay("h-1", 10_000)
    b.request("d-1", 7000)
    b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.CENTER_FINANCE, signer_id="f"))
    b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.NOTARY, signer_id="n"))
    with pytest.raises(InvalidTransition, match="still needs the signature of owners_committee"):
        b.execute("d-1")
    b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.OWNERS_COMMITTEE, signer_id="o"))
    [executed] = b.execute("d-1", bank_reference="CCB-OUT-1")
    assert isinstance(executed, DisbursementExecuted)
    assert [s.role for s in executed.co_signatures] == list(SignerRole)
    assert executed.compound_id == "jinyuan-huating"
    assert executed.condition.code == "power_company_confirms_arrears"
    assert executed.payee.payee_id == "state-grid-tianchang"
    assert {(leg.account, leg.amount_fen) for leg in executed.legs} == {
        (reserved_account("h-1"), 7000),
        (ESCROW_BANK, 7000),
    }
    assert (b.state.held, b.state.reserved, b.state.available) == (3000, 0, 3000)
    assert b.execute("d-1", bank_reference="CCB-OUT-1") == []  # a retry
    with pytest.raises(IdempotencyConflict, match="already executed"):
        b.execute("d-1", bank_reference="CCB-OUT-2")


def test_a_voided_request_releases_its_reservation_once(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-1", 4000)
    b.do(void_disbursement, disbursement_id="d-1", reason="证据不足")
    assert (b.state.held, b.state.reserved, b.state.available) == (10_000, 0, 10_000)
    assert b.do(void_disbursement, disbursement_id="d-1", reason="证据不足") == []
    with pytest.raises(InvalidTransition, match="disbursement is voided"):
        b.execute("d-1")
    with pytest.raises(InvalidTransition, match="voided"):
        b.do(expire_disbursement, disbursement_id="d-1", at=b.now + timedelta(days=30))


def test_an_expired_request_is_released_by_the_watcher_and_cannot_be_executed(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-1", 4000, expires_at=b.now + timedelta(days=2))
    b.sign_all("d-1")
    with pytest.raises(InvalidTransition, match="not expired yet"):
        b.do(expire_disbursement, disbursement_id="d-1")
    b.later(days=2)
    assert disbursements_due_for_expiry(b.state, b.now) == ("d-1",)
    with pytest.raises(InvalidTransition, match="expired"):
        b.execute("d-1")
    b.do(expire_disbursement, disbursement_id="d-1")
    assert b.state.disbursements["d-1"].status is DisbursementStatus.EXPIRED
    assert b.state.reserved == 0
    assert b.do(expire_disbursement, disbursement_id="d-1") == []
    assert disbursements_due_for_expiry(b.state, b.now) == ()
    with pytest.raises(InvalidTransition, match="disbursement is expired"):
        b.do(void_disbursement, disbursement_id="d-1", reason="x")


def test_a_frozen_account_takes_no_request_and_executes_nothing(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-1", 4000)
    b.sign_all("d-1")
    b.do(freeze_account, hold_id="court-1", reason="法院冻结")
    with pytest.raises(InvalidTransition, match="account is frozen"):
        b.request("d-2", 1000)
    with pytest.raises(InvalidTransition, match="account is frozen"):
        b.execute("d-1")
    b.do(unfreeze_account, hold_id="court-1")
    b.execute("d-1")
    assert b.state.held == 6000


def test_signing_and_voiding_go_on_while_frozen(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    b.request("d-1", 4000)
    b.do(freeze_account, hold_id="court-1", reason="法院冻结")
    b.do(sign_disbursement, disbursement_id="d-1", signer=Signer(role=SignerRole.NOTARY, signer_id="n"))
    b.do(void_disbursement, disbursement_id="d-1", reason="冻结期间撤回")
    assert b.state.reserved == 0


def test_requests_are_checked_before_anything_is_reserved(books: Callable[..., Any]) -> None:
    b = books()
    b.pay("h-1", 10_000)
    with pytest.raises(ValidationFailed, match="expires_at"):
        b.request("d-1", 1000, expires_at=b.now)
    with pytest.raises(ValidationFailed, match="evidence"):
        b.request("d-1", 1000, evidence=[])
    with pytest.raises(ValidationFailed, match="amount_fen"):
        b.request("d-1", 10.0)
    with pytest.raises(NotFound):
        b.do(sign_disbursement, disbursement_id="nope", signer=Signer(role=SignerRole.NOTARY, signer_id="n"))
    assert b.state.reserved == 0


def test_the_payment_out_is_booked_no_earlier_than_its_request(books: Callable[..., Any]) -> None:
    b = books()
    b.later(days=2)
    b.pay("h-1", 10_000)
    b.request("d-1", 1000)
    b.sign_all("d-1")
    with pytest.raises(ValidationFailed, match="before the disbursement was requested"):
        b.execute("d-1", booked_on=b.today - timedelta(days=1))


@given(
    free=st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 10**7), min_size=1).filter(
        lambda free: sum(free.values()) > 0
    ),
    data=st.data(),
)
def test_pro_rata_charges_never_exceed_what_a_household_has(free: dict[str, int], data: st.DataObject) -> None:
    amount = data.draw(st.integers(1, sum(free.values())))
    charges = pro_rata_charges(free, amount)
    assert sum(charges.values()) == amount
    assert all(0 < charges[h] <= free[h] for h in charges)


def test_pro_rata_refuses_more_than_there_is() -> None:
    with pytest.raises(InsufficientFunds):
        pro_rata_charges({"a": 10, "b": 0}, 11)
