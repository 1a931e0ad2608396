"""The three forms of a statement: signed JSON, camt.053.001.08 XML (valid against the official schema), PDF."""

import base64
import json
import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from lxml import etree
from pypdf import PdfReader

from billing_escrow.domain import (
    EntryDirection,
    MovementKind,
    StatementIssued,
    StatementKind,
    registry,
    reverse_movement,
    statement_hash,
)
from billing_escrow.statements.camt import (
    NAMESPACE,
    disagreements,
    expected_summary,
    fen_of,
    fit_id,
    read_camt053,
    schema,
    schema_problems,
    yuan,
)
from billing_escrow.statements.keys import (
    key_id,
    load_or_create_signing_key,
    load_public_key,
    public_key_hex,
    public_key_pem,
)
from billing_escrow.statements.render import render_documents, sign_statement_event, statement_documents
from billing_escrow.statements.signing import signature_problems, signed_bytes
from jinlin.events.canonical import canonical_json

OFFICIAL_XSD = Path(__file__).resolve().parents[4].parent / "shared" / "standards" / "camt.053.001.08.xsd"
NS = {"c": NAMESPACE}


def _xml(documents: Any) -> Any:
    return etree.fromstring(documents.xml)


def _all_statements(chain: Any, books: Callable[..., Any], scenario: Callable[..., None]) -> list[StatementIssued]:
    """The chain's three, an on-demand provisional one, and one full of long ids, long references and odd text."""
    b = books()
    scenario(b, "march")
    b.issue("st-2025-03", date(2025, 3, 3), date(2025, 3, 31))
    b.on(date(2025, 4, 2))
    b.pay("p-april", "h-101", 1, "WX-APRIL")
    on_demand = b.issue("od-1", date(2025, 3, 20), date(2025, 4, 2), StatementKind.ON_DEMAND)
    long = books(account_id="a" * 100, bank_account_number="6" * 40)
    long.on(date(2025, 3, 4))
    long.pay("m" * 100, "h" * 100, 10**13, "参考" * 70)
    long.pay("p-odd", "h-2", 99, "CCB-ODD")
    long.do(
        reverse_movement, movement_id="r" * 100, reverses="p-odd", reason="控制\x01字符 & <标签>", booked_on=long.today
    )
    long_statement = long.issue("s" * 100, date(2025, 3, 3), date(2025, 3, 31))
    return [*chain.events, on_demand, long_statement]


def test_the_vendored_schema_is_the_official_one() -> None:
    vendored = Path(__file__).resolve().parents[2] / "src" / "billing_escrow" / "statements" / "camt.053.001.08.xsd"
    if not OFFICIAL_XSD.exists():
        pytest.skip(f"the standards folder beside the checkout is not here ({OFFICIAL_XSD})")
    assert vendored.read_bytes() == OFFICIAL_XSD.read_bytes()


def test_every_statement_validates_against_the_xsd(
    chain: Any, books: Callable[..., Any], scenario: Callable[..., None], signing_key: Ed25519PrivateKey
) -> None:
    statements = _all_statements(chain, books, scenario)
    kinds = {e.kind for s in statements for e in s.statement.entries}
    assert {MovementKind.PAYMENT_IN, MovementKind.REVERSAL, MovementKind.PAYMENT_OUT} <= kinds
    assert any(not s.statement.entries for s in statements)  # an empty period
    assert any(s.statement.provisional for s in statements)
    for event in statements:
        documents = statement_documents(event.statement, signing_key)
        assert schema_problems(documents.xml) == [], event.statement_id
        assert schema().validate(_xml(documents))


def test_the_schema_check_catches_an_invalid_document(chain: Any) -> None:
    documents = render_documents(chain.events[0].statement, chain.events[0].signature)
    root = _xml(documents)
    root.find(".//c:Stmt/c:Bal/c:CdtDbtInd", NS).text = "PLUS"
    problems = schema_problems(etree.tostring(root))
    assert problems
    assert "CdtDbtInd" in problems[0]
    assert schema_problems(b"<Document") != []


