"""The statement as an A4 PDF a person reads, in Chinese (资金监管账户对账单).

Set in reportlab's built-in CID font ``STSong-Light`` (Adobe's Song for simplified Chinese: no font file to ship; a
reader uses its own Song/SimSun for it) and Courier for hashes. The PDF is deterministic (reportlab's ``invariant``):
the same statement and signature give the same bytes. Its metadata carries the statement hash (``Subject``), so a
tool can tell which statement a PDF shows without reading its text.
"""

import io
from collections.abc import Sequence
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER, TA_RIGHT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from billing_escrow.domain.ledger import MovementKind
from billing_escrow.domain.statement import EntryDirection, Statement, StatementEntry, StatementKind
from billing_escrow.domain.statement_events import StatementSignature

FONT: Final = "STSong-Light"
MONO: Final = "Courier"
TITLE: Final = "资金监管账户对账单"
AUTHOR: Final = "天长市红色物业综合服务中心"

PURPOSES: Final = {"property_fee": "物业费", "water": "水费", "electricity": "电费"}
KINDS: Final = {
    MovementKind.PAYMENT_IN: "收款",
    MovementKind.REVERSAL: "冲正",
    MovementKind.PAYMENT_OUT: "付款",
    MovementKind.REALLOCATION: "户间调账",
    MovementKind.RESERVATION: "预留",
    MovementKind.RELEASE: "释放预留",
}
CHANNELS: Final = {
    "bank_transfer": "银行转账",
    "wechat_pay": "微信支付",
    "alipay": "支付宝",
    "unionpay_pos": "银联POS",
    "cash_at_desk": "柜台现金",
}
ROLES: Final = {"center_finance": "中心财务", "notary": "公证员", "owners_committee": "业主委员会"}

_registered = False


def _register_font() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True


def money(fen: int) -> str:
    """``-1234567`` → ``"-12,345.67"``: yuan with thousands separators, from integer fen."""
    sign, fen = ("-" if fen < 0 else ""), abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


class _Styles:
    def __init__(self) -> None:
        base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=11, wordWrap="CJK")
        self.body = base
        self.title = ParagraphStyle("title", base, fontSize=16, leading=22, alignment=TA_CENTER, spaceAfter=2 * mm)
        self.subtitle = ParagraphStyle("subtitle", base, fontSize=9, alignment=TA_CENTER, spaceAfter=4 * mm)
        self.heading = ParagraphStyle("heading", base, fontSize=11, leading=15, spaceBefore=4 * mm, spaceAfter=2 * mm)
        self.cell = ParagraphStyle("cell", base, fontSize=7.5, leading=9.5)
        self.number = ParagraphStyle("number", self.cell, alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", self.cell, alignment=TA_CENTER)
        self.mono = ParagraphStyle("mono", base, fontName=MONO, fontSize=7.5, leading=9.5, wordWrap="CJK")


def _p(text: str, style: ParagraphStyle) -> Any:
    return Paragraph(escape(text), style)


def _grid(rows: list[list[Any]], widths: Sequence[float], *, header: bool = True, total_row: bool = False) -> Any:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)))
    if total_row:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.Color(0.95, 0.95, 0.95)))
    table.setStyle(TableStyle(style))
    return table


def _description(entry: StatementEntry) -> str:
    kind = KINDS.get(entry.kind, entry.kind.value)
    parts = [kind]
    if entry.counterparty_name and entry.counterparty_id:
        parts.append(f"{entry.counterparty_name}（{entry.counterparty_id}）")
    elif entry.counterparty_id or entry.counterparty_name:
        parts.append(str(entry.counterparty_name or entry.counterparty_id))
    if entry.channel is not None:
        parts.append(CHANNELS.get(entry.channel.value, entry.channel.value))
    text = "，".join(parts)
    if entry.reverses is not None:
        text += f"\n冲正原款项 {entry.reverses}"
    if entry.condition is not None:
        text += f"\n条件：{entry.condition.text}（{entry.condition.code}）"
    if entry.co_signatures:
        signers = "、".join(
            f"{ROLES.get(s.role.value, s.role.value)} {s.signer_id} {s.signed_at.date().isoformat()}"
            for s in entry.co_signatures
        )
        text += f"\n会签：{signers}"
    if entry.evidence:
        text += f"\n凭证：{'、'.join(entry.evidence)}"
    if entry.memo:
        text += f"\n备注：{entry.memo}"
    return text


