"""A household's billing events: registration, fee schedules, meter readings, bills.

Bills live in their own aggregate per household (``household.<household_id>``), apart from the escrow accounts'
ledgers: billing one household never contends with payments into the compound's account, nor with billing its
neighbours. Which bills a household's payments settle is derived (oldest first, see ``arrears``) from these bills
and the payments the escrow account recorded for the household, so no event has to be written in both streams.

NATS subject of each: ``jinlin.escrow.household.<household_id>.<subject_token>``.
"""

from datetime import date
from typing import ClassVar

from billing_escrow.domain.events import registry
from billing_escrow.domain.identifiers import Identifier
from billing_escrow.domain.money import NonNegativeFen
from billing_escrow.domain.periods import Period
from billing_escrow.domain.purposes import Purpose
from billing_escrow.domain.tariffs import FloorAreaDm2, MeterReading, QuantityUnit, UnitPrice
from billing_escrow.domain.texts import Name, Reason, Reference
from billing_escrow.domain.utc import UtcDatetime
from jinlin.events import DomainEvent


class HouseholdEvent(DomainEvent):
    household_id: Identifier
    occurred_at: UtcDatetime


@registry.register
class HouseholdRegistered(HouseholdEvent):
    """A household of a compound, by its label ("3栋2单元301"), never by a resident's name."""

    subject_token: ClassVar[str] = "registered"  # noqa: S105

    compound_id: Identifier
    label: Name
    floor_area_dm2: FloorAreaDm2


@registry.register
class FloorAreaCorrected(HouseholdEvent):
    subject_token: ClassVar[str] = "floor_area_corrected"  # noqa: S105

    floor_area_dm2: FloorAreaDm2
    reason: Reason


@registry.register
class FeeScheduleSet(HouseholdEvent):
    """The price for a purpose from a month on (until a later schedule takes over)."""

    subject_token: ClassVar[str] = "fee_schedule_set"  # noqa: S105

    purpose: Purpose
    unit_price: UnitPrice
    effective_from: Period


@registry.register
class MeterReadingRecorded(HouseholdEvent):
    """The meter's reading at the end of a month. The first one recorded is the baseline the next bill counts from."""

    subject_token: ClassVar[str] = "meter_read"  # noqa: S105

    purpose: Purpose
    period: Period
    reading: MeterReading
    meter_number: Reference | None = None


@registry.register
class BillIssued(HouseholdEvent):
    """A bill for a month: ``amount_fen`` = ``quantity`` × ``unit_price``, rounded to the fen, due on ``due_on``.

    For metered purposes ``quantity`` is ``closing_reading − baseline_reading`` and ``baseline_period`` names the
    month whose reading it counted from; for the property fee it is the floor area in dm².
    """

    subject_token: ClassVar[str] = "bill_issued"  # noqa: S105

    bill_id: Identifier
    purpose: Purpose
    period: Period
    quantity: MeterReading
    quantity_unit: QuantityUnit
    unit_price: UnitPrice
    amount_fen: NonNegativeFen
    due_on: date
    baseline_period: Period | None = None
    baseline_reading: MeterReading | None = None
    closing_reading: MeterReading | None = None


@registry.register
class BillCancelled(HouseholdEvent):
    """A bill issued in error no longer counts; a corrected one may be issued for the same month."""

    subject_token: ClassVar[str] = "bill_cancelled"  # noqa: S105

    bill_id: Identifier
    reason: Reason
