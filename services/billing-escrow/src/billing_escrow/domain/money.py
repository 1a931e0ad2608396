"""Money: integer fen (分) of CNY, everywhere. Never a float, never a Decimal, never a bool.

Pydantic's strict ``int`` refuses ``True`` (a bool is an int in Python, and ``amount=True`` would otherwise record
1 fen) as well as ``1.0`` and ``"1"``. Commands that compute with an amount before they build an event check it
with ``require_amount`` first, for the same reasons.
"""

from typing import Annotated, Final

from pydantic import Field, Strict

from billing_escrow.domain.errors import ValidationFailed

CURRENCY: Final = "CNY"
FEN_PER_YUAN: Final = 100

# One amount may not exceed 100 billion yuan: far above any fee or arrears, and far below 2**53, so that every
# amount and every sum of a statement survives a JavaScript reader of the JSON.
MAX_AMOUNT_FEN: Final = 10**13

Fen = Annotated[int, Strict(), Field(ge=-MAX_AMOUNT_FEN * 1000, le=MAX_AMOUNT_FEN * 1000)]  # a signed sum
PositiveFen = Annotated[int, Strict(), Field(gt=0, le=MAX_AMOUNT_FEN)]
NonNegativeFen = Annotated[int, Strict(), Field(ge=0, le=MAX_AMOUNT_FEN * 1000)]


def is_fen(value: object) -> bool:
    return type(value) is int  # not isinstance: bool is a subclass of int


def require_amount(value: object, field: str = "amount_fen") -> int:
    """A positive amount of fen handed to a command, or ``ValidationFailed``."""
    if not is_fen(value):
        raise ValidationFailed.single(field, "must be an integer number of fen")
    assert isinstance(value, int)
    if value <= 0:
        raise ValidationFailed.single(field, "must be more than zero")
    if value > MAX_AMOUNT_FEN:
        raise ValidationFailed.single(field, f"must not exceed {MAX_AMOUNT_FEN} fen")
    return value


def divide_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, halves up (四舍五入), for non-negative numerators.

    All in integers: a price times a quantity is exact, and only this last step rounds.
    """
    if numerator < 0 or denominator <= 0:
        raise ValueError("divide_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def format_yuan(fen: int) -> str:
    """``12345`` → ``"123.45"``: the decimal text of an amount, for people and for ISO 20022 amounts."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"
