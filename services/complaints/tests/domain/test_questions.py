"""Answers checked against a category's typed questions, and normalised to one recorded form."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from complaints.domain import Datatype, Question, ValidationFailed, validate_answers


def _q(code: str, datatype: Datatype, required: bool = False, keys: tuple[str, ...] = ()) -> Question:
    values = [{"key": key, "name_zh": key, "name_en": key} for key in keys]
    return Question.model_validate(
        {
            "code": code,
            "datatype": datatype,
            "required": required,
            "description_zh": code,
            "description_en": code,
            "values": values,
        }
    )


QUESTIONS = (
    _q("where", Datatype.STRING),
    _q("story", Datatype.TEXT),
    _q("households", Datatype.NUMBER),
    _q("since", Datatype.DATETIME),
    _q("issue", Datatype.SINGLEVALUELIST, required=True, keys=("leak", "no_water")),
    _q("times", Datatype.MULTIVALUELIST, keys=("morning", "evening", "night")),
)


def _problems(answers: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        validate_answers(QUESTIONS, answers)
    return {problem.field: problem.message for problem in failed.value.problems}


def test_valid_answers_come_back_normalised() -> None:
    since = datetime(2025, 3, 1, 20, 30, tzinfo=timezone(timedelta(hours=8)))
    clean = validate_answers(
        QUESTIONS,
        {
            "where": "  3栋楼道 ",
            "story": "每天晚上都有",
            "households": "12",
            "since": since,
            "issue": "leak",
            "times": ["night", "morning"],
        },
    )
    assert clean == {
        "where": "3栋楼道",
        "story": "每天晚上都有",
        "households": 12,
        "since": "2025-03-01T12:30:00Z",
        "issue": "leak",
        "times": ("morning", "night"),  # in the catalogue's order, whatever order they were ticked in
    }


@pytest.mark.parametrize(
    ("raw", "recorded"),
    [(3, 3), (3.0, 3), ("3.0", 3), (2.5, 2.5), ("-1.25", -1.25)],
)
def test_numbers_are_recorded_without_spurious_decimals(raw: object, recorded: object) -> None:
    clean = validate_answers(QUESTIONS, {"issue": "leak", "households": raw})
    assert clean["households"] == recorded
    assert type(clean["households"]) is type(recorded)


@pytest.mark.parametrize("raw", [True, "twelve", float("nan"), float("inf"), "1e3", [1]])
def test_a_number_question_refuses_what_is_not_a_finite_number(raw: object) -> None:
    assert "households" in " ".join(_problems({"issue": "leak", "households": raw}))


def test_datetimes_accept_iso_text_with_an_offset_and_refuse_naive_ones() -> None:
    clean = validate_answers(QUESTIONS, {"issue": "leak", "since": "2025-03-01T08:00:00+08:00"})
    assert clean["since"] == "2025-03-01T00:00:00Z"
    assert _problems({"issue": "leak", "since": datetime(2025, 3, 1, 8)}) == {
        "answers.since": "must include a timezone offset"
    }
    assert _problems({"issue": "leak", "since": "yesterday"}) == {"answers.since": "must be an ISO 8601 date and time"}


def test_list_answers_must_be_among_the_values() -> None:
    problems = _problems({"issue": "fire", "times": ["noon"]})
    assert set(problems) == {"answers.issue", "answers.times"}
    assert "leak, no_water" in problems["answers.issue"]


def test_a_multiple_choice_refuses_repeats_and_single_strings() -> None:
    assert "repeat" in _problems({"issue": "leak", "times": ["night", "night"]})["answers.times"]
    assert "list" in _problems({"issue": "leak", "times": "night"})["answers.times"]


def test_string_and_text_have_length_limits() -> None:
    assert "200" in _problems({"issue": "leak", "where": "x" * 201})["answers.where"]
    assert validate_answers(QUESTIONS, {"issue": "leak", "story": "x" * 4000})["story"] == "x" * 4000
    assert "4000" in _problems({"issue": "leak", "story": "x" * 4001})["answers.story"]


def test_required_questions_must_be_answered_and_blank_optional_answers_are_dropped() -> None:
    assert _problems({"issue": "  "}) == {"answers.issue": "is required"}
    assert validate_answers(QUESTIONS, {"issue": "leak", "where": "", "times": [], "since": None}) == {"issue": "leak"}


def test_an_answer_to_a_question_the_category_does_not_ask_is_refused_not_lost() -> None:
    assert _problems({"issue": "leak", "colour": "red"}) == {"answers.colour": "is not a question of this category"}


def test_every_problem_is_reported_at_once() -> None:
    assert set(_problems({"households": "many", "since": "soon", "extra": 1})) == {
        "answers.households",
        "answers.since",
        "answers.extra",
        "answers.issue",
    }


def test_messages_never_repeat_what_was_answered() -> None:
    secret = "13800138000 张三"
    problems = _problems({"issue": secret, "households": secret, "since": secret, "times": [secret]})
    assert all("13800138000" not in message and "张三" not in message for message in problems.values())


def test_aware_datetime_objects_in_utc_are_kept_as_they_are() -> None:
    at = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    assert validate_answers(QUESTIONS, {"issue": "leak", "since": at})["since"] == "2025-03-01T00:00:00Z"
