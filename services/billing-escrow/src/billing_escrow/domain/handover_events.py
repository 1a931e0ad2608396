"""The direct-supply electricity handover's milestones (一户一表直供电改造), per compound.

The power company supplied the compound through one master meter and billed the property company, which did not
pay. It takes over each household's supply, with its own meter, once the compound's arrears are settled. So: the
owners vote for the retrofit, an escrow account is opened, the power company confirms the master meter's arrears,
the arrears are allocated to households by a published rule, paid from escrow, the meters are installed and each
household switched, the supply facilities are transferred, and the handover completes.

``ArrearsPaid`` is the event the mediation service consumes to fulfil an agreement's term: it carries the
``compound_id`` (to match the term), the amount, the payee and the escrow disbursement, and whether the arrears are
now paid in full.

NATS subject of each: ``jinlin.escrow.handover.<compound_id>.<subject_token>``.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, Strict

from billing_escrow.domain.events import registry
from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.money import NonNegativeFen, PositiveFen
from billing_escrow.domain.parties import Payee
from billing_escrow.domain.texts import OptionalReason, Reference
from billing_escrow.domain.utc import UtcDatetime
from jinlin.events import DomainEvent

Count = Annotated[int, Strict(), Field(ge=0, le=1_000_000)]


class HandoverEvent(DomainEvent):
    compound_id: Identifier
    occurred_at: UtcDatetime


class AllocationRule(StrEnum):
    """What each household's share of the master meter's arrears is proportional to."""

    BY_METER_READING = "by_meter_reading"  # its sub-meter's consumption over the arrears period (kWh)
    BY_FLOOR_AREA = "by_floor_area"  # its floor area (dm²)


class ArrearsShare(BaseModel):
    """One household's part and how it was arrived at (largest remainder):

    ``amount_fen = floor_fen + extra_fen``, where ``floor_fen = total × basis ÷ basis_total`` rounded down,
    ``remainder = total × basis mod basis_total``, and the households with the largest remainders (ties: smaller
    household id) got one ``extra_fen`` each until the parts add up to the total exactly.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    household_id: Identifier
    basis: Annotated[int, Strict(), Field(ge=0)]
    floor_fen: NonNegativeFen
    remainder: Annotated[int, Strict(), Field(ge=0)]
    extra_fen: Annotated[int, Strict(), Field(ge=0, le=1)]
    amount_fen: NonNegativeFen


@registry.register
class HandoverStarted(HandoverEvent):
    """The households the master meter supplies: every one of them is to be switched."""

    subject_token: ClassVar[str] = "started"  # noqa: S105

    household_ids: Annotated[tuple[Identifier, ...], Field(min_length=1)]


@registry.register
class OwnersVoteRecorded(HandoverEvent):
    """The owners' vote on the retrofit, as the owners' committee certified it (``resolution_reference``)."""

    subject_token: ClassVar[str] = "owners_voted"  # noqa: S105

    held_on: date
    eligible: Count
    in_favour: Count
    against: Count
    abstained: Count
    passed: bool
    resolution_reference: Reference


@registry.register
class HandoverEscrowOpened(HandoverEvent):
    """The escrow account the compound's electricity money is collected in."""

    subject_token: ClassVar[str] = "escrow_opened"  # noqa: S105

    account_id: Identifier


@registry.register
class ArrearsConfirmed(HandoverEvent):
    """The power company confirmed the master meter's arrears (a later confirmation before payment supersedes it)."""

    subject_token: ClassVar[str] = "arrears_confirmed"  # noqa: S105

    amount_fen: PositiveFen
    creditor: Payee
    master_meter_number: Reference
    confirmation_reference: Reference
    as_of: date


@registry.register
class ArrearsAllocated(HandoverEvent):
    """The confirmed arrears shared out over every household; the shares add up to ``total_fen`` exactly."""

    subject_token: ClassVar[str] = "arrears_allocated"  # noqa: S105

    rule: AllocationRule
    total_fen: PositiveFen
    basis_total: Annotated[int, Strict(), Field(gt=0)]
    shares: Annotated[tuple[ArrearsShare, ...], Field(min_length=1)]


@registry.register
class ArrearsPaid(HandoverEvent):
    """Arrears were paid from escrow to the power company (consumed by mediation; match on ``compound_id``)."""

    subject_token: ClassVar[str] = "arrears_paid"  # noqa: S105

    account_id: Identifier
    disbursement_id: Identifier
    payee: Payee
    amount_fen: PositiveFen
    paid_on: date
    bank_reference: Reference
    arrears_total_fen: PositiveFen
    paid_to_date_fen: PositiveFen
    fully_paid: bool


@registry.register
class HouseholdMeterInstalled(HandoverEvent):
    subject_token: ClassVar[str] = "meter_installed"  # noqa: S105

    household_id: Identifier
    meter_number: Reference


@registry.register
class HouseholdSupplySwitched(HandoverEvent):
    """The power company now supplies and bills this household directly through its own meter."""

    subject_token: ClassVar[str] = "supply_switched"  # noqa: S105

    household_id: Identifier
    meter_number: Reference


@registry.register
class FacilitiesTransferred(HandoverEvent):
    """The compound's supply facilities (distribution room, cables) were handed over to the power company."""

    subject_token: ClassVar[str] = "facilities_transferred"  # noqa: S105

    transfer_reference: Reference
    note: OptionalReason = ""


@registry.register
class HandoverCompleted(HandoverEvent):
    subject_token: ClassVar[str] = "completed"  # noqa: S105

    households: Annotated[int, Strict(), Field(ge=1)]
    arrears_paid_fen: PositiveFen
