"""How a term names the event of another service that fulfils it, and how an event is matched against it."""

from typing import Any

import pytest
from pydantic import ValidationError

from mediation.domain import ExternalFulfilment

ARREARS_PAID = "jinlin.escrow.ArrearsPaid.v1"


def _fulfilment(**match: Any) -> ExternalFulfilment:
    return ExternalFulfilment(service="escrow", event_type=ARREARS_PAID, match=match)


def test_every_named_field_must_equal() -> None:
    named = _fulfilment(compound_id="jinyuan-huating", purpose="electricity")
    data = {"compound_id": "jinyuan-huating", "purpose": "electricity", "amount_fen": 100}
    assert named.matches("escrow", ARREARS_PAID, data)
    assert not named.matches("escrow", ARREARS_PAID, {**data, "purpose": "water"})
    assert not named.matches("escrow", ARREARS_PAID, {"compound_id": "jinyuan-huating"})  # purpose missing


def test_service_and_type_must_be_exactly_the_named_ones() -> None:
    named = _fulfilment(compound_id="jinyuan-huating")
    data = {"compound_id": "jinyuan-huating"}
    assert not named.matches("complaints", ARREARS_PAID, data)
    assert not named.matches("escrow", "jinlin.escrow.ArrearsPaid.v2", data)


def test_values_match_with_their_json_type() -> None:
    assert _fulfilment(households=12).matches("escrow", ARREARS_PAID, {"households": 12})
    assert not _fulfilment(households=12).matches("escrow", ARREARS_PAID, {"households": "12"})
    assert not _fulfilment(households=1).matches("escrow", ARREARS_PAID, {"households": True})
    assert not _fulfilment(confirmed=True).matches("escrow", ARREARS_PAID, {"confirmed": 1})
    assert _fulfilment(confirmed=True).matches("escrow", ARREARS_PAID, {"confirmed": True})


def test_a_dotted_key_looks_into_nested_data() -> None:
    named = _fulfilment(**{"condition.kind": "power_company_confirms_amount"})
    assert named.matches("escrow", ARREARS_PAID, {"condition": {"kind": "power_company_confirms_amount"}})
    assert not named.matches("escrow", ARREARS_PAID, {"condition": "power_company_confirms_amount"})
    assert not named.matches("escrow", ARREARS_PAID, {"condition.kind": "power_company_confirms_amount"})


@pytest.mark.parametrize(
    "fields",
    [
        {"service": "escrow", "event_type": ARREARS_PAID, "match": {}},  # would match any compound's payment
        {"service": "billing", "event_type": ARREARS_PAID, "match": {"a": "b"}},  # type of another service
        {"service": "escrow", "event_type": "ArrearsPaid", "match": {"a": "b"}},
        {"service": "escrow", "event_type": "jinlin.escrow.ArrearsPaid", "match": {"a": "b"}},
        {"service": "escrow", "event_type": ARREARS_PAID, "match": {"amount": 1.5}},  # money is never a float
        {"service": "escrow", "event_type": ARREARS_PAID, "match": {"a": {"nested": 1}}},
        {"service": "escrow", "event_type": ARREARS_PAID, "match": {"bad key": 1}},
    ],
)
def test_what_a_term_cannot_name(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ExternalFulfilment.model_validate(fields)


def test_it_survives_json() -> None:
    named = _fulfilment(compound_id="jinyuan-huating", households=12, confirmed=True)
    assert ExternalFulfilment.model_validate_json(named.model_dump_json()) == named
