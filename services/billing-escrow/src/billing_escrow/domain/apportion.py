"""Sharing an amount of fen out by weights so that the parts add up to the amount exactly (largest remainder).

Each part is first its exact quota ``total × weight / Σweights`` rounded down; the fen left over (fewer than there are
parts) go one each to the parts whose quotas lost the most in rounding. Ties go to the smaller key, so the result
depends only on the input and anyone can recompute it by hand. Every part is its quota rounded down or up, never
further off, and a zero weight always gets zero.
"""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    """One part and how it was arrived at: ``amount = floor_part + extra``.

    ``remainder`` is what rounding down lost, as a numerator over the sum of the weights: ``total × weight`` modulo
    that sum. The parts with the largest remainders got the ``extra`` fen.
    """

    key: str
    weight: int
    floor_part: int
    remainder: int
    extra: int

    @property
    def amount(self) -> int:
        return self.floor_part + self.extra


def apportion_with_breakdown(total: int, weights: Mapping[str, int]) -> tuple[Share, ...]:
    """The shares of ``total`` by ``weights``, in key order, with how each was arrived at."""
    if type(total) is not int or total < 0:
        raise ValueError("the total must be a non-negative integer")
    if not weights:
        raise ValueError("there must be at least one weight")
    if any(type(w) is not int or w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative integers")
    weight_sum = sum(weights.values())
    if weight_sum == 0:
        raise ValueError("at least one weight must be positive")
    keys = sorted(weights)
    floors = {key: total * weights[key] // weight_sum for key in keys}
    remainders = {key: total * weights[key] % weight_sum for key in keys}
    left_over = total - sum(floors.values())
    # Largest remainder first; among equal remainders, the smaller key first.
    lucky = set(sorted(keys, key=lambda k: (-remainders[k], k))[:left_over])
    return tuple(
        Share(
            key=key,
            weight=weights[key],
            floor_part=floors[key],
            remainder=remainders[key],
            extra=1 if key in lucky else 0,
        )
        for key in keys
    )


def apportion(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """``{key: part}`` with ``sum(parts) == total``; see the module's docstring for the rule."""
    return {share.key: share.amount for share in apportion_with_breakdown(total, weights)}
