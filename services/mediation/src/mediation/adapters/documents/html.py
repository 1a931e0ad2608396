"""A document as a web page in Chinese, with a print stylesheet (A4): what ``GET …/agreement.html`` and
``…/record.html`` answer. Every text is HTML-escaped."""

from html import escape
from typing import Final

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

STYLE: Final = """
@page { size: A4; margin: 20mm 18mm 22mm; }
html { color: #000; background: #fff; }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "SimSun", serif; font-size: 12pt;
       line-height: 1.7; max-width: 174mm; margin: 0 auto; }
h1 { text-align: center; font-size: 20pt; letter-spacing: .25em; margin: 0 0 .2em; }
h2 { font-size: 13pt; margin: 1.2em 0 .4em; border-bottom: 1px solid #000; }
h3 { font-size: 12pt; margin: .8em 0 .3em; }
.number, .status { text-align: center; margin: 0; }
.draft { text-align: center; font-weight: bold; border: 2px solid #000; padding: .3em; }
table { width: 100%; border-collapse: collapse; margin: .3em 0; }
th, td { border: 1px solid #000; padding: 3pt 5pt; vertical-align: top; text-align: left; }
th { background: #f2f2f2; white-space: nowrap; }
.line { display: inline-block; min-width: 45mm; border-bottom: 1px solid #000; }
.law { font-size: 10.5pt; }
.muted { color: #444; }
.seal { margin-top: 2em; text-align: right; }
@media screen { body { padding: 24px; } }
@media print {
  th { background: none; }
  section, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .screen-only { display: none; }
}
"""

CLASSES: Final = {Look.BODY: "", Look.CENTERED: "number", Look.NOTICE: "draft", Look.SEAL: "seal"}
BLANK_LINE: Final = '<span class="line"></span>'


def _text(value: str) -> str:
    return escape(value).replace("\n", "<br>")


def _inline(part: Inline) -> str:
    if isinstance(part, Strong):
        return f"<strong>{_text(part.text)}</strong>"
    if isinstance(part, Blank):
        return BLANK_LINE
    return _text(part)


def _paragraph(paragraph: Paragraph) -> str:
    css = CLASSES[paragraph.look]
    opening = f'<p class="{css}">' if css else "<p>"
    return opening + "".join(_inline(part) for part in paragraph.parts) + "</p>"


def _cell(cell: Cell) -> str:
    if cell.blank:
        return BLANK_LINE
    note = f'<br><span class="muted">{_text(cell.note)}</span>' if cell.note else ""
    return _text(cell.text) + note


def _table(table: Table) -> str:
    head = "".join(f"<th>{_text(header)}</th>" for header in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    if not body:
        body = f'<tr><td colspan="{len(table.headers)}">{_text(table.empty)}</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _block(block: Block) -> str:
    match block:
        case Paragraph():
            return _paragraph(block)
        case Table():
            return _table(block)
        case Fields():
            rows = "".join(f"<tr><th>{_text(label)}</th><td>{_text(value)}</td></tr>" for label, value in block.rows)
            return f"<table>{rows}</table>"
        case Subheading():
            return f"<h3>{_text(block.text)}</h3>"
        case NumberedList():
            return "<ol>" + "".join(f"<li>{_text(item)}</li>" for item in block.items) + "</ol>"


def _section(section: Section) -> str:
    css = f"{section.name} law" if section.law else section.name
    blocks = "".join(_block(block) for block in section.blocks)
    return f'<section class="{css}"><h2>{_text(section.title)}</h2>{blocks}</section>'


def render_html(document: Document) -> str:
    header = f"<header><h1>{_text(document.title)}</h1>" + "".join(map(_paragraph, document.heading)) + "</header>"
    body = "\n".join([header, *map(_section, document.sections)])
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(document.title)} {_text(document.reference)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n"
        '<p class="screen-only muted">打印：浏览器“打印”即可（A4）。</p>\n</body></html>\n'
    )
