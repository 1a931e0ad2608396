"""The category catalogue: what a resident can complain about, what the desk asks, and how long handling may take.

The catalogue is configuration (the application layer may load it from a file with ``Catalogue.model_validate``);
``default_catalogue()`` is the seed. A category is retired with ``active=False`` rather than deleted, because old
complaints keep referring to its code. The filing event records the deadline rule in force at filing, so changing a
category later never changes the history of complaints already filed.
"""

from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from complaints.domain.deadlines import DeadlineRule
from complaints.domain.errors import UnknownCategory
from complaints.domain.identifiers import Identifier
from complaints.domain.questions import AnswerValue, Question, validate_answers


class Category(BaseModel):
    """One kind of complaint (an Open311 "service")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Identifier
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    description_zh: str = ""
    description_en: str = ""
    group: str = ""
    keywords: tuple[str, ...] = ()
    deadline_rule: DeadlineRule
    questions: tuple[Question, ...] = ()
    active: bool = True

    @model_validator(mode="after")
    def _question_codes_unique(self) -> Self:
        codes = [question.code for question in self.questions]
        if len(set(codes)) != len(codes):
            raise ValueError(f"category {self.code}: question codes must be unique")
        return self

    def validate_answers(self, answers: Mapping[str, object]) -> dict[str, AnswerValue]:
        return validate_answers(self.questions, answers)


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: tuple[Category, ...]

    @model_validator(mode="after")
    def _codes_unique(self) -> Self:
        codes = [category.code for category in self.categories]
        if len(set(codes)) != len(codes):
            raise ValueError("category codes must be unique")
        return self

    def get(self, code: str) -> Category:
        """The category with this code, retired or not (old complaints still need their category)."""
        for category in self.categories:
            if category.code == code:
                return category
        raise UnknownCategory.single("category_code", "is not a category of the catalogue")

    def for_filing(self, code: str) -> Category:
        """The category a new complaint may be filed in: it must exist and be active."""
        category = self.get(code)
        if not category.active:
            raise UnknownCategory.single("category_code", "is retired and no longer takes new complaints")
        return category

    def active(self) -> tuple[Category, ...]:
        return tuple(category for category in self.categories if category.active)


def default_catalogue() -> Catalogue:
    """The seeded catalogue. The seed is data, kept in its own module; imported here, not at the top, because it
    builds its categories from the classes above."""
    from complaints.domain.catalogue_seed import SEED_CATEGORIES

    return Catalogue(categories=SEED_CATEGORIES)
