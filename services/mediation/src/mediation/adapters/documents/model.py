"""What a printed document is made of, whatever prints it: sections of paragraphs, tables and label/value rows.

Everything is plain text; a renderer escapes it, turns ``\\n`` into a line break, and chooses the look of each kind.
A resident's name appears only as the builder was given it (opened for those entitled, else withheld).
"""

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Strong:
    """Words the reader must not miss inside a paragraph (the date an agreement took effect)."""

    text: str


@dataclass(frozen=True)
class Blank:
    """A line left empty, to sign on."""


Inline = str | Strong | Blank


class Look(StrEnum):
    BODY = "body"
    CENTERED = "centered"  # the number and status under a title
    NOTICE = "notice"  # boxed: a draft not in effect
    SEAL = "seal"  # right-aligned: where the committee seals and dates


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Inline, ...]
    look: Look = Look.BODY

    @classmethod
    def of(cls, *parts: Inline, look: Look = Look.BODY) -> "Paragraph":
        return cls(parts, look)


@dataclass(frozen=True)
class Cell:
    text: str
    note: str = ""
    """A second, quieter line (e.g. the other service's event that fulfils a term)."""
    blank: bool = False
    """Left empty to sign in."""


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...]
    """Relative column widths (a PDF page is narrow; a browser finds its own)."""
    empty: str = "无"

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.headers) or any(len(row) != len(self.headers) for row in self.rows):
            raise ValueError("every row of a table has a cell per column, and every column a width")


@dataclass(frozen=True)
class Fields:
    """Label → value rows (how a case came in)."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Subheading:
    text: str


@dataclass(frozen=True)
class NumberedList:
    items: tuple[str, ...]


Block = Paragraph | Table | Fields | Subheading | NumberedList


@dataclass(frozen=True)
class Section:
    name: str
    """A stable name for the section (the HTML's class, a test's anchor): ``parties``, ``terms``..."""
    title: str
    blocks: tuple[Block, ...]
    law: bool = False
    """Set in smaller type: the text of the law."""


@dataclass(frozen=True)
class Document:
    title: str
    reference: str
    """What this document is of (the case, the agreement): shown beside the title in page headers and footers."""
    heading: tuple[Paragraph, ...]
    """The lines under the title."""
    sections: tuple[Section, ...]