def _multiline(text: str, style: ParagraphStyle) -> Any:
    return Paragraph("<br/>".join(escape(line) for line in text.split("\n")), style)


def _entries_table(statement: Statement, st: _Styles) -> Any:
    head = ["序号", "记账日期", "摘要 / 对方", "参考号", "收入", "支出", "余额"]
    rows: list[list[Any]] = [[_p(h, st.head) for h in head]]
    rows.append(
        ["", _p(statement.period_start.isoformat(), st.cell), _p("期初余额", st.cell), "", "", "",
         _p(money(statement.opening_balance_fen), st.number)]
    )  # fmt: skip
    for entry in statement.entries:
        credit = entry.direction is EntryDirection.CREDIT
        rows.append(
            [
                _p(str(entry.entry_number), st.number),
                _p(entry.booked_on.isoformat(), st.cell),
                _multiline(_description(entry), st.cell),
                _multiline(f"{entry.reference or '无'}\n{entry.movement_id}", st.cell),
                _p(money(entry.amount_fen), st.number) if credit else "",
                "" if credit else _p(money(entry.amount_fen), st.number),
                _p(money(entry.balance_after_fen), st.number),
            ]
        )
    rows.append(
        ["", _p(statement.period_end.isoformat(), st.cell),
         _p(f"本期合计：收入 {statement.credit_count} 笔，支出 {statement.debit_count} 笔；期末余额", st.cell), "",
         _p(money(statement.total_credits_fen), st.number), _p(money(statement.total_debits_fen), st.number),
         _p(money(statement.closing_balance_fen), st.number)]
    )  # fmt: skip
    return _grid(rows, [9 * mm, 17 * mm, 62 * mm, 33 * mm, 20 * mm, 20 * mm, 19 * mm], total_row=True)


def _households_table(statement: Statement, st: _Styles) -> Any:
    head = ["户号", "期初", "本期收入", "本期支出", "应有期末", "账面期末", "差额", "核对"]
    rows: list[list[Any]] = [[_p(h, st.head) for h in head]]
    for line in statement.households:
        rows.append(
            [
                _p(line.household_id, st.cell),
                _p(money(line.opening_fen), st.number),
                _p(money(line.credits_fen), st.number),
                _p(money(line.debits_fen), st.number),
                _p(money(line.expected_closing_fen), st.number),
                _p(money(line.closing_fen), st.number),
                _p(money(line.difference_fen), st.number),
                _p("相符" if line.matches else "不符", st.head),
            ]
        )
    r = statement.reconciliation
    rows.append(
        [_p("合计", st.cell), "", "", "", "", _p(money(r.households_closing_fen), st.number), "",
         _p("平衡" if r.balanced else "不平衡", st.head)]
    )  # fmt: skip
    return _grid(rows, [45 * mm, 20 * mm, 20 * mm, 20 * mm, 20 * mm, 20 * mm, 18 * mm, 17 * mm], total_row=True)


def _transfers_table(statement: Statement, st: _Styles) -> Any:
    rows: list[list[Any]] = [[_p(h, st.head) for h in ["记账日期", "类型", "款项", "各户变动", "说明"]]]
    for t in statement.transfers:
        effects = "\n".join(
            f"{h.household_id} {'+' if h.amount_fen >= 0 else ''}{money(h.amount_fen)}" for h in t.household_effects
        )
        memo = t.memo + (f"（冲正 {t.reverses}）" if t.reverses else "")
        rows.append(
            [
                _p(t.booked_on.isoformat(), st.cell),
                _p(KINDS.get(t.kind, t.kind.value), st.cell),
                _p(t.movement_id, st.cell),
                _multiline(effects, st.cell),
                _p(memo or "无", st.cell),
            ]
        )
    return _grid(rows, [20 * mm, 20 * mm, 35 * mm, 50 * mm, 55 * mm])


