"""The statement as ISO 20022 ``camt.053.001.08`` (BankToCustomerStatementV08), and reading one back.

One ``Document/BkToCstmrStmt`` with one ``Stmt`` per statement:

- ``GrpHdr``: ``MsgId`` ``JLST`` + the first 31 hex digits of the statement hash (so the same statement always renders
  to the same bytes), ``CreDtTm`` the statement's creation instant;
- ``Stmt``: ``Id`` the statement id, ``ElctrncSeqNb`` its sequence in the account's chain, ``CreDtTm``, ``FrToDt``
  (the period's days in China Standard Time), ``Acct`` (``Id/Othr/Id`` the bank account number, ``Ccy`` CNY,
  ``Nm`` the account's name at the bank, ``Svcr`` the bank), ``Bal`` ``OPBD`` and ``CLBD``, ``TxsSummry``, one
  ``Ntry`` per bank entry and ``AddtlStmtInf`` carrying ``statement_hash=…; previous_statement_hash=…`` first;
- ``Ntry``: ``NtryRef`` the entry number, ``Amt``, ``CdtDbtInd`` (``CRDT`` money in), ``RvslInd`` for a reversal,
  ``Sts/Cd`` ``BOOK``, ``BookgDt``/``ValDt`` the booking date, ``AcctSvcrRef`` the movement id, ``BkTxCd/Prtry``
  the movement kind (issuer ``JINLIN``), and ``NtryDtls/TxDtls`` with ``Refs`` (``EndToEndId`` the payer's or bank's
  reference, else the movement id), ``RltdPties`` (``Dbtr`` of money in: the household; ``Cdtr`` of money out: the
  payee) and ``RmtInf/Ustrd`` (for a payment out: the condition, the co-signatures, the evidence); ``AddtlNtryInf``
  sums the entry up (movement, kind, channel, the whole reference, each household's share).

Amounts are yuan with two decimals made from integer fen by integer arithmetic; a negative balance is its absolute
value with ``DBIT``. Text longer than an ISO field allows is shortened: identifiers keep their start and end with
``~`` and 8 hex digits of their SHA-256 (so two long ids never collide), prose ends with ``…``; the signed JSON always
holds the whole text.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from importlib.resources import files
from typing import Any, Final

from lxml import etree  # type: ignore[import-untyped]
from lxml.builder import ElementMaker  # type: ignore[import-untyped]

from billing_escrow.domain.ledger import MovementKind
from billing_escrow.domain.statement import EntryDirection, Statement, StatementEntry
from billing_escrow.domain.utc import BUSINESS_TZ

NAMESPACE: Final = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
SCHEMA_FILE: Final = "camt.053.001.08.xsd"
ISSUER: Final = "JINLIN"
_NS: Final = {"c": NAMESPACE}
# Characters XML 1.0 cannot carry at all; free text in events may in principle hold them.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES: Final = re.compile(r"\s+")
_AMOUNT: Final = re.compile(r"^(\d+)(?:\.(\d{1,5}))?$")
_HASH_FIELD: Final = re.compile(r"(?:^|; )(statement_hash|previous_statement_hash)=([0-9a-f]{64})(?=;|$)")


def yuan(fen: int) -> str:
    """``12345`` → ``"123.45"``: an absolute amount in yuan, from integer fen without any float."""
    fen = abs(fen)
    return f"{fen // 100}.{fen % 100:02d}"


def fen_of(text: str) -> int:
    """``"123.45"`` → ``12345``; a decimal with more than two non-zero decimals is refused (not a fen amount)."""
    match = _AMOUNT.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an amount")
    whole, fraction = match.group(1), (match.group(2) or "").ljust(5, "0")
    if fraction[2:] != "000":
        raise ValueError(f"{text!r} has fractions of a fen")
    return int(whole) * 100 + int(fraction[:2])


def fit_id(text: str, limit: int) -> str:
    """An identifier or reference made to fit ``limit`` characters, still unique: ``start~<8 hex of SHA-256>``."""
    text = _one_line(text)
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9]}~{digest}"


def clip(text: str, limit: int) -> str:
    """Prose made to fit ``limit`` characters, ending in ``…`` when shortened."""
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _NOT_XML.sub("\ufffd", text)).strip() or "-"


def message_id(statement_hash: str) -> str:
    return f"JLST{statement_hash[:31]}"


def end_to_end_id(entry: StatementEntry) -> str:
    return fit_id(entry.reference or entry.movement_id, 35)


def bank_transaction_code(kind: MovementKind) -> str:
    return kind.value.upper()


def _instant(value: datetime) -> str:
    return value.isoformat()


def _day_start(day: date) -> str:
    return datetime.combine(day, time(0, 0, 0), BUSINESS_TZ).isoformat()


def _day_end(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), BUSINESS_TZ).isoformat()


class _Builder:
    def __init__(self) -> None:
        self.maker = ElementMaker(namespace=NAMESPACE, nsmap={None: NAMESPACE})

    def __call__(self, tag: str, *children: Any, **attributes: str) -> Any:
        return self.maker(tag, *[c for c in children if c is not None], **attributes)


def _amount(e: _Builder, tag: str, fen: int, currency: str) -> Any:
    return e(tag, yuan(fen), Ccy=currency)


def _indicator(fen: int) -> str:
    return "DBIT" if fen < 0 else "CRDT"


def _balance(e: _Builder, code: str, fen: int, on: date, currency: str) -> Any:
    return e(
        "Bal",
        e("Tp", e("CdOrPrtry", e("Cd", code))),
        _amount(e, "Amt", fen, currency),
        e("CdtDbtInd", _indicator(fen)),
        e("Dt", e("Dt", on.isoformat())),
    )


def remittance_lines(entry: StatementEntry) -> list[str]:
    """``RmtInf/Ustrd`` (each at most 140 characters): what a payment out satisfied and who signed it."""
    lines = []
    if entry.condition is not None:
        lines.append(clip(f"条件 Condition {entry.condition.code}: {entry.condition.text}", 140))
    if entry.co_signatures:
        signed = ", ".join(
            f"{s.role.value} {s.signer_id} {s.signed_at.date().isoformat()}" for s in entry.co_signatures
        )
        lines.append(clip(f"会签 Co-signed: {signed}", 140))
    if entry.evidence:
        lines.append(clip(f"凭证 Evidence: {', '.join(entry.evidence)}", 140))
    if entry.reverses is not None:
        lines.append(clip(f"冲正 Reverses movement {entry.reverses}", 140))
    if entry.memo:
        lines.append(clip(entry.memo, 140))
    return lines


def _entry_information(entry: StatementEntry) -> str:
    parts = [f"movement {entry.movement_id}", f"kind {entry.kind.value}"]
    if entry.channel is not None:
        parts.append(f"channel {entry.channel.value}")
    if entry.reference is not None:
        parts.append(f"reference {entry.reference}")
    if entry.counterparty_id is not None:
        parts.append(f"counterparty {entry.counterparty_id}")
    if entry.household_effects:
        effects = ", ".join(
            f"{h.household_id} {'+' if h.amount_fen >= 0 else '-'}{yuan(h.amount_fen)}" for h in entry.household_effects
        )
        parts.append(f"households {effects}")
    return clip("; ".join(parts), 500)


def _party(e: _Builder, entry: StatementEntry) -> Any:
    name = entry.counterparty_name or entry.counterparty_id
    if name is None:
        return None
    role = "Dbtr" if entry.direction is EntryDirection.CREDIT else "Cdtr"
    return e("RltdPties", e(role, e("Pty", e("Nm", clip(name, 140)))))


def _entry(e: _Builder, entry: StatementEntry, currency: str) -> Any:
    indicator = "CRDT" if entry.direction is EntryDirection.CREDIT else "DBIT"
    lines = remittance_lines(entry)
    transaction = e(
        "TxDtls",
        e("Refs", e("AcctSvcrRef", fit_id(entry.movement_id, 35)), e("EndToEndId", end_to_end_id(entry))),
        _amount(e, "Amt", entry.amount_fen, currency),
        e("CdtDbtInd", indicator),
        _party(e, entry),
        e("RmtInf", *[e("Ustrd", line) for line in lines]) if lines else None,
    )
    return e(
        "Ntry",
        e("NtryRef", str(entry.entry_number)),
        _amount(e, "Amt", entry.amount_fen, currency),
        e("CdtDbtInd", indicator),
        e("RvslInd", "true") if entry.kind is MovementKind.REVERSAL else None,
        e("Sts", e("Cd", "BOOK")),
        e("BookgDt", e("Dt", entry.booked_on.isoformat())),
        e("ValDt", e("Dt", entry.booked_on.isoformat())),
        e("AcctSvcrRef", fit_id(entry.movement_id, 35)),
        e("BkTxCd", e("Prtry", e("Cd", bank_transaction_code(entry.kind)), e("Issr", ISSUER))),
        e("NtryDtls", transaction),
        e("AddtlNtryInf", _entry_information(entry)),
    )


def statement_information(statement: Statement, statement_hash: str) -> str:
    """``AddtlStmtInf``: the chain's two hashes first (never shortened), then what the statement is of."""
    s = statement
    parts = [
        f"statement_hash={statement_hash}",
        f"previous_statement_hash={s.previous_statement_hash}",
        f"statement_id={s.statement_id}",
        f"account_id={s.account_id}",
        f"compound_id={s.compound_id}",
        f"purpose={s.purpose.value}",
        f"kind={s.kind.value}",
        f"provisional={'true' if s.provisional else 'false'}",
        f"notary_reference={s.notary_reference}",
    ]
    return clip("; ".join(parts), 500)


