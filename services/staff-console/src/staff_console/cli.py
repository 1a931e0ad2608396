"""``jinlin audit verify-export FILE``: check a case's signed evidence file offline.

Registered under the ``jinlin.cli`` entry-point group; the ``jinlin`` command adds it to its ``audit`` group.
Exit 0 and a summary when everything holds; exit 1 naming the first problem (and listing the others).
"""

import base64
import json
import sys
from pathlib import Path

import click

from staff_console.domain.evidence import verify_evidence


def _trusted_key(value: str) -> bytes:
    """A base64 Ed25519 public key, a file holding one, or the JSON of ``/evidence/public-key``."""
    path = Path(value)
    text = path.read_text().strip() if path.is_file() else value.strip()
    if text.startswith("{"):
        text = str(json.loads(text).get("public_key", ""))
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise click.BadParameter("not a base64 Ed25519 public key", param_hint="--public-key") from None
    if len(raw) != 32:
        raise click.BadParameter("an Ed25519 public key is 32 bytes", param_hint="--public-key")
    return raw


@click.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="KEY",
    help="Require this console key (base64, a file, or the JSON of /evidence/public-key); repeatable.",
)
def verify_export(file: Path, public_keys: tuple[str, ...]) -> None:
    """Check a case's evidence file from the staff console: signature, every event's hash, the chain links and
    the causal order. Exit 1 naming the first problem."""
    try:
        document = json.loads(file.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        click.echo(f"{file}: FAILED: not JSON ({exc})", err=True)
        sys.exit(1)
    trusted = [_trusted_key(key) for key in public_keys] or None
    report = verify_evidence(document, trusted)
    if not report.ok:
        click.echo(f"{file}: FAILED: {report.problems[0]}", err=True)
        for problem in report.problems[1:]:
            click.echo(f"  also: {problem}", err=True)
        sys.exit(1)
    services = ", ".join(report.services) or "none"
    pinned = "" if trusted else " (key not pinned: pass --public-key to require the console's key)"
    click.echo(
        f"{file}: OK: case {report.case_id}, {report.events} events of {services}, "
        f"hashes, chain links and causal order hold; signed by key {report.key_id}{pinned}"
    )
