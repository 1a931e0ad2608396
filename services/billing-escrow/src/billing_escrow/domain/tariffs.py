"""Fee schedules and how a bill's amount follows from them, in integers only.

A price is ``fen`` per ``per_units`` units, so that prices finer than a fen are exact: Anhui's residential
electricity at 0.5653 yuan/kWh is ``UnitPrice(fen=5653, per_units=100)``. Floor areas are held in dm² (0.01 m²), as
deeds give them to two decimals: 89.37 m² is ``8937``. A bill's amount is the exact product rounded once, to the
nearest fen, halves up (四舍五入).

Units: property fee, per m² of floor area per month; water, per m³ (吨) read from the meter; electricity, per kWh (度).
Tiered tariffs (阶梯电价) and meter replacements are not modelled: a schedule is one price per unit.
"""

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, Strict

from billing_escrow.domain.money import divide_half_up
from billing_escrow.domain.purposes import Purpose

DM2_PER_M2: Final = 100

FloorAreaDm2 = Annotated[int, Strict(), Field(gt=0, le=10**8)]
MeterReading = Annotated[int, Strict(), Field(ge=0, le=10**12)]


class QuantityUnit(StrEnum):
    SQUARE_DECIMETRE = "dm2"  # floor area, for the property fee
    CUBIC_METRE = "m3"  # water
    KILOWATT_HOUR = "kwh"  # electricity


UNIT_OF: Final = {
    Purpose.PROPERTY_FEE: QuantityUnit.SQUARE_DECIMETRE,
    Purpose.WATER: QuantityUnit.CUBIC_METRE,
    Purpose.ELECTRICITY: QuantityUnit.KILOWATT_HOUR,
}


class UnitPrice(BaseModel):
    """``fen`` per ``per_units`` units (of m² per month for the property fee, m³ for water, kWh for electricity)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fen: Annotated[int, Strict(), Field(ge=0, le=10**9)]
    per_units: Annotated[int, Strict(), Field(ge=1, le=10**6)] = 1


def property_fee_fen(floor_area_dm2: int, price: UnitPrice) -> int:
    """One month's property fee: area (m²) × price per m², to the nearest fen."""
    return divide_half_up(floor_area_dm2 * price.fen, DM2_PER_M2 * price.per_units)


def metered_fen(consumption: int, price: UnitPrice) -> int:
    """Consumption (m³ or kWh) × price, to the nearest fen."""
    return divide_half_up(consumption * price.fen, price.per_units)
