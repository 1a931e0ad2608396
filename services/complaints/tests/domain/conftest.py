"""Fixtures for the complaint domain's tests: a catalogue, a start instant, and a desk that runs commands.

Tests run with ``--import-mode=importlib``, so test modules cannot import from here: what they share comes as
fixtures.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from complaints.domain import (
    Catalogue,
    Channel,
    ComplaintEvent,
    ComplaintState,
    Priority,
    apply_all,
    default_catalogue,
    file_complaint,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Tianchang
NAME_ENC = "pd1:Zm9vYmFyYmF6cXV4eHl6c2VhbGVkLW5hbWUtY2lwaGVydGV4dA=="
PHONE_ENC = "pd1:cGhvbmVjaXBoZXJ0ZXh0LXNlYWxlZC1waG9uZS1udW1iZXI="

# A valid answer set for each seeded category.
ANSWERS: dict[str, dict[str, object]] = {
    "hallway_cleaning": {"location": "stairwell", "problem": ["clutter"]},
    "electricity": {"issue": "arrears"},
    "water": {"issue": "no_water"},
    "property_fees": {"issue": "unclear_bill"},
    "repairs": {"what": "lift"},
    "security": {"kind": "access_control"},
    "noise": {"source": "renovation"},
    "greening": {"issue": "overgrown"},
}


def filing(catalogue: Catalogue, **overrides: Any) -> list[ComplaintEvent]:
    """The events of a typical filing, with any argument overridden."""
    category = overrides.get("category_code", "repairs")
    arguments: dict[str, Any] = {
        "complaint_id": "c-1",
        "category_code": category,
        "answers": ANSWERS.get(category, {}),
        "description": "3栋电梯停运两天",
        "channel": Channel.WALK_IN,
        "compound_id": "jinyuan-huating",
        "building": "3栋",
        "unit": "2单元",
        "reporter_ref": "p-1",
        "reporter_name_enc": NAME_ENC,
        "reporter_phone_enc": PHONE_ENC,
        "priority": Priority.NORMAL,
        "at": T0,
    }
    arguments.update(overrides)
    return file_complaint(catalogue, **arguments)


class Desk:
    """One complaint and a clock: runs commands at the current time and folds what they return."""

    def __init__(self, catalogue: Catalogue, **filing_overrides: Any) -> None:
        self.catalogue = catalogue
        self.now = filing_overrides.get("at", T0)
        self.events: list[ComplaintEvent] = filing(catalogue, **filing_overrides)
        state = apply_all(None, self.events)
        assert state is not None
        self.state: ComplaintState = state

    def later(self, **delta: float) -> "Desk":
        self.now += timedelta(**delta)
        return self

    def do(self, command: Callable[..., list[ComplaintEvent]], **arguments: Any) -> list[ComplaintEvent]:
        arguments.setdefault("at", self.now)
        events = command(self.state, **arguments)
        state = apply_all(self.state, events)
        assert state is not None
        self.state = state
        self.events.extend(events)
        return events


@pytest.fixture
def catalogue() -> Catalogue:
    return default_catalogue()


@pytest.fixture
def desk(catalogue: Catalogue) -> Callable[..., Desk]:
    """``desk(**filing_overrides)``: a freshly filed complaint (repairs, normal priority, filed at T0)."""

    def make(**overrides: Any) -> Desk:
        return Desk(catalogue, **overrides)

    return make


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def answers_for() -> Callable[[str], dict[str, object]]:
    """A valid answer set for a seeded category."""
    return lambda code: dict(ANSWERS[code])
