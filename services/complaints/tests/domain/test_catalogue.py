"""The category catalogue: the seed, its configuration rules, and finding a category to file in."""

import re
from datetime import timedelta

import pytest
from pydantic import ValidationError

from complaints.domain import (
    HANDLING_TIME,
    Catalogue,
    Category,
    Datatype,
    DeadlineRule,
    Question,
    QuestionValue,
    UnknownCategory,
    default_catalogue,
)

SEEDED = {
    "hallway_cleaning": DeadlineRule.GENERAL,
    "electricity": DeadlineRule.UTILITY,
    "water": DeadlineRule.UTILITY,
    "property_fees": DeadlineRule.COMPLEX,
    "repairs": DeadlineRule.GENERAL,
    "security": DeadlineRule.GENERAL,
    "noise": DeadlineRule.GENERAL,
    "greening": DeadlineRule.GENERAL,
}


def test_the_seed_has_the_desks_categories_with_their_deadline_rules() -> None:
    catalogue = default_catalogue()
    assert {category.code: category.deadline_rule for category in catalogue.categories} == SEEDED


def test_the_rules_are_12345_practice() -> None:
    assert {
        DeadlineRule.EMERGENCY: timedelta(hours=2),
        DeadlineRule.UTILITY: timedelta(hours=24),
        DeadlineRule.GENERAL: timedelta(days=7),
        DeadlineRule.COMPLEX: timedelta(days=15),
    } == HANDLING_TIME


def _is_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


@pytest.mark.parametrize("code", sorted(SEEDED))
def test_every_seeded_category_is_named_in_both_languages_and_asks_at_least_one_required_question(code: str) -> None:
    category = default_catalogue().get(code)
    assert _is_chinese(category.name_zh)
    assert category.name_en.isascii()
    assert any(question.required for question in category.questions)
    for question in category.questions:
        assert _is_chinese(question.description_zh)
        assert question.description_en.isascii()
        for value in question.values:
            assert _is_chinese(value.name_zh)
            assert value.name_en.isascii()


def _question(**overrides: object) -> Question:
    fields: dict[str, object] = {
        "code": "issue",
        "datatype": Datatype.SINGLEVALUELIST,
        "description_zh": "什么问题？",
        "description_en": "What problem?",
        "values": [{"key": "a", "name_zh": "甲", "name_en": "A"}],
    }
    fields.update(overrides)
    return Question.model_validate(fields)


def _category(**overrides: object) -> Category:
    fields: dict[str, object] = {
        "code": "lifts",
        "name_zh": "电梯",
        "name_en": "Lifts",
        "deadline_rule": "general",
        "questions": [],
    }
    fields.update(overrides)
    return Category.model_validate(fields)


def test_a_catalogue_is_configuration_that_loads_from_plain_data() -> None:
    catalogue = Catalogue.model_validate_json(default_catalogue().model_dump_json())
    assert catalogue == default_catalogue()
    custom = Catalogue.model_validate({"categories": [_category(questions=[_question()]).model_dump()]})
    assert custom.get("lifts").questions[0].value_keys == ("a",)


def test_a_list_question_needs_values_and_only_list_questions_have_them() -> None:
    with pytest.raises(ValidationError, match="needs values"):
        _question(values=[])
    with pytest.raises(ValidationError, match="only list questions"):
        _question(datatype=Datatype.STRING)
    _question(datatype=Datatype.STRING, values=[])


def test_value_keys_question_codes_and_category_codes_must_be_unique() -> None:
    value = QuestionValue(key="a", name_zh="甲", name_en="A")
    with pytest.raises(ValidationError, match="value keys must be unique"):
        _question(values=[value, value])
    with pytest.raises(ValidationError, match="question codes must be unique"):
        _category(questions=[_question(), _question()])
    with pytest.raises(ValidationError, match="category codes must be unique"):
        Catalogue(categories=(_category(), _category()))


def test_codes_must_be_subject_tokens() -> None:
    with pytest.raises(ValidationError):
        _category(code="Lifts And Stairs")


def test_an_unknown_category_is_refused() -> None:
    with pytest.raises(UnknownCategory) as refused:
        default_catalogue().for_filing("parking")
    assert refused.value.problems[0].field == "category_code"


def test_a_retired_category_takes_no_new_complaints_but_is_still_found_for_old_ones() -> None:
    catalogue = Catalogue(categories=(_category(active=False), _category(code="stairs")))
    with pytest.raises(UnknownCategory, match="retired"):
        catalogue.for_filing("lifts")
    assert catalogue.get("lifts").code == "lifts"
    assert [category.code for category in catalogue.active()] == ["stairs"]
