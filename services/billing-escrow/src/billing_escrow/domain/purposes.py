"""What an escrow account collects for. One account per compound and purpose."""

from enum import StrEnum


class Purpose(StrEnum):
    PROPERTY_FEE = "property_fee"  # 物业费, per m² of floor area per month
    WATER = "water"  # 水费, from the household's water meter
    ELECTRICITY = "electricity"  # 电费, from the household's electricity meter

    @property
    def metered(self) -> bool:
        return self is not Purpose.PROPERTY_FEE
