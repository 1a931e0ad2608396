"""A category's own questions (Open311 "attributes") and the checking of a resident's answers against them.

Answers are stored in events as plain JSON values, normalised so that the same answer is always recorded the same
way (numbers without a spurious ``.0``, datetimes as UTC with "Z", multiple choices in the catalogue's order).
"""

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from complaints.domain.errors import Problem, ValidationFailed
from complaints.domain.identifiers import Identifier
from complaints.domain.utc import iso_utc


class Datatype(StrEnum):
    """The Open311 GeoReport v2 attribute datatypes."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


LIST_DATATYPES: Final = frozenset({Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST})
STRING_MAX: Final = 200
TEXT_MAX: Final = 4000

# What an answer is once validated: the JSON value recorded in the ComplaintFiled event.
AnswerValue = str | int | float | tuple[str, ...]

_DECIMAL: Final = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class QuestionValue(BaseModel):
    """One choice of a list question."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: Identifier
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class Question(BaseModel):
    """One question of a category. ``description_zh`` is the question as the desk asks it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Identifier
    datatype: Datatype
    required: bool = False
    description_zh: str = Field(min_length=1)
    description_en: str = Field(min_length=1)
    datatype_description: str = ""
    values: tuple[QuestionValue, ...] = ()

    @model_validator(mode="after")
    def _values_match_datatype(self) -> Self:
        if self.datatype in LIST_DATATYPES:
            if not self.values:
                raise ValueError(f"question {self.code}: a {self.datatype} needs values")
            keys = [value.key for value in self.values]
            if len(set(keys)) != len(keys):
                raise ValueError(f"question {self.code}: value keys must be unique")
        elif self.values:
            raise ValueError(f"question {self.code}: only list questions have values")
        return self

    @property
    def value_keys(self) -> tuple[str, ...]:
        return tuple(value.key for value in self.values)


def _is_blank(raw: object) -> bool:
    # A form leaves an unanswered optional question as "", [] or nothing at all; all mean "not answered".
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list | tuple) and not raw)


def _number(raw: object) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("must be a number")
    if isinstance(raw, str):
        text = raw.strip()
        if not _DECIMAL.match(text):
            raise ValueError("must be a number")
        raw = float(text) if "." in text else int(text)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError("must be a finite number")
        if raw.is_integer():
            return int(raw)
    return raw


def _datetime(raw: object) -> str:
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError("must be an ISO 8601 date and time") from None
    if not isinstance(raw, datetime):
        raise ValueError("must be an ISO 8601 date and time")
    if raw.tzinfo is None or raw.utcoffset() is None:
        raise ValueError("must include a timezone offset")
    return iso_utc(raw)


def _text(raw: object, limit: int) -> str:
    if not isinstance(raw, str):
        raise ValueError("must be text")
    text = raw.strip()
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return text


def _single(raw: object, question: Question) -> str:
    if not isinstance(raw, str) or raw not in question.value_keys:
        raise ValueError(f"must be one of {', '.join(question.value_keys)}")
    return raw


def _multiple(raw: object, question: Question) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
        raise ValueError("must be a list of choices")
    unknown = [item for item in raw if item not in question.value_keys]
    if unknown:
        raise ValueError(f"each choice must be one of {', '.join(question.value_keys)}")
    if len(set(raw)) != len(raw):
        raise ValueError("must not repeat a choice")
    return tuple(key for key in question.value_keys if key in raw)


def normalise_answer(question: Question, raw: object) -> AnswerValue:
    """The recorded form of one (non-blank) answer, or ``ValueError`` saying what is wrong without quoting it."""
    match question.datatype:
        case Datatype.STRING:
            return _text(raw, STRING_MAX)
        case Datatype.TEXT:
            return _text(raw, TEXT_MAX)
        case Datatype.NUMBER:
            return _number(raw)
        case Datatype.DATETIME:
            return _datetime(raw)
        case Datatype.SINGLEVALUELIST:
            return _single(raw, question)
        case Datatype.MULTIVALUELIST:
            return _multiple(raw, question)


def validate_answers(questions: Sequence[Question], answers: Mapping[str, object]) -> dict[str, AnswerValue]:
    """Check answers against the questions and return them normalised; report every problem at once.

    Unknown question codes are refused (a typo would otherwise lose the answer silently); blank answers to optional
    questions are dropped.
    """
    by_code = {question.code: question for question in questions}
    problems = [
        Problem(f"answers.{code}", "is not a question of this category") for code in answers if code not in by_code
    ]
    clean: dict[str, AnswerValue] = {}
    for question in questions:
        raw = answers.get(question.code)
        if _is_blank(raw):
            if question.required:
                problems.append(Problem(f"answers.{question.code}", "is required"))
            continue
        try:
            clean[question.code] = normalise_answer(question, raw)
        except ValueError as error:
            problems.append(Problem(f"answers.{question.code}", str(error)))
    if problems:
        raise ValidationFailed(problems)
    return clean
