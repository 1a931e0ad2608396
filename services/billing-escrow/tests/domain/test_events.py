"""The events as a contract: registered, subject tokens, JSON round trips, money as integers in the schemas."""

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from billing_escrow.domain import (
    ACCOUNT,
    HANDOVER,
    HOUSEHOLD,
    SERVICE,
    STATEMENT,
    AccountEvent,
    AccountTerms,
    AllocationRule,
    HandoverEvent,
    HistoryError,
    HouseholdEvent,
    Payee,
    Purpose,
    Signer,
    SignerRole,
    StatementEvent,
    StatementKind,
    UnitPrice,
    allocate_arrears,
    apply_account,
    cancel_bill,
    change_terms,
    close_account,
    close_books,
    complete_handover,
    confirm_arrears,
    correct_floor_area,
    expire_disbursement,
    freeze_account,
    issue_bill,
    issue_statement,
    reallocate_funds,
    record_arrears_paid,
    record_escrow_opened,
    record_facilities_transferred,
    record_meter_installed,
    record_meter_reading,
    record_owners_vote,
    record_supply_switched,
    register_household,
    registry,
    reopen_account,
    replay_account,
    replay_handover,
    replay_household,
    replay_statements,
    reverse_movement,
    set_fee_schedule,
    start_handover,
    unfreeze_account,
    void_disbursement,
)
from billing_escrow.domain.handover_state import apply_handover_events
from billing_escrow.domain.household_state import apply_household_events
from jinlin.events import DomainEvent

GRID = Payee(payee_id="state-grid", name="供电公司")


def _account_history(books: Callable[..., Any]) -> list[AccountEvent]:
    b = books()
    b.do(change_terms, terms=AccountTerms.standard(owners_committee=True), reason="协议约定")
    b.pay("h-1", 10_000, movement_id="p1")
    b.do(
        reallocate_funds,
        movement_id="fix",
        from_household_id="h-1",
        to_household_id="h-2",
        amount_fen=100,
        reason="更正",
        booked_on=b.today,
    )
    b.do(reverse_movement, movement_id="rev", reverses="fix", reason="冲正", booked_on=b.today)
    b.request("d-1", 1_000)
    b.sign_all("d-1")
    b.execute("d-1")
    b.request("d-2", 1_000)
    b.do(void_disbursement, disbursement_id="d-2", reason="撤回")
    b.request("d-3", 1_000, expires_at=b.now + timedelta(hours=1))
    b.later(hours=2)
    b.do(expire_disbursement, disbursement_id="d-3")
    b.do(freeze_account, hold_id="h", reason="冻结")
    b.do(unfreeze_account, hold_id="h")
    b.request("d-4", 9_000)
    b.sign_all("d-4")
    b.execute("d-4")
    b.later(days=2)
    b.do(close_books, through=b.today - timedelta(days=1))
    b.do(close_account, reason="移交完成")
    b.do(reopen_account, reopened_by=Signer(role=SignerRole.NOTARY, signer_id="n"), reason="重新启用")
    return b.events


def _household_history(books: Callable[..., Any]) -> list[HouseholdEvent]:
    b = books()
    events = register_household(household_id="h-1", compound_id="c", label="1-101", floor_area_dm2=9000, at=b.now)
    for command, arguments in [
        (correct_floor_area, {"floor_area_dm2": 9100, "reason": "更正"}),
        (set_fee_schedule, {"purpose": Purpose.WATER, "unit_price": UnitPrice(fen=285), "effective_from": "2025-01"}),
        (record_meter_reading, {"purpose": Purpose.WATER, "period": "2025-01", "reading": 10}),
        (record_meter_reading, {"purpose": Purpose.WATER, "period": "2025-02", "reading": 19}),
        (issue_bill, {"bill_id": "w-02", "purpose": Purpose.WATER, "period": "2025-02"}),
        (cancel_bill, {"bill_id": "w-02", "reason": "读数有误"}),
    ]:
        state = apply_household_events(None, events)
        events += command(state, at=b.now, **arguments)
    return events


def _handover_history(books: Callable[..., Any]) -> list[HandoverEvent]:
    b = books()
    events = start_handover(compound_id="c", household_ids=["h-1"], at=b.now)
    for command, arguments in [
        (
            record_owners_vote,
            {
                "held_on": date(2025, 3, 1),
                "eligible": 1,
                "in_favour": 1,
                "against": 0,
                "abstained": 0,
                "passed": True,
                "resolution_reference": "决议",
            },
        ),
        (record_escrow_opened, {"account_id": "acc"}),
        (
            confirm_arrears,
            {
                "amount_fen": 500,
                "creditor": GRID,
                "master_meter_number": "M",
                "confirmation_reference": "C",
                "as_of": date(2025, 2, 28),
            },
        ),
        (allocate_arrears, {"rule": AllocationRule.BY_FLOOR_AREA, "basis": {"h-1": 9000}}),
        (
            record_arrears_paid,
            {
                "account_id": "acc",
                "disbursement_id": "d-1",
                "payee": GRID,
                "amount_fen": 500,
                "paid_on": date(2025, 3, 3),
                "bank_reference": "B",
            },
        ),
        (record_meter_installed, {"household_id": "h-1", "meter_number": "DB-1"}),
        (record_supply_switched, {"household_id": "h-1"}),
        (record_facilities_transferred, {"transfer_reference": "移交书"}),
        (complete_handover, {}),
    ]:
        state = apply_handover_events(None, events)
        events += command(state, at=b.now, **arguments)
    return events


def _statement_history(books: Callable[..., Any]) -> list[StatementEvent]:
    b = books()
    b.pay("h-1", 100)
    b.later(days=1)
    return list(
        issue_statement(
            None,
            b.state,
            statement_id="st-1",
            kind=StatementKind.ON_DEMAND,
            period_start=b.today - timedelta(days=1),
            period_end=b.today,
            at=b.now,
        )
    )