def camt053(statement: Statement, statement_hash: str) -> bytes:
    """The statement as a camt.053.001.08 document (UTF-8, with XML declaration)."""
    s, e = statement, _Builder()
    ccy = s.currency
    credits = [x.amount_fen for x in s.entries if x.direction is EntryDirection.CREDIT]
    debits = [x.amount_fen for x in s.entries if x.direction is EntryDirection.DEBIT]
    net = s.total_credits_fen - s.total_debits_fen
    account = s.bank_account
    document = e(
        "Document",
        e(
            "BkToCstmrStmt",
            e(
                "GrpHdr",
                e("MsgId", message_id(statement_hash)),
                e("CreDtTm", _instant(s.created_at)),
                e(
                    "AddtlInf",
                    clip(f"资金监管账户对账单 {s.notary_reference} 监管公证员 {s.supervising_notary_name}", 500),
                ),
            ),
            e(
                "Stmt",
                e("Id", fit_id(s.statement_id, 35)),
                e("ElctrncSeqNb", str(s.sequence)),
                e("CreDtTm", _instant(s.created_at)),
                e("FrToDt", e("FrDtTm", _day_start(s.period_start)), e("ToDtTm", _day_end(s.period_end))),
                e(
                    "Acct",
                    e("Id", e("Othr", e("Id", fit_id(account.account_number, 34)))),
                    e("Ccy", ccy),
                    e("Nm", clip(account.account_name, 70)),
                    e("Svcr", e("FinInstnId", e("Nm", clip(account.bank_name, 140)))),
                ),
                _balance(e, "OPBD", s.opening_balance_fen, s.period_start, ccy),
                _balance(e, "CLBD", s.closing_balance_fen, s.period_end, ccy),
                e(
                    "TxsSummry",
                    e(
                        "TtlNtries",
                        e("NbOfNtries", str(len(s.entries))),
                        e("Sum", yuan(sum(credits) + sum(debits))),
                        e("TtlNetNtry", e("Amt", yuan(net)), e("CdtDbtInd", _indicator(net))),
                    ),
                    e("TtlCdtNtries", e("NbOfNtries", str(s.credit_count)), e("Sum", yuan(s.total_credits_fen))),
                    e("TtlDbtNtries", e("NbOfNtries", str(s.debit_count)), e("Sum", yuan(s.total_debits_fen))),
                ),
                *[_entry(e, entry, ccy) for entry in s.entries],
                e("AddtlStmtInf", statement_information(s, statement_hash)),
            ),
        ),
    )
    result: bytes = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return result