def _info_table(
    rows: list[tuple[str, str]], st: _Styles, widths: Sequence[float], value_style: ParagraphStyle | None = None
) -> Any:
    table = Table([[_p(k, st.body), _p(v, value_style or st.body)] for k, v in rows], colWidths=list(widths))
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def statement_pdf(statement: Statement, statement_hash: str, signature: StatementSignature | None) -> bytes:
    """The statement as a PDF (bytes)."""
    _register_font()
    s, st = statement, _Styles()
    kind = "定期对账单" if s.kind is StatementKind.PERIODIC else "按需对账单"
    if s.provisional:
        kind += "（临时：账期尚未结账，之后的记账仍可能改变这些日期的数字）"
    purpose = PURPOSES.get(s.purpose.value, s.purpose.value)
    r = s.reconciliation
    story: list[Any] = [
        _p(TITLE, st.title),
        _p(f"{kind}　第 {s.sequence} 期　对账单编号 {s.statement_id}", st.subtitle),
        _info_table(
            [
                ("监管账户", f"{s.account_id}（{purpose}）"),
                ("小区", s.compound_id),
                ("资金用途", purpose),
                ("开户银行", s.bank_account.bank_name),
                ("银行账号", s.bank_account.account_number),
                ("账户名称", s.bank_account.account_name),
                ("公证文书编号", s.notary_reference),
                ("监管公证员", s.supervising_notary_name),
                ("对账期间", f"{s.period_start.isoformat()} 至 {s.period_end.isoformat()}"),
                ("生成时间", s.created_at.isoformat()),
                ("币种", f"{s.currency}（人民币元）"),
            ],
            st,
            [28 * mm, 150 * mm],
        ),
        _p("余额", st.heading),
        _info_table(
            [
                ("期初余额", money(s.opening_balance_fen)),
                ("本期收入", f"{money(s.total_credits_fen)}（{s.credit_count} 笔）"),
                ("本期支出", f"{money(s.total_debits_fen)}（{s.debit_count} 笔）"),
                ("期末余额", money(s.closing_balance_fen)),
                ("其中待付预留", money(r.reserved_closing_fen)),
            ],
            st,
            [28 * mm, 150 * mm],
        ),
        _p("账户明细", st.heading),
        _entries_table(s, st) if s.entries else _p("本期无收支记录。", st.body),
    ]
    if s.transfers:
        story += [_p("户间调账（不影响账户余额）", st.heading), _transfers_table(s, st)]
    story += [
        _p("分户核对", st.heading),
        _households_table(s, st) if s.households else _p("尚无分户账。", st.body),
        Spacer(1, 2 * mm),
        _p(
            f"账户余额 {money(r.held_closing_fen)}，各户合计 {money(r.households_closing_fen)}，"
            f"差额 {money(r.difference_fen)}；"
            + ("全部相符。" if r.balanced else f"不符的户：{'、'.join(r.mismatched_households) or '无'}。"),
            st.body,
        ),
    ]
    key = signature.key_id if signature is not None else "-"
    story.append(
        KeepTogether(
            [
                _p("签名与链", st.heading),
                _p(
                    "本对账单的机器可读版本（JSON，ISO 20022 camt.053 XML）由中心以 Ed25519 签名，"
                    "并以哈希链接上一期对账单。",
                    st.body,
                ),
                _info_table(
                    [("本期哈希", statement_hash), ("上期哈希", s.previous_statement_hash), ("签名密钥编号", key)],
                    st,
                    [28 * mm, 150 * mm],
                    value_style=st.mono,
                ),
                *([] if signature is not None else [_p("注意：本对账单未签名，不能作为凭证。", st.body)]),
            ]
        )
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(15 * mm, 10 * mm, f"{TITLE} {s.statement_id[:40]}　哈希 {statement_hash[:16]}...")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{TITLE} {s.statement_id}",
        author=AUTHOR,
        subject=f"statement_hash={statement_hash}",
        keywords=[f"statement_id={s.statement_id}", f"account_id={s.account_id}", f"sequence={s.sequence}"],
        creator="jinlin billing-escrow",
        invariant=True,
        lang="zh-CN",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
