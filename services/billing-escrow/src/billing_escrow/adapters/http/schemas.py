"""The shapes of the billing-escrow API: what clients send, what they get back. Amounts are integer fen."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict

from billing_escrow.domain import (
    MAX_AMOUNT_FEN,
    AllocationRule,
    BankAccountDetails,
    Condition,
    Payee,
    PaymentChannel,
    Purpose,
    SignerRole,
    Statement,
    StatementKind,
    StatementSignature,
    UnitPrice,
)
from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.periods import Period
from billing_escrow.domain.tariffs import FloorAreaDm2, MeterReading
from billing_escrow.domain.texts import Name, OptionalReason, Reason, Reference

Fen = Annotated[int, Strict(), Field(gt=0, le=MAX_AMOUNT_FEN, description="An amount in fen (分), an integer")]
Count = Annotated[int, Strict(), Field(ge=0, le=1_000_000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- accounts ------------------------------------------------------------------------------------------------------


class RequestAccount(Body):
    account_id: Identifier
    compound_id: Identifier
    purpose: Purpose
    owners_committee_signs: bool = Field(
        default=False, description="Payments out need the owners' committee's co-signature too."
    )


class OpenAccount(Body):
    """What the notary office recorded when it opened the account. The supervising notary defaults to the caller."""

    notary_reference: Reference
    supervising_notary_name: Name
    supervising_notary_id: Identifier | None = None
    bank_account: BankAccountDetails


class PlaceHold(Body):
    hold_id: Identifier
    reason: Reason


class LiftHold(Body):
    reason: OptionalReason = ""


class ChangeTerms(Body):
    owners_committee_signs: bool
    reason: Reason


class CloseAccount(Body):
    reason: Reason


class ReopenAccount(Body):
    reason: Reason


class CloseBooks(Body):
    through: date = Field(description="The last day to close (China time); nothing may be booked on or before it.")


# --- money in and corrections --------------------------------------------------------------------------------------


class ReceivePayment(Body):
    movement_id: Identifier = Field(description="The caller's id of this payment; a retry uses the same id.")
    household_id: Identifier
    amount_fen: Fen
    channel: PaymentChannel
    reference: Reference = Field(description="The bank's or payment provider's reference: one payment, one reference.")
    booked_on: date | None = Field(default=None, description="The bank's booking date; today (China time) if left out.")


class Reallocate(Body):
    movement_id: Identifier
    from_household_id: Identifier
    to_household_id: Identifier
    amount_fen: Fen
    reason: Reason
    booked_on: date | None = None


class Reverse(Body):
    movement_id: Identifier = Field(description="The id of the reversing entry.")
    reverses: Identifier = Field(description="The movement it undoes.")
    reason: Reason
    booked_on: date | None = None


# --- payments out --------------------------------------------------------------------------------------------------


class RequestDisbursement(Body):
    disbursement_id: Identifier
    payee: Payee
    amount_fen: Fen
    condition: Condition = Field(
        description="What the payment satisfies; code power_company_confirms_arrears pays the handover's arrears."
    )
    evidence: Annotated[list[Reference], Field(min_length=1, max_length=100)]
    expires_at: AwareDatetime | None = Field(default=None, description="Unexecuted by then, it expires (14 days).")
    charges: Annotated[dict[Identifier, Fen], Field(min_length=1, max_length=10_000)] | None = Field(
        default=None, description="How much each household's money pays; pro rata to their free money if left out."
    )


class SignDisbursement(Body):
    role: SignerRole = Field(description="The role signed in; the caller must hold it (see the API description).")
    on_behalf_of: Identifier | None = Field(
        default=None, description="For owners_committee: the committee member whose signature is recorded."
    )


class ExecuteDisbursement(Body):
    bank_reference: Reference
    booked_on: date | None = None


class VoidDisbursement(Body):
    reason: Reason


# --- households ----------------------------------------------------------------------------------------------------


class RegisterHousehold(Body):
    household_id: Identifier
    compound_id: Identifier
    label: Name = Field(description='The flat, e.g. "3栋2单元301"; never a resident\'s name.')
    floor_area_dm2: FloorAreaDm2 = Field(description="The deed's floor area in dm² (89.37 m² is 8937).")


class CorrectFloorArea(Body):
    floor_area_dm2: FloorAreaDm2
    reason: Reason


class SetFeeSchedule(Body):
    purpose: Purpose
    unit_price: UnitPrice
    effective_from: Period


class RecordMeterReading(Body):
    purpose: Purpose
    period: Period
    reading: MeterReading
    meter_number: Reference | None = None


class IssueBill(Body):
    bill_id: Identifier
    purpose: Purpose
    period: Period
    due_on: date | None = None


class CancelBill(Body):
    reason: Reason


# --- handovers -----------------------------------------------------------------------------------------------------


class StartHandover(Body):
    compound_id: Identifier
    household_ids: Annotated[list[Identifier], Field(min_length=1, max_length=10_000)] | None = Field(
        default=None, description="The households on the master meter; every registered one if left out."
    )


class RecordOwnersVote(Body):
    held_on: date
    eligible: Count
    in_favour: Count
    against: Count
    abstained: Count
    passed: bool
    resolution_reference: Reference


class RecordEscrow(Body):
    account_id: Identifier


class ConfirmArrears(Body):
    amount_fen: Fen
    creditor: Payee
    master_meter_number: Reference
    confirmation_reference: Reference
    as_of: date


class AllocateArrears(Body):
    rule: AllocationRule
    basis: dict[Identifier, Annotated[int, Strict(), Field(ge=0, le=10**12)]] | None = Field(
        default=None,
        description="kWh or dm² per household. Left out: the registered floor areas, or the electricity used "
        "between the readings of readings_from and readings_to.",
    )
    readings_from: Period | None = None
    readings_to: Period | None = None


class RecordMeterInstalled(Body):
    household_id: Identifier
    meter_number: Reference


class RecordSupplySwitched(Body):
    household_id: Identifier


class RecordFacilitiesTransferred(Body):
    transfer_reference: Reference
    note: OptionalReason = ""


# --- statements ----------------------------------------------------------------------------------------------------


class IssueStatement(Body):
    kind: StatementKind
    period: Period | None = Field(default=None, description="Periodic: the month, YYYY-MM (its books are closed).")
    period_start: date | None = Field(default=None, description="On demand: the first day.")
    period_end: date | None = Field(default=None, description="On demand: the last day.")
    statement_id: Identifier | None = Field(default=None, description="Derived from the request if left out.")


# --- answers -------------------------------------------------------------------------------------------------------


class NotaryFileView(BaseModel):
    notary_reference: str
    supervising_notary_id: str
    supervising_notary_name: str
    bank_account: BankAccountDetails
    opened_at: datetime


class HoldView(BaseModel):
    hold_id: str
    reason: str
    placed_at: datetime


class AccountView(BaseModel):
    account_id: str
    compound_id: str
    purpose: str
    status: str
    required_roles: list[str]
    notary: NotaryFileView | None
    holds: list[HoldView]
    held_fen: int = Field(description="What the bank holds in the escrow account.")
    reserved_fen: int = Field(description="Of it, set aside for pending payments out.")
    available_fen: int = Field(description="What a new payment out may use: held − reserved.")
    pending_disbursements: int
    books_closed_through: date | None
    requested_at: datetime
    closed_at: datetime | None
    version: int
    updated_at: datetime


class MovementAnswer(BaseModel):
    movement_id: str
    recorded: bool = Field(description="False when this payment (or movement) was already recorded: nothing changed.")
    account: AccountView


class SignatureView(BaseModel):
    role: str
    signer_id: str
    signed_at: datetime


class ChargeView(BaseModel):
    household_id: str
    amount_fen: int


class DisbursementView(BaseModel):
    account_id: str
    disbursement_id: str
    compound_id: str
    purpose: str
    status: str
    amount_fen: int
    payee: Payee
    condition: Condition
    evidence: list[str]
    charges: list[ChargeView]
    requested_by: str
    required_roles: list[str]
    missing_roles: list[str]
    signatures: list[SignatureView]
    fully_signed: bool
    expires_at: datetime
    requested_at: datetime
    resolved_at: datetime | None
    executed_on: date | None
    bank_reference: str | None
    void_reason: str | None


class DisbursementAnswer(BaseModel):
    disbursement: DisbursementView
    account: AccountView


class HouseholdLedgerView(BaseModel):
    household_id: str
    paid_in_fen: int
    reallocated_fen: int
    paid_out_fen: int
    free_fen: int
    reserved_fen: int
    balance_fen: int
    reconciled: bool = Field(description="paid in + reallocated − paid out = balance")


class BalancesView(BaseModel):
    account_id: str
    as_of: date | None
    held_fen: int
    reserved_fen: int
    available_fen: int
    difference_fen: int = Field(description="held − Σ households: zero in balanced books")
    households: list[HouseholdLedgerView]


class HouseholdEntryView(BaseModel):
    movement_id: str
    kind: str
    category: str
    booked_on: date
    recorded_at: datetime
    free_change_fen: int
    reserved_change_fen: int
    effect_fen: int
    reference: str | None
    memo: str


class HouseholdLedgerDetail(HouseholdLedgerView):
    account_id: str
    as_of: date | None
    entries: list[HouseholdEntryView]


class JournalEntryView(BaseModel):
    movement_id: str
    kind: str
    booked_on: date
    recorded_at: datetime
    bank_change_fen: int
    counterparty_id: str | None
    counterparty_name: str | None
    reference: str | None
    channel: str | None
    reverses: str | None
    condition_code: str | None
    memo: str


class HouseholdView(BaseModel):
    household_id: str
    compound_id: str
    label: str
    floor_area_dm2: int
    registered_at: datetime
    version: int
    updated_at: datetime


class BillView(BaseModel):
    bill_id: str
    purpose: str
    period: str
    quantity: int
    quantity_unit: str
    unit_price: UnitPrice
    amount_fen: int
    due_on: date
    issued_at: datetime
    live: bool
    cancelled_at: datetime | None
    cancel_reason: str | None


class ScheduleView(BaseModel):
    purpose: str
    unit_price: UnitPrice
    effective_from: str


class ReadingView(BaseModel):
    purpose: str
    period: str
    reading: int


class HouseholdDetail(HouseholdView):
    schedules: list[ScheduleView]
    readings: list[ReadingView]
    bills: list[BillView]


class ArrearsLine(BaseModel):
    bill_id: str
    period: str
    due_on: date
    amount_fen: int
    paid_fen: int
    outstanding_fen: int
    bucket: str


class ArrearsView(BaseModel):
    household_id: str
    purpose: str
    as_of: date
    billed_fen: int
    paid_fen: int
    outstanding_fen: int
    arrears_fen: int = Field(description="Owed on bills already past their due date.")
    credit_fen: int
    buckets: dict[str, int] = Field(description="What is owed by days overdue: not-due, 0-30, 31-90, 91-180, over-180.")
    lines: list[ArrearsLine]


class MilestoneView(BaseModel):
    name: str
    done: bool
    done_at: datetime | None


class ArrearsPaymentView(BaseModel):
    account_id: str
    disbursement_id: str
    amount_fen: int
    paid_on: date
    bank_reference: str


class HandoverHouseholdView(BaseModel):
    household_id: str
    share_fen: int | None
    basis: int | None
    floor_fen: int | None
    remainder: int | None
    extra_fen: int | None
    meter_number: str | None
    meter_installed_at: datetime | None
    switched_at: datetime | None


class HandoverView(BaseModel):
    compound_id: str
    stage: str
    households: int
    meters_installed: int
    supply_switched: int
    meters_installed_percent: int
    supply_switched_percent: int
    escrow_account_id: str | None
    creditor: Payee | None
    arrears_total_fen: int | None
    arrears_paid_fen: int
    arrears_paid_percent: int
    allocation_rule: str | None
    payments: list[ArrearsPaymentView]
    milestones: list[MilestoneView]
    complete: bool
    started_at: datetime
    version: int
    updated_at: datetime


class HandoverDetail(HandoverView):
    household_breakdown: list[HandoverHouseholdView]


class StatementView(BaseModel):
    statement_id: str
    account_id: str
    sequence: int
    kind: str
    provisional: bool
    period_start: date
    period_end: date
    created_at: datetime
    opening_balance_fen: int
    total_credits_fen: int
    total_debits_fen: int
    closing_balance_fen: int
    entries: int
    balanced: bool
    statement_hash: str
    previous_statement_hash: str
    documents: dict[str, str] = Field(description="Where the signed JSON, camt.053 XML and PDF forms are served.")


class StatementDetail(StatementView):
    statement: Statement
    signature: StatementSignature | None = Field(description="The center's Ed25519 signature of the statement.")


def view_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
