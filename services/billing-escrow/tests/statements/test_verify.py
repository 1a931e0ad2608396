"""``jinlin notary verify``: a good chain passes; a tampered, reordered, missing, badly signed or inconsistent
statement is refused and named."""

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lxml import etree

from billing_escrow.statements.camt import NAMESPACE
from billing_escrow.statements.keys import public_key_pem
from billing_escrow.statements.render import statement_documents
from billing_escrow.statements.verify import verify_statement_files
from jinlin.cli.main import cli

NS = {"c": NAMESPACE}


def verify(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["notary", "verify", *map(str, args)], catch_exceptions=False)


def problems(result: Result) -> list[str]:
    return [line.removeprefix("problem: ") for line in result.output.splitlines() if line.startswith("problem: ")]


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2))


@pytest.fixture
def files(chain: Any, tmp_path: Path) -> list[Path]:
    """The chain's three statements as JSON, XML and PDF in ``tmp_path/statements``."""
    return chain.write(tmp_path / "statements", pdf=True)


@pytest.fixture
def center_key(tmp_path: Path, signing_key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "center.pub.pem"
    path.write_text(public_key_pem(signing_key))
    return path


def test_a_good_chain_passes(files: list[Path], center_key: Path) -> None:
    result = verify(*files)
    assert result.exit_code == 0, result.output
    assert "all good: 3 statement(s)" in result.output
    assert [line.split()[:4] for line in result.output.splitlines() if line.startswith("ok")] == [
        ["ok", "jyht-electricity", "#1", "st-2025-03"],
        ["ok", "jyht-electricity", "#2", "st-2025-04"],
        ["ok", "jyht-electricity", "#3", "st-2025-05"],
    ]
    assert "(json, xml, pdf)" in result.output
    assert "pass --key" in result.output  # the key was not pinned: said, not hidden
    pinned = verify("--key", center_key, *files)
    assert pinned.exit_code == 0, pinned.output
    assert "pass --key" not in pinned.output


def test_a_directory_means_its_statements_in_order(files: list[Path], center_key: Path) -> None:
    result = verify("--key", center_key, files[0].parent)
    assert result.exit_code == 0, result.output
    assert "all good: 3 statement(s)" in result.output


def test_the_jinlin_command_runs_it(files: list[Path], center_key: Path) -> None:
    """The real entry: ``python -m jinlin.cli.main``, the plugin loaded from the installed entry points."""
    good = subprocess.run(
        [sys.executable, "-m", "jinlin.cli.main", "notary", "verify", "--key", str(center_key), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "jinlin.cli.main", "notary", "verify", str(files[0]), str(files[2])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "statement 2 is missing" in bad.stdout


def test_a_tampered_amount_is_named(files: list[Path], center_key: Path) -> None:
    def pay_less(document: dict[str, Any]) -> None:
        document["statement"]["entries"][0]["amount_fen"] -= 100  # h-101 paid 499.00, not 500.00

    edit_json(files[0], pay_less)
    result = verify("--key", center_key, *files)
    assert result.exit_code == 1
    found = problems(result)
    march = "statement st-2025-03 (jyht-electricity #1, 000001-st-2025-03.json)"
    assert (
        f"{march}: its signature does not match its content (altered after signing, or signed by another key)" in found
    )
    assert any(p.startswith(f"{march}: its content does not match its statement_hash") for p in found)
    assert f"{march}: the credits do not add up to their total" in found
    assert any(p.startswith(f"{march}: its XML and JSON disagree: entry 1 (p1) differs") for p in found)
    # The next statement no longer chains to the altered one.
    assert any(p.startswith("statement st-2025-04 (") and "does not chain" in p for p in found)
    assert not any(p.startswith("statement st-2025-05") for p in found)
    assert "BAD  jyht-electricity #1 st-2025-03" in result.output


def test_a_tamperer_who_fixes_the_hash_and_totals_still_breaks_the_signature(files: list[Path]) -> None:
    def consistent_forgery(document: dict[str, Any]) -> None:
        s = document["statement"]
        s["entries"][0]["amount_fen"] -= 100
        for entry in s["entries"]:
            entry["balance_after_fen"] -= 100
        s["total_credits_fen"] -= 100
        s["closing_balance_fen"] -= 100
        s["reconciliation"]["held_closing_fen"] -= 100
        from billing_escrow.statements.signing import hash_of

        document["statement_hash"] = hash_of(s)

    edit_json(files[0], consistent_forgery)
    result = verify(files[0])
    assert result.exit_code == 1
    assert any("its signature does not match its content" in p for p in problems(result))
    assert not any("does not match its statement_hash" in p for p in problems(result))


def test_a_reordered_pair_is_named(files: list[Path]) -> None:
    result = verify(files[0], files[2], files[1])
    assert result.exit_code == 1
    assert problems(result) == [
        "statement st-2025-04 (jyht-electricity #2, 000002-st-2025-04.json): is given after st-2025-05 (#3): "
        "the statements are out of order"
    ]


def test_statements_swapped_between_file_names_are_named(files: list[Path]) -> None:
    for suffix in (".json", ".xml", ".pdf"):
        second, third = files[1].with_suffix(suffix), files[2].with_suffix(suffix)
        a, b = second.read_bytes(), third.read_bytes()
        second.write_bytes(b)
        third.write_bytes(a)
    result = verify(*files)
    assert result.exit_code == 1
    found = problems(result)
    assert any(
        p.startswith(
            "statement st-2025-05 (jyht-electricity #3, 000002-st-2025-04.json): its file name says sequence 2"
        )
        for p in found
    )
    assert any("st-2025-04" in p and "the statements are out of order" in p for p in found)


def test_a_missing_middle_statement_is_named(files: list[Path]) -> None:
    result = verify(files[0], files[2])
    assert result.exit_code == 1
    assert problems(result) == [
        "account jyht-electricity: statement 2 is missing after st-2025-03 (#1), before st-2025-05 (#3)"
    ]


def test_a_missing_first_statement_is_named(files: list[Path]) -> None:
    result = verify(files[1], files[2])
    assert result.exit_code == 1
    assert problems(result) == ["account jyht-electricity: statement 1 is missing, before st-2025-04 (#2)"]


def test_a_bad_signature_is_named(files: list[Path], chain: Any) -> None:
    other = chain.events[1].signature.value  # a real signature, of another statement

    edit_json(files[0], lambda d: d["signature"].update(value=other))
    result = verify(*files)
    assert result.exit_code == 1
    assert problems(result) == [
        "statement st-2025-03 (jyht-electricity #1, 000001-st-2025-03.json): its signature does not match its "
        "content (altered after signing, or signed by another key)"
    ]


def test_an_unsigned_statement_is_refused(files: list[Path]) -> None:
    edit_json(files[1], lambda d: d.update(signature=None))
    result = verify(*files)
    assert result.exit_code == 1
    assert problems(result) == ["statement st-2025-04 (jyht-electricity #2, 000002-st-2025-04.json): it is not signed"]


def test_a_statement_forged_with_another_key_is_caught(
    files: list[Path], chain: Any, center_key: Path, tmp_path: Path
) -> None:
    """A forger re-signs a whole altered statement with a key of their own: valid by itself, so only the key tells."""
    forger = Ed25519PrivateKey.generate()
    last = chain.events[2].statement
    forged = last.model_copy(update={"supervising_notary_name": "冒名公证员"})
    statement_documents(forged, forger).write(tmp_path / "forged")
    forged_json = tmp_path / "forged" / files[2].name
    unpinned = verify(files[0], files[1], forged_json)
    assert unpinned.exit_code == 1
    assert any("are signed by different keys" in p and "st-2025-05" in p for p in problems(unpinned))
    pinned = verify("--key", center_key, files[0], files[1], forged_json)
    assert pinned.exit_code == 1
    assert any(p.startswith("statement st-2025-05") and "not by the trusted key" in p for p in problems(pinned))


def test_xml_that_disagrees_with_the_json_is_named(files: list[Path]) -> None:
    xml_path = files[0].with_suffix(".xml")
    root = etree.fromstring(xml_path.read_bytes())
    closing = [b for b in root.iterfind(".//c:Bal", NS) if b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS) == "CLBD"]
    closing[0].find("c:Amt", NS).text = "4000.00"
    root.find(".//c:Ntry/c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId", NS).text = "SOMEONE-ELSES-REF"
    xml_path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    result = verify(*files)
    assert result.exit_code == 1
    march = "statement st-2025-03 (jyht-electricity #1, 000001-st-2025-03.json)"
    assert problems(result) == [
        f"{march}: its XML and JSON disagree: the XML's closing balance is 4000.00, the JSON's 400.00",
        f"{march}: its XML and JSON disagree: entry 1 (p1) differs in the XML: "
        "end_to_end_id SOMEONE-ELSES-REF ≠ 4200000001202503031234",
    ]


def test_xml_that_is_not_camt053_is_named(files: list[Path]) -> None:
    xml_path = files[1].with_suffix(".xml")
    xml_path.write_bytes(
        xml_path.read_bytes().replace(b"<ElctrncSeqNb>2</ElctrncSeqNb>", b"<ElctrncSeqNb>two</ElctrncSeqNb>")
    )
    result = verify(*files)
    assert result.exit_code == 1
    [problem] = problems(result)
    assert problem.startswith("statement st-2025-04 (jyht-electricity #2, 000002-st-2025-04.json): its XML ")
    assert "is not valid camt.053.001.08" in problem


def test_a_pdf_of_another_statement_is_named(files: list[Path]) -> None:
    files[0].with_suffix(".pdf").write_bytes(files[1].with_suffix(".pdf").read_bytes())
    result = verify(*files)
    assert result.exit_code == 1
    assert problems(result) == [
        "statement st-2025-03 (jyht-electricity #1, 000001-st-2025-03.json): its PDF 000001-st-2025-03.pdf is not of "
        "this statement (its metadata names another hash)"
    ]


def test_wrong_arithmetic_is_caught_even_when_signed(
    chain: Any, signing_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    """The center's own mistake, signed: the totals, the running balance and the households are recomputed."""
    s = chain.events[0].statement
    households = list(s.households)
    households[0] = households[0].model_copy(update={"closing_fen": households[0].closing_fen + 1})  # still 'matches'
    wrong = s.model_copy(update={"total_debits_fen": s.total_debits_fen - 1, "households": tuple(households)})
    statement_documents(wrong, signing_key).write(tmp_path)
    report = verify_statement_files([tmp_path / "000001-st-2025-03.json"])
    found = [p.message for p in report.problems]
    assert not report.ok
    assert "the debits do not add up to their total" in found
    assert "opening + credits − debits is not the closing balance" in found
    assert "household h-101: its difference is not closing − expected closing" in found
    assert "household h-101: it is marked matching, but its own figures say otherwise" in found
    assert "the households' closing balances do not add up to their total" in found
    assert not any("signature" in p for p in found)


def test_two_accounts_are_chained_separately(
    files: list[Path], books: Callable[..., Any], signing_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    water = books(account_id="jyht-water")
    water.on(date(2025, 3, 4))
    water.pay("w1", "h-101", 3_000, "WX-W1")
    first = water.issue("w-2025-03", date(2025, 3, 3), date(2025, 3, 31))
    statement_documents(first.statement, signing_key).write(tmp_path / "water")
    result = verify(files[0], tmp_path / "water", files[1], files[2])
    assert result.exit_code == 0, result.output
    assert "all good: 4 statement(s)" in result.output


def test_files_that_are_not_statements_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"statement": {"amount": 1.5}}')
    (tmp_path / "b.json").write_text("[1, 2]")
    result = verify(tmp_path / "a.json", tmp_path / "b.json", tmp_path / "missing.json")
    assert result.exit_code == 1
    found = problems(result)
    assert found[0].startswith(f"file {tmp_path / 'a.json'}: is not a JSON statement (the number 1.5 is not an integer")
    assert found[1] == f"file {tmp_path / 'b.json'}: is not a signed statement (no 'statement' object)"
    assert found[2].startswith(f"file {tmp_path / 'missing.json'}: cannot be read")