def test_the_xml_says_what_the_statement_says(chain: Any) -> None:
    event = chain.events[0]
    s = event.statement
    root = _xml(render_documents(s, event.signature))
    stmt = root.find("c:BkToCstmrStmt/c:Stmt", NS)
    assert stmt.findtext("c:Id", namespaces=NS) == "st-2025-03"
    assert stmt.findtext("c:ElctrncSeqNb", namespaces=NS) == "1"
    assert stmt.findtext("c:Acct/c:Id/c:Othr/c:Id", namespaces=NS) == "34050172630800001234"
    assert stmt.findtext("c:Acct/c:Ccy", namespaces=NS) == "CNY"
    assert stmt.findtext("c:FrToDt/c:FrDtTm", namespaces=NS) == "2025-03-03T00:00:00+08:00"
    balances = {
        b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): (
            b.findtext("c:Amt", namespaces=NS),
            b.find("c:Amt", NS).get("Ccy"),
        )
        for b in stmt.findall("c:Bal", NS)
    }
    assert balances == {"OPBD": ("0.00", "CNY"), "CLBD": ("400.00", "CNY")}
    assert stmt.findtext("c:TxsSummry/c:TtlCdtNtries/c:Sum", namespaces=NS) == "1009.99"
    assert stmt.findtext("c:TxsSummry/c:TtlDbtNtries/c:NbOfNtries", namespaces=NS) == "2"
    entries = stmt.findall("c:Ntry", NS)
    assert len(entries) == len(s.entries) == 6
    reversal = entries[4]
    assert reversal.findtext("c:CdtDbtInd", namespaces=NS) == "DBIT"
    assert reversal.findtext("c:RvslInd", namespaces=NS) == "true"
    assert reversal.findtext("c:Amt", namespaces=NS) == "9.99"
    payout = entries[5]
    assert payout.findtext("c:BkTxCd/c:Prtry/c:Cd", namespaces=NS) == "PAYMENT_OUT"
    details = payout.find("c:NtryDtls/c:TxDtls", NS)
    assert details.findtext("c:RltdPties/c:Cdtr/c:Pty/c:Nm", namespaces=NS) == "国网天长市供电公司"
    assert details.findtext("c:Refs/c:EndToEndId", namespaces=NS) == "CCB-OUT-d-arrears"
    remittance = [u.text for u in details.findall("c:RmtInf/c:Ustrd", NS)]
    assert any("power_company_confirms_arrears" in line for line in remittance)
    assert any("center_finance fin-wang" in line and "notary notary-zhao" in line for line in remittance)
    payment = entries[0].find("c:NtryDtls/c:TxDtls", NS)
    assert payment.findtext("c:RltdPties/c:Dbtr/c:Pty/c:Nm", namespaces=NS) == "h-101"
    assert payment.findtext("c:Refs/c:EndToEndId", namespaces=NS) == "4200000001202503031234"
    info = stmt.findtext("c:AddtlStmtInf", namespaces=NS)
    assert info.startswith(f"statement_hash={statement_hash(s)}; previous_statement_hash={'0' * 64};")
    # Reading it back gives the statement's own summary.
    assert read_camt053(render_documents(s, event.signature).xml) == expected_summary(s, statement_hash(s))


def test_long_and_odd_text_is_fitted_not_lost(
    chain: Any, books: Callable[..., Any], scenario: Callable[..., None], signing_key: Ed25519PrivateKey
) -> None:
    long = _all_statements(chain, books, scenario)[-1].statement
    documents = statement_documents(long, signing_key)
    stmt = _xml(documents).find("c:BkToCstmrStmt/c:Stmt", NS)
    statement_id = stmt.findtext("c:Id", namespaces=NS)
    assert len(statement_id) == 35
    assert statement_id == fit_id("s" * 100, 35) != fit_id("s" * 99, 35)
    assert len(stmt.findtext("c:Acct/c:Id/c:Othr/c:Id", namespaces=NS)) == 34
    big = stmt.find("c:Ntry", NS)
    assert big.findtext("c:Amt", namespaces=NS) == "100000000000.00"
    assert len(big.findtext("c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId", namespaces=NS)) == 35
    assert "参考" * 70 in big.findtext("c:AddtlNtryInf", namespaces=NS)  # the whole reference is still there
    reversal = stmt.findall("c:Ntry", NS)[2]
    assert "控制\ufffd字符 & <标签>" in [u.text for u in reversal.findall(".//c:Ustrd", NS)]
    # The full values are in the signed JSON.
    document = json.loads(documents.json)
    assert document["statement"]["statement_id"] == "s" * 100


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (7, "0.07"),
        (99, "0.99"),
        (100, "1.00"),
        (12345, "123.45"),
        (-12345, "123.45"),
        (9_999_999_999_999_999, "99999999999999.99"),
    ],
)
def test_amounts_are_exact_yuan(fen: int, text: str) -> None:
    assert yuan(fen) == text
    assert fen_of(text) == abs(fen)


