"""``jinlin notary``: the notary office's side of the escrow statements (a ``jinlin.cli`` plugin).

- ``jinlin notary pull --to DIR [--nats-url URL] [--creds notary.nk]``: fetch the statements issued since the last
  pull (the notary's NATS user may read ``jinlin.escrow.statement.>`` and nothing else);
- ``jinlin notary verify FILE|DIR... [--key center.pub.pem]``: check them offline; exit 1 naming each problem;
- ``jinlin notary public-key KEYFILE``: print the public key (PEM) and key id of the center's signing key, the file
  the notary pins with ``--key``.

Heavy imports (the domain, lxml, reportlab, nats) happen inside the commands, so that loading the plugin costs
nothing to the other ``jinlin`` commands.
"""

import sys
from pathlib import Path

import click


@click.group()
def notary() -> None:
    """The notary office: pull the escrow statements and verify them offline."""


@notary.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--key",
    "keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The center's public key (PEM or hex) to require; repeat it for a rotated key.",
)
def verify(files: tuple[Path, ...], keys: tuple[Path, ...]) -> None:
    """Check signed statements (JSON, with the XML and PDF beside them): signature, chain, arithmetic, XML = JSON.

    FILES are the statements' .json files in chain order, or directories of them (as `pull` writes them).
    """
    from billing_escrow.statements.keys import SigningKeyError, load_public_key
    from billing_escrow.statements.verify import verify_statement_files

    try:
        trusted = [load_public_key(path) for path in keys]
    except SigningKeyError as exc:
        raise click.BadParameter(str(exc), param_hint="--key") from None
    report = verify_statement_files(files, trusted)
    for checked in report.statements:
        if checked.statement_id is None:
            continue
        mark = "ok  " if checked.ok else "BAD "
        click.echo(
            f"{mark} {checked.account_id} #{checked.sequence} {checked.statement_id}  "
            f"hash {(checked.statement_hash or '')[:16]}  key {checked.key_id or '-'}  ({', '.join(checked.checked)})"
        )
    for note in report.notes:
        click.echo(f"note: {note}")
    if report.ok:
        click.echo(f"all good: {len(report.statements)} statement(s)")
        return
    for problem in report.problems:
        click.echo(f"problem: {problem}")
    click.echo(f"FAILED: {len(report.problems)} problem(s) in {len(report.statements)} statement file(s)")
    sys.exit(1)


def _default_nats_url() -> str:
    from jinlin.cli.layout import Layout

    return Layout.from_env().nats_url


@notary.command("pull")
@click.option("--to", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--nats-url", envvar="JINLIN_NOTARY_NATS_URL", help="Default: the embedded stack's (JINLIN_HOST, JINLIN_NATS_PORT)."
)
@click.option(
    "--creds",
    envvar="JINLIN_NOTARY_CREDS",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The notary user's NKey seed file (notary.nk from `jinlin nats init-auth`) or a .creds file.",
)
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait for the server.")
def pull(directory: Path, nats_url: str | None, creds: Path | None, timeout: float) -> None:
    """Fetch the statements issued since the last pull into DIR/<account>/ (JSON, XML, PDF)."""
    import asyncio

    from billing_escrow.statements.pull import PullError, pull_statements, summary_lines

    url = nats_url or _default_nats_url()
    try:
        report = asyncio.run(pull_statements(url, directory, creds=creds, wait=timeout))
    except PullError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for line in summary_lines(report, directory):
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@notary.command("public-key")
@click.argument("key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def public_key(key_file: Path) -> None:
    """Print the public key (PEM) and key id of a signing key or public key file."""
    from billing_escrow.statements.keys import SigningKeyError, key_id, load_public_key, public_key_pem

    try:
        key = load_public_key(key_file)
    except SigningKeyError as exc:
        raise click.BadParameter(str(exc), param_hint="KEY_FILE") from None
    click.echo(public_key_pem(key), nl=False)
    click.echo(f"key id {key_id(key)}", err=True)
