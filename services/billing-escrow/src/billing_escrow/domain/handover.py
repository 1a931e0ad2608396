"""The handover's commands. Each milestone may be recorded once its preconditions hold:

=======================  ==========================================================================================
milestone                needs
=======================  ==========================================================================================
owners' vote             the handover started, no escrow yet (a vote that failed may be held again)
escrow opened            a vote that passed
arrears confirmed        no arrears paid yet (a new confirmation replaces the old and needs a new allocation)
arrears allocated        arrears confirmed, none paid yet; a basis for every household of the compound
arrears paid             allocated, escrow opened; from that escrow account, to the confirmed creditor, no more
                         than is outstanding
meter installed          the household is one of the compound's
supply switched          its meter installed and the arrears paid in full
facilities transferred   the arrears paid in full
handover complete        every household switched, the arrears paid in full, the facilities transferred
=======================  ==========================================================================================

Nothing is recorded after completion. Recording a milestone again exactly as before records nothing (a retry).
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from billing_escrow.domain.account_events import DisbursementExecuted
from billing_escrow.domain.apportion import apportion_with_breakdown
from billing_escrow.domain.commanding import build, coerce, in_order
from billing_escrow.domain.errors import IdempotencyConflict, InvalidTransition, NotFound, ValidationFailed
from billing_escrow.domain.handover_events import (
    AllocationRule,
    ArrearsAllocated,
    ArrearsConfirmed,
    ArrearsPaid,
    ArrearsShare,
    FacilitiesTransferred,
    HandoverCompleted,
    HandoverEscrowOpened,
    HandoverEvent,
    HandoverStarted,
    HouseholdMeterInstalled,
    HouseholdSupplySwitched,
    OwnersVoteRecorded,
)
from billing_escrow.domain.handover_state import HandoverState
from billing_escrow.domain.identifiers import require_identifier
from billing_escrow.domain.money import require_amount
from billing_escrow.domain.parties import Payee
from billing_escrow.domain.texts import same_text
from billing_escrow.domain.utc import require_date, require_utc


def _begin(state: HandoverState, at: datetime) -> datetime:
    at = in_order(at, state.updated_at, "handover")
    if state.is_complete:
        raise InvalidTransition("record a milestone", "the handover is complete")
    return at


def _refuse(command: str, reason: str) -> InvalidTransition:
    return InvalidTransition(command, "the handover is under way", reason)


def _event(event_type: type[HandoverEvent], state: HandoverState, at: datetime, **fields: object) -> HandoverEvent:
    return build(event_type, {"compound_id": state.compound_id, "occurred_at": at, **fields})


def start_handover(*, compound_id: str, household_ids: Iterable[str], at: datetime) -> list[HandoverEvent]:
    """Start with the households the master meter supplies (kept sorted; each once)."""
    households = tuple(household_ids) if not isinstance(household_ids, str) else (household_ids,)
    if len(set(households)) != len(households):
        raise ValidationFailed.single("household_ids", "must not repeat a household")
    fields = {"compound_id": compound_id, "occurred_at": require_utc(at), "household_ids": tuple(sorted(households))}
    return [build(HandoverStarted, fields)]


def record_owners_vote(
    state: HandoverState,
    *,
    held_on: date,
    eligible: int,
    in_favour: int,
    against: int,
    abstained: int,
    passed: bool,
    resolution_reference: str,
    at: datetime,
) -> list[HandoverEvent]:
    """Record the certified result. ``passed`` is the committee's finding; it can't contradict the counts."""
    at = _begin(state, at)
    if state.escrow is not None:
        raise _refuse("record the owners' vote", "the escrow account is already open")
    event = _event(
        OwnersVoteRecorded,
        state,
        at,
        held_on=require_date(held_on, "held_on"),
        eligible=eligible,
        in_favour=in_favour,
        against=against,
        abstained=abstained,
        passed=passed,
        resolution_reference=resolution_reference,
    )
    assert isinstance(event, OwnersVoteRecorded)
    if event.in_favour + event.against + event.abstained > event.eligible:
        raise ValidationFailed.single("eligible", "is fewer than the votes cast")
    if event.passed and event.in_favour <= event.against:
        raise ValidationFailed.single("passed", "a vote with no more in favour than against did not pass")
    return [event]


def record_escrow_opened(state: HandoverState, *, account_id: str, at: datetime) -> list[HandoverEvent]:
    at = _begin(state, at)
    if state.escrow is not None:
        if state.escrow.account_id == account_id:
            return []
        raise IdempotencyConflict("handover escrow", state.compound_id, "already names another account")
    if not state.vote_passed:
        raise _refuse("record the escrow account", "the owners have not voted for the retrofit")
    return [_event(HandoverEscrowOpened, state, at, account_id=account_id)]


def confirm_arrears(
    state: HandoverState,
    *,
    amount_fen: int,
    creditor: Payee,
    master_meter_number: str,
    confirmation_reference: str,
    as_of: date,
    at: datetime,
) -> list[HandoverEvent]:
    at = _begin(state, at)
    if state.payments:
        raise _refuse("confirm the arrears", "arrears were already paid against the confirmed amount")
    return [
        _event(
            ArrearsConfirmed,
            state,
            at,
            amount_fen=require_amount(amount_fen),
            creditor=creditor,
            master_meter_number=master_meter_number,
            confirmation_reference=confirmation_reference,
            as_of=require_date(as_of, "as_of"),
        )
    ]


def allocate_arrears(
    state: HandoverState, *, rule: AllocationRule, basis: Mapping[str, int], at: datetime
) -> list[HandoverEvent]:
    """Share the confirmed arrears over every household by ``basis`` (kWh or dm² per household), largest remainder."""
    at = _begin(state, at)
    rule = coerce(AllocationRule, rule, "rule")
    if state.arrears is None:
        raise _refuse("allocate the arrears", "the power company has not confirmed them")
    if state.payments:
        raise _refuse("allocate the arrears", "arrears were already paid on the allocation in force")
    if set(basis) != set(state.household_ids):
        raise ValidationFailed.single("basis", "must give a value for every household of the compound, and no other")
    if any(type(v) is not int or v < 0 for v in basis.values()):
        raise ValidationFailed.single("basis", "values must be non-negative integers")
    if sum(basis.values()) == 0:
        raise ValidationFailed.single("basis", "must not be zero for every household")
    total = state.arrears.amount_fen
    shares = tuple(
        ArrearsShare(
            household_id=s.key,
            basis=s.weight,
            floor_fen=s.floor_part,
            remainder=s.remainder,
            extra_fen=s.extra,
            amount_fen=s.amount,
        )
        for s in apportion_with_breakdown(total, basis)
    )
    return [
        _event(ArrearsAllocated, state, at, rule=rule, total_fen=total, basis_total=sum(basis.values()), shares=shares)
    ]


def record_arrears_paid(
    state: HandoverState,
    *,
    account_id: str,
    disbursement_id: str,
    payee: Payee,
    amount_fen: int,
    paid_on: date,
    bank_reference: str,
    at: datetime,
) -> list[HandoverEvent]:
    """An escrow payment to the power company towards the arrears. Idempotent by ``disbursement_id``."""
    command = "record an arrears payment"
    at = _begin(state, at)
    amount_fen = require_amount(amount_fen)
    disbursement_id = require_identifier(disbursement_id, "disbursement_id")
    earlier = state.payments.get(disbursement_id)
    if earlier is not None:
        if (earlier.account_id, earlier.amount_fen, earlier.payee) == (account_id, amount_fen, payee):
            return []
        raise IdempotencyConflict("arrears payment", disbursement_id)
    if state.arrears is None or state.allocation is None:
        raise _refuse(command, "the arrears are not confirmed and allocated")
    if state.escrow is None or state.escrow.account_id != account_id:
        raise _refuse(command, "it was not paid from the compound's escrow account")
    if payee.payee_id != state.arrears.creditor.payee_id:
        raise _refuse(command, "it was not paid to the creditor who confirmed the arrears")
    outstanding = state.arrears.amount_fen - state.arrears_paid_fen
    if amount_fen > outstanding:
        raise _refuse(command, f"it is more than the {outstanding} fen outstanding")
    paid_to_date = state.arrears_paid_fen + amount_fen
    return [
        _event(
            ArrearsPaid,
            state,
            at,
            account_id=account_id,
            disbursement_id=disbursement_id,
            payee=payee,
            amount_fen=amount_fen,
            paid_on=require_date(paid_on, "paid_on"),
            bank_reference=bank_reference,
            arrears_total_fen=state.arrears.amount_fen,
            paid_to_date_fen=paid_to_date,
            fully_paid=paid_to_date == state.arrears.amount_fen,
        )
    ]


def record_arrears_paid_by(
    state: HandoverState, executed: DisbursementExecuted, *, at: datetime
) -> list[HandoverEvent]:
    """The policy's shortcut: an executed escrow disbursement for this compound's arrears, as an arrears payment."""
    if executed.compound_id != state.compound_id:
        raise ValidationFailed.single("compound_id", "the disbursement is for another compound")
    return record_arrears_paid(
        state,
        account_id=executed.account_id,
        disbursement_id=executed.disbursement_id,
        payee=executed.payee,
        amount_fen=executed.amount_fen,
        paid_on=executed.booked_on,
        bank_reference=executed.bank_reference,
        at=at,
    )


def _household(state: HandoverState, household_id: str) -> str:
    if household_id not in state.household_ids:
        raise NotFound("household of the compound", household_id)
    return household_id


def record_meter_installed(
    state: HandoverState, *, household_id: str, meter_number: str, at: datetime
) -> list[HandoverEvent]:
    at = _begin(state, at)
    household_id = _household(state, household_id)
    earlier = state.meters.get(household_id)
    if earlier is not None:
        if same_text(earlier.meter_number, meter_number):
            return []
        raise IdempotencyConflict("meter of household", household_id, "was already installed with another number")
    return [_event(HouseholdMeterInstalled, state, at, household_id=household_id, meter_number=meter_number)]


def record_supply_switched(state: HandoverState, *, household_id: str, at: datetime) -> list[HandoverEvent]:
    at = _begin(state, at)
    household_id = _household(state, household_id)
    if household_id in state.switched:
        return []
    meter = state.meters.get(household_id)
    if meter is None:
        raise _refuse("switch the supply", "the household's meter is not installed")
    if not state.arrears_fully_paid:
        raise _refuse("switch the supply", "the compound's arrears are not paid in full")
    return [_event(HouseholdSupplySwitched, state, at, household_id=household_id, meter_number=meter.meter_number)]


def record_facilities_transferred(
    state: HandoverState, *, transfer_reference: str, at: datetime, note: str = ""
) -> list[HandoverEvent]:
    at = _begin(state, at)
    if state.facilities is not None:
        if same_text(state.facilities.transfer_reference, transfer_reference):
            return []
        raise IdempotencyConflict("facilities transfer", state.compound_id, "was already recorded otherwise")
    if not state.arrears_fully_paid:
        raise _refuse("transfer the facilities", "the compound's arrears are not paid in full")
    return [_event(FacilitiesTransferred, state, at, transfer_reference=transfer_reference, note=note)]


def complete_handover(state: HandoverState, *, at: datetime) -> list[HandoverEvent]:
    at = _begin(state, at)
    missing = [h for h in state.household_ids if h not in state.switched]
    if missing:
        raise _refuse("complete the handover", f"{len(missing)} household(s) are not switched yet")
    if not state.arrears_fully_paid:
        raise _refuse("complete the handover", "the arrears are not paid in full")
    if state.facilities is None:
        raise _refuse("complete the handover", "the facilities are not transferred")
    return [
        _event(
            HandoverCompleted, state, at, households=len(state.household_ids), arrears_paid_fen=state.arrears_paid_fen
        )
    ]