def test_amounts_read_back_refuse_what_is_not_fen() -> None:
    assert fen_of("12.3") == 1230
    assert fen_of("12.30000") == 1230
    for bad in ("12.345", "1e3", "-1.00", "12,00", ""):
        with pytest.raises(ValueError, match=r"amount|fen"):
            fen_of(bad)


def test_a_negative_balance_is_its_absolute_value_debited(chain: Any) -> None:
    s = chain.events[1].statement.model_copy(update={"opening_balance_fen": -5, "closing_balance_fen": -5})
    documents = render_documents(s, None)
    assert schema_problems(documents.xml) == []
    summary = read_camt053(documents.xml)
    assert (summary.opening_balance_fen, summary.closing_balance_fen) == (-5, -5)
    opening = _xml(documents).find(".//c:Bal", NS)
    assert (opening.findtext("c:Amt", namespaces=NS), opening.findtext("c:CdtDbtInd", namespaces=NS)) == (
        "0.05",
        "DBIT",
    )


def test_disagreements_are_named(chain: Any) -> None:
    s = chain.events[0].statement
    mine = expected_summary(s, statement_hash(s))
    other = expected_summary(s.model_copy(update={"closing_balance_fen": 40_001}), statement_hash(s))
    assert disagreements(mine, mine) == []
    assert disagreements(other, mine) == ["the XML's closing balance is 400.01, the JSON's 400.00"]


def test_rendering_is_deterministic(chain: Any) -> None:
    event = chain.events[0]
    first, second = (
        render_documents(event.statement, event.signature),
        render_documents(event.statement, event.signature),
    )
    assert (first.json, first.xml, first.pdf) == (second.json, second.xml, second.pdf)


# --- the signed JSON --------------------------------------------------------------------------------------------


def test_the_json_is_signed_over_the_canonical_statement(chain: Any, signing_key: Ed25519PrivateKey) -> None:
    event = chain.events[0]
    documents = statement_documents(event.statement, signing_key)
    document = json.loads(documents.json)
    assert set(document) == {"statement", "statement_hash", "previous_statement_hash", "signature"}
    assert document["statement_hash"] == statement_hash(event.statement) == documents.statement_hash
    assert document["previous_statement_hash"] == "0" * 64
    signature = document["signature"]
    assert signature["alg"] == "Ed25519"
    assert signature["key_id"] == key_id(signing_key)
    assert signature["public_key"] == public_key_hex(signing_key)
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature["public_key"]))
    public.verify(base64.b64decode(signature["value"]), canonical_json(document["statement"]))
    assert canonical_json(document["statement"]) == signed_bytes(event.statement)
    altered = dict(document["statement"], closing_balance_fen=document["statement"]["closing_balance_fen"] + 1)
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature["value"]), canonical_json(altered))
    assert signature_problems(document["statement"], signature) == []
    assert signature_problems(altered, signature) != []


def test_a_signature_block_that_lies_about_its_key_is_caught(chain: Any, signing_key: Ed25519PrivateKey) -> None:
    document = json.loads(statement_documents(chain.events[0].statement, signing_key).json)
    other = Ed25519PrivateKey.generate()
    swapped = dict(document["signature"], public_key=public_key_hex(other))
    assert any("key id" in p for p in signature_problems(document["statement"], swapped))
    assert any("does not match" in p for p in signature_problems(document["statement"], swapped))
    assert signature_problems(document["statement"], None) == ["it is not signed"]
    assert signature_problems(document["statement"], document["signature"], [other.public_key()]) == [
        f"it is signed by key {key_id(signing_key)}, not by the trusted key ({key_id(other)})"
    ]