@cache
def schema() -> Any:
    """The official camt.053.001.08 schema, shipped in this package."""
    source = files("billing_escrow.statements").joinpath(SCHEMA_FILE).read_bytes()
    return etree.XMLSchema(etree.fromstring(source, _parser()))


def _parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def schema_problems(xml: bytes) -> list[str]:
    """Why ``xml`` is not a valid camt.053.001.08 document; empty when it is."""
    try:
        document = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"it is not well-formed XML ({exc})"]
    validator = schema()
    if validator.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in validator.error_log][:5]


@dataclass(frozen=True)
class CamtEntry:
    number: str
    amount_fen: int  # signed: money in positive
    booked_on: str
    movement_ref: str
    end_to_end_id: str
    reversal: bool


@dataclass(frozen=True)
class CamtSummary:
    """What the JSON and the XML of one statement must agree on."""

    statement_id: str
    sequence: int
    account_number: str
    currency: str
    opening_balance_fen: int
    closing_balance_fen: int
    credit_count: int
    total_credits_fen: int
    debit_count: int
    total_debits_fen: int
    statement_hash: str | None
    previous_statement_hash: str | None
    entries: tuple[CamtEntry, ...] = field(default=())


def expected_summary(statement: Statement, statement_hash: str) -> CamtSummary:
    """What the camt.053 rendering of ``statement`` says."""
    s = statement
    return CamtSummary(
        statement_id=fit_id(s.statement_id, 35),
        sequence=s.sequence,
        account_number=fit_id(s.bank_account.account_number, 34),
        currency=s.currency,
        opening_balance_fen=s.opening_balance_fen,
        closing_balance_fen=s.closing_balance_fen,
        credit_count=s.credit_count,
        total_credits_fen=s.total_credits_fen,
        debit_count=s.debit_count,
        total_debits_fen=s.total_debits_fen,
        statement_hash=statement_hash,
        previous_statement_hash=s.previous_statement_hash,
        entries=tuple(
            CamtEntry(
                number=str(x.entry_number),
                amount_fen=x.amount_fen if x.direction is EntryDirection.CREDIT else -x.amount_fen,
                booked_on=x.booked_on.isoformat(),
                movement_ref=fit_id(x.movement_id, 35),
                end_to_end_id=end_to_end_id(x),
                reversal=x.kind is MovementKind.REVERSAL,
            )
            for x in s.entries
        ),
    )


