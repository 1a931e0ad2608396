"""A document as an A4 PDF in Chinese: what ``GET …/agreement.pdf`` and ``…/record.pdf`` answer.

Set in reportlab's built-in CID font ``STSong-Light`` (Adobe's Song for simplified Chinese, as the escrow statements
are: no font file to ship, a reader uses its own Song/SimSun). Every text is a ``Paragraph`` with ``wordWrap='CJK'``,
so Chinese breaks between any two characters and a long id or event type breaks too; table rows may split across
pages (``splitInRow``), so a term of thousands of characters still prints. The output is deterministic (reportlab's
``invariant``): the same case at the same version gives the same bytes.
"""

import io
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER, TA_RIGHT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.platypus import CondPageBreak, SimpleDocTemplate, Spacer, TableStyle  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph as Flowing  # the model has its own Paragraph and Table
from reportlab.platypus import Table as Grid

from mediation.adapters.documents.labels import UNDATED
from mediation.adapters.documents.model import (
    Blank,
    Block,
    Cell,
    Document,
    Fields,
    Inline,
    Look,
    NumberedList,
    Paragraph,
    Section,
    Strong,
    Subheading,
    Table,
)

FONT: Final = "STSong-Light"
AUTHOR: Final = "人民调解委员会"
MARGIN: Final = 18 * mm
TOP, BOTTOM = 18 * mm, 20 * mm
FRAME_PADDING: Final = 6  # what reportlab's page frame keeps free on each side, in points
WIDTH: Final = A4[0] - 2 * MARGIN - 2 * FRAME_PADDING
HEIGHT: Final = A4[1] - TOP - BOTTOM - 2 * FRAME_PADDING
CELL_PADDING: Final = {"left": 3, "right": 3, "top": 2, "bottom": 3}
BLANK_LINE: Final = "＿" * 12
HEADER_FILL: Final = colors.Color(0.93, 0.93, 0.93)

_registered = False


def _register_font() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True


class _Styles:
    def __init__(self) -> None:
        body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK", spaceAfter=1.5 * mm)
        self.body = body
        self.title = ParagraphStyle("title", body, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=2 * mm)
        self.looks = {
            Look.BODY: body,
            Look.CENTERED: ParagraphStyle("centered", body, fontSize=9.5, leading=13, alignment=TA_CENTER),
            Look.NOTICE: ParagraphStyle(
                "notice",
                body,
                alignment=TA_CENTER,
                borderWidth=1,
                borderColor=colors.black,
                borderPadding=2 * mm,
                spaceBefore=2 * mm,
                spaceAfter=3 * mm,
            ),
            Look.SEAL: ParagraphStyle("seal", body, alignment=TA_RIGHT, spaceBefore=6 * mm),
        }
        self.heading = ParagraphStyle("heading", body, fontSize=13, leading=18, spaceBefore=4 * mm, spaceAfter=2 * mm)
        self.subheading = ParagraphStyle("subheading", body, fontSize=11, leading=15, spaceBefore=2 * mm)
        self.law = ParagraphStyle("law", body, fontSize=9.5, leading=14.5)
        self.cell = ParagraphStyle("cell", body, fontSize=9, leading=12.5, spaceAfter=0)
        self.head = ParagraphStyle("head", self.cell, alignment=TA_CENTER)
        self.note = ParagraphStyle("note", self.cell, fontSize=8, leading=11, textColor=colors.Color(0.3, 0.3, 0.3))


# reportlab collapses the ideographic spaces a date to write in is made of: on paper the blanks are lines.
DATE_TO_WRITE_IN: Final = UNDATED.replace("\u3000\u3000", "＿＿")


def _text(value: str) -> str:
    return escape(value.replace(UNDATED, DATE_TO_WRITE_IN)).replace("\n", "<br/>")


def _inline(part: Inline) -> str:
    if isinstance(part, Strong):
        # STSong-Light has no bold face: the words the reader must not miss are underlined instead.
        return f"<u>{_text(part.text)}</u>"
    if isinstance(part, Blank):
        return BLANK_LINE
    return _text(part)


def _height(cell: Any, width: float) -> float:
    flowables = cell if isinstance(cell, list) else [cell]
    inner = width - CELL_PADDING["left"] - CELL_PADDING["right"]
    heights: list[float] = [f.wrap(inner, HEIGHT)[1] for f in flowables if hasattr(f, "wrap")]
    return sum(heights) + CELL_PADDING["top"] + CELL_PADDING["bottom"]