def test_signing_the_event_keeps_it_decodable(chain: Any, signing_key: Ed25519PrivateKey) -> None:
    unsigned = chain.books.issued[0]
    assert unsigned.signature is None
    signed = sign_statement_event(unsigned, signing_key)
    assert signed.signature is not None
    assert signed.signature.key_id == key_id(signing_key)
    assert signed.model_copy(update={"signature": None}) == unsigned
    roundtrip = registry.decode(registry.type_of(signed), json.loads(signed.model_dump_json()))
    assert roundtrip == signed
    # A stored event from before the field existed still decodes (the field is optional, defaulting to None).
    old = json.loads(unsigned.model_dump_json())
    del old["signature"]
    assert registry.decode("jinlin.escrow.StatementIssued.v1", old) == unsigned


def test_an_event_whose_hash_is_not_its_statements_is_not_signed(chain: Any, signing_key: Ed25519PrivateKey) -> None:
    event = chain.books.issued[1]
    with pytest.raises(ValueError, match="statement_hash"):
        sign_statement_event(event.model_copy(update={"statement_hash": "1" * 64}), signing_key)
    with pytest.raises(ValueError, match="previous_statement_hash"):
        sign_statement_event(event.model_copy(update={"previous_statement_hash": "1" * 64}), signing_key)


# --- the PDF ------------------------------------------------------------------------------------------------------


def test_the_pdf_is_a_readable_chinese_statement(chain: Any, tmp_path: Path) -> None:
    event = chain.events[0]
    s = event.statement
    documents = render_documents(s, event.signature)
    path = tmp_path / "statement.pdf"
    path.write_bytes(documents.pdf)
    reader = PdfReader(path)
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    for expected in (
        "资金监管账户对账单",
        "jyht-electricity",
        "jinyuan-huating",
        "电费",
        "(2025)皖滁天证字第0301号",
        "赵公证员",
        "2025-03-03 至 2025-03-31",
        "期初余额",
        "1,009.99",  # credits
        "609.99",  # debits
        "国网天长市供电公司",
        "供电公司书面确认小区总表欠费金额",
        "中心财务 fin-wang",
        "冲正原款项 p4",
        "分户核对",
        "h-201",
        "相符",
        statement_hash(s),
        event.signature.key_id,
    ):
        assert expected in text, expected
    assert reader.metadata["/Subject"] == f"statement_hash={statement_hash(s)}"
    assert [e.direction for e in s.entries].count(EntryDirection.DEBIT) == 2


def test_an_empty_period_and_an_unsigned_statement_say_so(chain: Any, tmp_path: Path) -> None:
    path = tmp_path / "april.pdf"
    path.write_bytes(render_documents(chain.events[1].statement, None).pdf)
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "本期无收支记录" in text
    assert "未签名" in text


# --- keys -------------------------------------------------------------------------------------------------------


def test_the_signing_key_is_created_once_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "statements.pem"
    key = load_or_create_signing_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    again = load_or_create_signing_key(path)
    assert public_key_hex(again) == public_key_hex(key)
    assert len(key_id(key)) == 16
    assert sorted(p.name for p in path.parent.iterdir()) == ["statements.pem"]  # no temporary files left


def test_racing_creators_end_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "statements.pem"
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: public_key_hex(load_or_create_signing_key(path)), range(16)))
    assert len(set(keys)) == 1
    assert public_key_hex(load_or_create_signing_key(path)) == keys[0]


def test_public_keys_load_from_pem_hex_or_the_private_key(tmp_path: Path, signing_key: Ed25519PrivateKey) -> None:
    (tmp_path / "center.pub.pem").write_text(public_key_pem(signing_key))
    (tmp_path / "center.hex").write_text(public_key_hex(signing_key) + "\n")
    private = tmp_path / "private.pem"
    load_or_create_signing_key(private)
    for name in ("center.pub.pem", "center.hex"):
        assert public_key_hex(load_public_key(tmp_path / name)) == public_key_hex(signing_key)
    assert public_key_hex(load_public_key(private)) == public_key_hex(load_or_create_signing_key(private))
    (tmp_path / "junk").write_text("not a key")
    with pytest.raises(ValueError, match="junk"):
        load_public_key(tmp_path / "junk")