class CamtReadError(ValueError):
    pass


def _text(node: Any, path: str) -> str:
    found = node.xpath(path, namespaces=_NS)
    if not found:
        raise CamtReadError(f"it has no {path.replace('c:', '')}")
    value: str = found[0].text or ""
    return value.strip()


def _signed(node: Any, amount_path: str, indicator_path: str) -> int:
    fen = fen_of(_text(node, amount_path))
    return -fen if _text(node, indicator_path) == "DBIT" else fen


def read_camt053(xml: bytes) -> CamtSummary:
    """The summary of a camt.053 document holding one statement (``CamtReadError`` when it cannot be read)."""
    try:
        root = etree.fromstring(xml, _parser())
        statements = root.xpath("/c:Document/c:BkToCstmrStmt/c:Stmt", namespaces=_NS)
        if len(statements) != 1:
            raise CamtReadError(f"it holds {len(statements)} statements, not one")
        stmt = statements[0]
        balances = {}
        for balance in stmt.xpath("c:Bal", namespaces=_NS):
            balances[_text(balance, "c:Tp/c:CdOrPrtry/c:Cd")] = _signed(balance, "c:Amt", "c:CdtDbtInd")
        if "OPBD" not in balances or "CLBD" not in balances:
            raise CamtReadError("it lacks the opening (OPBD) or closing (CLBD) balance")
        hashes = dict(_HASH_FIELD.findall(_text(stmt, "c:AddtlStmtInf")))
        currencies = {a.get("Ccy") for a in stmt.xpath(".//c:Amt[@Ccy]", namespaces=_NS)}
        currency = _text(stmt, "c:Acct/c:Ccy")
        if currencies - {currency}:
            raise CamtReadError(f"its amounts are in {', '.join(sorted(c for c in currencies if c))}, not {currency}")
        entries = tuple(
            CamtEntry(
                number=_text(n, "c:NtryRef"),
                amount_fen=_signed(n, "c:Amt", "c:CdtDbtInd"),
                booked_on=_text(n, "c:BookgDt/c:Dt"),
                movement_ref=_text(n, "c:AcctSvcrRef"),
                end_to_end_id=_text(n, "c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId"),
                reversal=bool(n.xpath("c:RvslInd[text()='true' or text()='1']", namespaces=_NS)),
            )
            for n in stmt.xpath("c:Ntry", namespaces=_NS)
        )
        return CamtSummary(
            statement_id=_text(stmt, "c:Id"),
            sequence=int(_text(stmt, "c:ElctrncSeqNb")),
            account_number=_text(stmt, "c:Acct/c:Id/c:Othr/c:Id"),
            currency=currency,
            opening_balance_fen=balances["OPBD"],
            closing_balance_fen=balances["CLBD"],
            credit_count=int(_text(stmt, "c:TxsSummry/c:TtlCdtNtries/c:NbOfNtries")),
            total_credits_fen=fen_of(_text(stmt, "c:TxsSummry/c:TtlCdtNtries/c:Sum")),
            debit_count=int(_text(stmt, "c:TxsSummry/c:TtlDbtNtries/c:NbOfNtries")),
            total_debits_fen=fen_of(_text(stmt, "c:TxsSummry/c:TtlDbtNtries/c:Sum")),
            statement_hash=hashes.get("statement_hash"),
            previous_statement_hash=hashes.get("previous_statement_hash"),
            entries=entries,
        )
    except etree.XMLSyntaxError as exc:
        raise CamtReadError(f"it is not well-formed XML ({exc})") from None
    except ValueError as exc:
        if isinstance(exc, CamtReadError):
            raise
        raise CamtReadError(str(exc)) from None