def _too_tall_for_a_page(rows: list[list[Any]], widths: list[float]) -> bool:
    """Whether some row would not fit on a page under the table's repeated header (a term of thousands of
    characters in a narrow column)."""
    limit = 0.8 * HEIGHT
    return any(max(_height(cell, width) for cell, width in zip(row, widths, strict=True)) > limit for row in rows)


def _grid(rows: list[list[Any]], widths: list[float], *, header: bool) -> Any:
    # A row moves to the next page whole, as a reader expects; only a row too tall for any page is split.
    split_in_row = 1 if _too_tall_for_a_page(rows, widths) else 0
    grid = Grid(rows, colWidths=widths, repeatRows=1 if header else 0, splitInRow=split_in_row, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING["left"]),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING["right"]),
        ("TOPPADDING", (0, 0), (-1, -1), CELL_PADDING["top"]),
        ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PADDING["bottom"]),
    ]
    style.append(("BACKGROUND", (0, 0), (-1, 0) if header else (0, -1), HEADER_FILL))
    grid.setStyle(TableStyle(style))
    return grid


class _Renderer:
    def __init__(self) -> None:
        self.st = _Styles()

    def paragraph(self, paragraph: Paragraph, style: ParagraphStyle | None = None) -> Any:
        return Flowing("".join(_inline(part) for part in paragraph.parts), style or self.st.looks[paragraph.look])

    def cell(self, cell: Cell) -> Any:
        if cell.blank:
            return Flowing("<br/><br/>", self.st.cell)  # room to sign
        if not cell.note:
            return Flowing(_text(cell.text), self.st.cell)
        return [Flowing(_text(cell.text), self.st.cell), Flowing(_text(cell.note), self.st.note)]

    def table(self, table: Table) -> Any:
        total = sum(table.widths)
        widths = [WIDTH * share / total for share in table.widths]
        rows: list[list[Any]] = [[Flowing(_text(header), self.st.head) for header in table.headers]]
        rows += [[self.cell(cell) for cell in row] for row in table.rows]
        if not table.rows:
            rows.append([Flowing(_text(table.empty), self.st.cell)] + [""] * (len(table.headers) - 1))
            grid = _grid(rows, widths, header=True)
            grid.setStyle(TableStyle([("SPAN", (0, 1), (-1, 1))]))
            return grid
        return _grid(rows, widths, header=True)

    def fields(self, fields: Fields) -> Any:
        rows = [
            [Flowing(_text(label), self.st.cell), Flowing(_text(value), self.st.cell)] for label, value in fields.rows
        ]
        grid = _grid(rows, [WIDTH * 0.2, WIDTH * 0.8], header=False)
        grid.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), HEADER_FILL)]))
        return grid

    def block(self, block: Block, law: bool) -> list[Any]:
        match block:
            case Paragraph():
                return [self.paragraph(block, self.st.law if law and block.look is Look.BODY else None)]
            case Table():
                return [self.table(block), Spacer(1, 2 * mm)]
            case Fields():
                return [self.fields(block), Spacer(1, 2 * mm)]
            case Subheading():
                return [CondPageBreak(30 * mm), Flowing(_text(block.text), self.st.subheading)]
            case NumberedList():
                return [Flowing(f"{number}. {_text(item)}", self.st.body) for number, item in enumerate(block.items, 1)]

    def section(self, section: Section) -> list[Any]:
        # A heading is never left alone at the foot of a page.
        story: list[Any] = [CondPageBreak(25 * mm), Flowing(_text(section.title), self.st.heading)]
        for block in section.blocks:
            story += self.block(block, section.law)
        return story

    def story(self, document: Document) -> list[Any]:
        story: list[Any] = [Flowing(_text(document.title), self.st.title)]
        story += [self.paragraph(line) for line in document.heading]
        for section in document.sections:
            story += self.section(section)
        return story


def render_pdf(document: Document, *, subject: str = "") -> bytes:
    """The document as PDF bytes; ``subject`` goes into the metadata (what the document is of, by id)."""
    _register_font()
    footer_text = f"{document.title} {document.reference}"

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN, 10 * mm, footer_text[:80])
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=footer_text,
        author=AUTHOR,
        subject=subject,
        creator="jinlin mediation",
        invariant=True,
        lang="zh-CN",
    ).build(_Renderer().story(document), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