def _every_history(books: Callable[..., Any]) -> list[DomainEvent]:
    return [*_account_history(books), *_household_history(books), *_handover_history(books), *_statement_history(books)]


def _roundtrip(event: DomainEvent) -> DomainEvent:
    return registry.decode(registry.type_of(event), json.loads(event.model_dump_json()))


def test_every_event_type_is_registered_and_occurs(books: Callable[..., Any]) -> None:
    assert {type(e) for e in _every_history(books)} == set(registry.models())
    assert registry.service == SERVICE == "escrow"
    assert (ACCOUNT, HOUSEHOLD, HANDOVER, STATEMENT) == ("account", "household", "handover", "statement")


# The last token of each event's NATS subject: a published contract, so a change here must be deliberate.
SUBJECT_TOKENS = {
    "EscrowAccountRequested": "requested",
    "EscrowAccountOpened": "opened",
    "EscrowAccountActivated": "activated",
    "EscrowAccountTermsChanged": "terms_changed",
    "EscrowAccountFrozen": "frozen",
    "EscrowAccountUnfrozen": "unfrozen",
    "EscrowAccountClosed": "closed",
    "EscrowAccountReopened": "reopened",
    "BooksClosed": "books_closed",
    "PaymentReceived": "payment_received",
    "FundsReallocated": "funds_reallocated",
    "MovementReversed": "movement_reversed",
    "DisbursementRequested": "disbursement_requested",
    "DisbursementSigned": "disbursement_signed",
    "DisbursementExecuted": "disbursement_executed",
    "DisbursementVoided": "disbursement_voided",
    "DisbursementExpired": "disbursement_expired",
    "HouseholdRegistered": "registered",
    "FloorAreaCorrected": "floor_area_corrected",
    "FeeScheduleSet": "fee_schedule_set",
    "MeterReadingRecorded": "meter_read",
    "BillIssued": "bill_issued",
    "BillCancelled": "bill_cancelled",
    "HandoverStarted": "started",
    "OwnersVoteRecorded": "owners_voted",
    "HandoverEscrowOpened": "escrow_opened",
    "ArrearsConfirmed": "arrears_confirmed",
    "ArrearsAllocated": "arrears_allocated",
    "ArrearsPaid": "arrears_paid",
    "HouseholdMeterInstalled": "meter_installed",
    "HouseholdSupplySwitched": "supply_switched",
    "FacilitiesTransferred": "facilities_transferred",
    "HandoverCompleted": "completed",
    "StatementIssued": "issued",
}


def test_the_subject_tokens_are_the_published_ones() -> None:
    assert {model.event_name(): model.token() for model in registry.models()} == SUBJECT_TOKENS
    for model in registry.models():
        assert registry.type_of(model) == f"jinlin.escrow.{model.event_name()}.v1"


@pytest.mark.parametrize(
    ("base", "id_field"),
    [
        (AccountEvent, "account_id"),
        (HouseholdEvent, "household_id"),
        (HandoverEvent, "compound_id"),
        (StatementEvent, "account_id"),
    ],
)
def test_every_event_names_its_aggregate_and_instant(base: type[DomainEvent], id_field: str) -> None:
    models = [m for m in registry.models() if issubclass(m, base)]
    assert models
    for model in models:
        schema = model.model_json_schema()
        assert {id_field, "occurred_at"} <= set(schema["required"])
        assert schema["properties"]["occurred_at"]["format"] == "date-time"


def test_every_amount_in_every_schema_is_an_integer() -> None:
    def amounts(schema: Any, path: str = "") -> list[tuple[str, Any]]:
        found = []
        if isinstance(schema, dict):
            for key, value in schema.items():
                if key.endswith("_fen") and isinstance(value, dict):
                    found.append((f"{path}.{key}", value))
                found += amounts(value, f"{path}.{key}")
        elif isinstance(schema, list):
            for item in schema:
                found += amounts(item, path)
        return found

    for model in registry.models():
        for where, schema in amounts(model.model_json_schema()):
            types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
            assert types - {None, "null"} == {"integer"}, f"{model.event_name()}{where}"


def test_events_survive_the_store_unchanged(books: Callable[..., Any]) -> None:
    for event in _every_history(books):
        assert _roundtrip(event) == event


def test_replaying_decoded_events_gives_the_same_states(books: Callable[..., Any]) -> None:
    account = _account_history(books)
    assert replay_account(_roundtrip(e) for e in account) == replay_account(account)
    household = _household_history(books)
    assert replay_household(_roundtrip(e) for e in household) == replay_household(household)
    handover = _handover_history(books)
    assert replay_handover(_roundtrip(e) for e in handover) == replay_handover(handover)
    statements = _statement_history(books)
    assert replay_statements(_roundtrip(e) for e in statements) == replay_statements(statements)


def test_histories_that_cannot_be_are_refused(books: Callable[..., Any]) -> None:
    events = _account_history(books)
    with pytest.raises(HistoryError, match="starts with EscrowAccountRequested"):
        replay_account(events[1:])
    with pytest.raises(HistoryError, match="already requested"):
        replay_account([events[0], events[0]])
    payment = next(e for e in events if e.event_name() == "PaymentReceived")
    with pytest.raises(HistoryError, match="recorded twice"):
        replay_account([*events, payment])
    stranger = payment.model_copy(update={"account_id": "another"})
    with pytest.raises(HistoryError, match="does not belong"):
        apply_account(replay_account(events), stranger)
    executed = next(e for e in events if e.event_name() == "DisbursementExecuted")
    with pytest.raises(HistoryError, match="already executed"):
        replay_account([*events, executed])
