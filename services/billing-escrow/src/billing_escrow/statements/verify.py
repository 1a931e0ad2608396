"""The notary's offline check of statements (``jinlin notary verify FILE... [--key center.pub.pem]``).

For each signed JSON statement:

- it is a well-formed statement, in the canonical form the center signs;
- its ``statement_hash`` is the hash of its content and its signature is good (against the public key it carries, and
  with ``--key`` against the pinned key; without a pinned key, statements signed by different keys are a problem,
  because anyone can sign a forged statement with a key of their own);
- its arithmetic: opening + credits − debits = closing, the totals and counts are the entries', the running balance,
  and the per-household reconciliation (``arithmetic_problems`` of the domain, plus the consistency of each
  household's difference and match flag and of the reconciliation's summary);
- the camt.053 XML beside it (same name, ``.xml``) validates against the official schema and says the same: the
  balances, totals, counts, the entries' amounts, dates and references, and the chain's hashes;
- the PDF beside it (``.pdf``), if any, is of this statement (its metadata names the statement's hash).

Then per account, over all the files given: the sequence numbers run 1, 2, 3 … without a gap or a duplicate, the
files are given in that order, and each statement carries the previous one's hash (``chain_problems`` of the domain).
A missing, reordered or altered statement is named. A directory stands for every ``*.json`` below it, in name order
(the names ``jinlin notary pull`` writes sort in sequence order).
"""

import itertools
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from billing_escrow.domain.statement import Statement, statement_hash
from billing_escrow.domain.statement_checks import arithmetic_problems, chain_problems
from billing_escrow.statements.camt import (
    CamtReadError,
    disagreements,
    expected_summary,
    read_camt053,
    schema_problems,
)
from billing_escrow.statements.signing import ENVELOPE_KEYS, hash_of, signature_problems
from jinlin.events import GENESIS_HASH

_STEM: Final = re.compile(r"^(\d+)-([a-z0-9][a-z0-9_-]*)$")


@dataclass(frozen=True)
class Problem:
    statement: str
    """Which statement: ``st-2025-04 (jyht-electricity #2, 000002-st-2025-04.json)``, or an account for a gap."""
    message: str

    def __str__(self) -> str:
        return f"{self.statement}: {self.message}"


@dataclass(frozen=True)
class CheckedStatement:
    path: Path
    statement_id: str | None
    account_id: str | None
    sequence: int | None
    statement_hash: str | None
    key_id: str | None
    checked: tuple[str, ...]
    """The forms checked: ``json``, ``xml``, ``pdf``."""
    ok: bool


@dataclass(frozen=True)
class VerifyReport:
    statements: tuple[CheckedStatement, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.statements)


@dataclass
class _File:
    path: Path
    label: str
    raw: dict[str, Any] | None = None
    statement: Statement | None = None
    hash: str | None = None
    key_id: str | None = None
    signature: Any = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _reject_float(text: str) -> Any:
    raise ValueError(f"the number {text} is not an integer (amounts are integer fen)")


def _reject_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def _label(path: Path, raw: Any) -> str:
    if isinstance(raw, dict):
        sid, account, sequence = raw.get("statement_id"), raw.get("account_id"), raw.get("sequence")
        if isinstance(sid, str):
            return f"statement {sid} ({account} #{sequence}, {path.name})"
    return f"file {path}"


def _load(path: Path) -> _File:
    checked = _File(path, f"file {path}")
    try:
        document = json.loads(path.read_bytes(), parse_float=_reject_float, parse_constant=_reject_constant)
    except OSError as exc:
        checked.problems.append(f"cannot be read ({exc.strerror or exc})")
        return checked
    except (ValueError, UnicodeDecodeError) as exc:
        checked.problems.append(f"is not a JSON statement ({exc})")
        return checked
    if not isinstance(document, dict) or not isinstance(document.get("statement"), dict):
        checked.problems.append("is not a signed statement (no 'statement' object)")
        return checked
    raw: dict[str, Any] = document["statement"]
    checked.raw, checked.label = raw, _label(path, raw)
    checked.checked.append("json")
    unexpected = sorted(set(document) - set(ENVELOPE_KEYS))
    if unexpected:
        checked.problems.append(f"has unexpected fields beside the statement: {', '.join(unexpected)}")
    try:
        checked.hash = hash_of(raw)
    except Exception as exc:  # rfc8785 refuses values JSON cannot canonicalise (huge integers, say)
        checked.problems.append(f"cannot be canonicalised ({exc})")
        return checked
    try:
        checked.statement = Statement.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        checked.problems.append(f"is not a valid statement ({where}: {error['msg']}; {exc.error_count()} error(s))")
    if checked.statement is not None and statement_hash(checked.statement) != checked.hash:
        checked.problems.append("is not in the canonical form the center signs (its values are not normalised)")
    if document.get("statement_hash") != checked.hash:
        checked.problems.append(
            f"its content does not match its statement_hash (content hashes to {checked.hash[:16]}…, "
            f"the file says {str(document.get('statement_hash'))[:16]}…): altered after it was issued"
        )
    if document.get("previous_statement_hash") != raw.get("previous_statement_hash"):
        checked.problems.append("its previous_statement_hash differs from the one inside the statement")
    checked.signature = signature = document.get("signature")
    if isinstance(signature, dict) and isinstance(signature.get("key_id"), str):
        checked.key_id = signature["key_id"]
    return checked