_LABELS: Final = {
    "statement_id": "statement id",
    "sequence": "sequence number",
    "account_number": "bank account number",
    "currency": "currency",
    "opening_balance_fen": "opening balance",
    "closing_balance_fen": "closing balance",
    "credit_count": "number of credits",
    "total_credits_fen": "total of credits",
    "debit_count": "number of debits",
    "total_debits_fen": "total of debits",
    "statement_hash": "statement hash",
    "previous_statement_hash": "previous statement hash",
}


def _show(name: str, value: object) -> str:
    if name.endswith("_fen") and isinstance(value, int):
        return f"{'-' if value < 0 else ''}{yuan(value)}"
    return str(value)


def disagreements(xml: CamtSummary, json: CamtSummary) -> list[str]:
    """Where the XML says something else than the JSON, in words."""
    found = []
    for name, label in _LABELS.items():
        x, j = getattr(xml, name), getattr(json, name)
        if x != j:
            found.append(f"the XML's {label} is {_show(name, x)}, the JSON's {_show(name, j)}")
    if len(xml.entries) != len(json.entries):
        found.append(f"the XML has {len(xml.entries)} entries, the JSON {len(json.entries)}")
    for x_entry, j_entry in zip(xml.entries, json.entries, strict=False):
        if x_entry != j_entry:
            what = [
                f"{name} {_show(name, getattr(x_entry, name))} ≠ {_show(name, getattr(j_entry, name))}"
                for name in ("number", "amount_fen", "booked_on", "movement_ref", "end_to_end_id", "reversal")
                if getattr(x_entry, name) != getattr(j_entry, name)
            ]
            found.append(f"entry {j_entry.number} ({j_entry.movement_ref}) differs in the XML: {'; '.join(what)}")
    return found