def _reconciliation_problems(statement: Statement) -> list[str]:
    """What ``arithmetic_problems`` leaves to trust: each household's difference and match flag, the summary."""
    problems = []
    for line in statement.households:
        if line.difference_fen != line.closing_fen - line.expected_closing_fen:
            problems.append(f"household {line.household_id}: its difference is not closing − expected closing")
        agrees = line.closing_fen == line.expected_closing_fen == line.documents_balance_fen
        if line.matches != agrees:
            marked = "matching" if line.matches else "not matching"
            problems.append(f"household {line.household_id}: it is marked {marked}, but its own figures say otherwise")
    r = statement.reconciliation
    if r.difference_fen != r.held_closing_fen - r.households_closing_fen:
        problems.append("the reconciliation's difference is not the bank balance − the households' total")
    mismatched = tuple(line.household_id for line in statement.households if not line.matches)
    if tuple(r.mismatched_households) != mismatched:
        problems.append("the reconciliation's list of mismatched households is not the households' own")
    if r.balanced != (r.difference_fen == 0 and not mismatched):
        problems.append("the reconciliation is marked balanced when it is not, or the other way round")
    return problems


def _check_xml(checked: _File) -> None:
    xml_path = checked.path.with_suffix(".xml")
    if checked.statement is None or checked.hash is None or not xml_path.exists():
        return
    checked.checked.append("xml")
    xml = xml_path.read_bytes()
    invalid = schema_problems(xml)
    if invalid:
        checked.problems.append(f"its XML {xml_path.name} is not valid camt.053.001.08: {invalid[0]}")
        return
    try:
        found = read_camt053(xml)
    except CamtReadError as exc:
        checked.problems.append(f"its XML {xml_path.name} cannot be read: {exc}")
        return
    for difference in disagreements(found, expected_summary(checked.statement, checked.hash)):
        checked.problems.append(f"its XML and JSON disagree: {difference}")


def _check_pdf(checked: _File) -> None:
    pdf_path = checked.path.with_suffix(".pdf")
    if checked.hash is None or not pdf_path.exists():
        return
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    checked.checked.append("pdf")
    try:
        metadata = PdfReader(pdf_path).metadata
        subject = metadata.get("/Subject") if metadata is not None else None
    except (PyPdfError, OSError, ValueError) as exc:
        checked.problems.append(f"its PDF {pdf_path.name} cannot be read ({exc})")
        return
    if subject != f"statement_hash={checked.hash}":
        checked.problems.append(f"its PDF {pdf_path.name} is not of this statement (its metadata names another hash)")


def _check_name(checked: _File) -> None:
    match = _STEM.match(checked.path.stem)
    s = checked.statement
    if match is None or s is None:
        return
    if int(match.group(1)) != s.sequence or match.group(2) != s.statement_id:
        checked.problems.append(
            f"its file name says sequence {int(match.group(1))}, statement {match.group(2)}, "
            f"but it holds sequence {s.sequence}, statement {s.statement_id}"
        )


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """The JSON files meant: a directory is every ``*.json`` below it in name order; ``x.xml``/``x.pdf`` mean
    ``x.json``. Each file once, in the order given."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(path.rglob("*.json")))
        elif path.suffix in (".xml", ".pdf"):
            found.append(path.with_suffix(".json"))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _sequence_span(missing: list[int]) -> str:
    return f"statement {missing[0]} is" if len(missing) == 1 else f"statements {missing[0]}–{missing[-1]} are"


@dataclass(frozen=True)
class _Link:
    """A statement that could be read, for the chain checks."""

    label: str
    statement: Statement
    hash: str

    @property
    def name(self) -> str:
        return f"{self.statement.statement_id} (#{self.statement.sequence})"


def _chain_findings(account: str, links: list[_Link]) -> list[Problem]:
    """Order, gaps, duplicates and hash links of one account's statements (``links`` in the order given)."""
    found: list[Problem] = []
    where = f"account {account}"
    for earlier, later in itertools.pairwise(links):
        if later.statement.sequence < earlier.statement.sequence:
            found.append(Problem(later.label, f"is given after {earlier.name}: the statements are out of order"))
    by_sequence: dict[int, list[_Link]] = defaultdict(list)
    for link in links:
        by_sequence[link.statement.sequence].append(link)
    unique: list[_Link] = []
    for sequence, same in sorted(by_sequence.items()):
        if len({link.hash for link in same}) > 1:
            names = ", ".join(link.label for link in same)
            found.append(Problem(where, f"different statements claim sequence {sequence}: {names}"))
        unique.append(same[0])
    expected, previous = 1, None
    for link in unique:
        if link.statement.sequence > expected:
            missing = list(range(expected, link.statement.sequence))
            after = f" after {previous.name}" if previous is not None else ""
            found.append(Problem(where, f"{_sequence_span(missing)} missing{after}, before {link.name}"))
        expected, previous = link.statement.sequence + 1, link
    sequences = [link.statement.sequence for link in unique]
    if sequences == list(range(1, len(unique) + 1)) and len(unique) == len(links):
        # A whole chain from the first statement: the domain's own check (links, periodic continuity).
        labels = {link.statement.statement_id: link.label for link in unique}
        for message in chain_problems([link.statement for link in unique]):
            statement_id = message.split(" ", 2)[1] if message.startswith("statement ") else ""
            found.append(Problem(labels.get(statement_id, where), message))
        return found
    # With gaps or duplicates: the links between the neighbours that are there.
    for earlier, later in itertools.pairwise(unique):
        consecutive = later.statement.sequence == earlier.statement.sequence + 1
        if consecutive and later.statement.previous_statement_hash != earlier.hash:
            found.append(Problem(later.label, f"does not chain to {earlier.name}"))
    first = unique[0] if unique else None
    if first is not None and first.statement.sequence == 1 and first.statement.previous_statement_hash != GENESIS_HASH:
        found.append(Problem(first.label, "is the first statement but does not start the chain"))
    return found


def verify_statement_files(
    paths: Sequence[str | Path], trusted_keys: Collection[Ed25519PublicKey] = ()
) -> VerifyReport:
    """Check the statements in ``paths`` (JSON files, or directories of them) and the XML and PDF beside them."""
    files = [_load(path) for path in expand(paths)]
    problems: list[Problem] = []
    notes: list[str] = []
    for f in files:
        if f.raw is not None:
            f.problems.extend(signature_problems(f.raw, f.signature, trusted_keys))
        if f.statement is not None:
            f.problems.extend(arithmetic_problems(f.statement))
            f.problems.extend(_reconciliation_problems(f.statement))
            _check_name(f)
        _check_xml(f)
        _check_pdf(f)
        problems.extend(Problem(f.label, message) for message in f.problems)
    accounts: dict[str, list[_Link]] = defaultdict(list)
    for f in files:
        if f.statement is not None and f.hash is not None:
            accounts[f.statement.account_id].append(_Link(f.label, f.statement, f.hash))
    for account, links in accounts.items():
        problems.extend(_chain_findings(account, links))
    keys = {f.key_id for f in files if f.key_id is not None}
    if not trusted_keys:
        if len(keys) > 1:
            by_key = defaultdict(list)
            for f in files:
                if f.key_id is not None and f.statement is not None:
                    by_key[f.key_id].append(f.statement.statement_id)
            listing = "; ".join(f"key {k}: {', '.join(ids)}" for k, ids in sorted(by_key.items()))
            problems.append(
                Problem("the statements", f"are signed by different keys ({listing}); pin the center's with --key")
            )
        elif keys:
            notes.append(
                f"signatures checked against the key the statements carry ({next(iter(keys))}); "
                "pass --key with the center's public key to check it is the center's"
            )
    if not files:
        problems.append(Problem("verify", "no statement files were given"))
    bad = {p.statement for p in problems}
    return VerifyReport(
        statements=tuple(
            CheckedStatement(
                path=f.path,
                statement_id=f.statement.statement_id if f.statement else None,
                account_id=f.statement.account_id if f.statement else None,
                sequence=f.statement.sequence if f.statement else None,
                statement_hash=f.hash,
                key_id=f.key_id,
                checked=tuple(f.checked),
                ok=not f.problems and f.label not in bad,
            )
            for f in files
        ),
        problems=tuple(problems),
        notes=tuple(notes),
    )
