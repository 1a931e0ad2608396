"""``jinlin console``: the operator's tools for the staff console (a ``jinlin.cli`` entry point).

``jinlin console reconsume`` makes the console read every service's stream again from the start. (``jinlin
projections rebuild staff-console`` is the lighter one: it folds the views again from the events the console
already holds, without NATS and while the console runs.) Heavy imports wait until a command runs: ``jinlin`` loads
every plugin on each start.
"""

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from staff_console.durables import Durable

NATS_HINT = "is the server up, and --nats-creds the provisioner's key?"


@click.group("console")
def console() -> None:
    """The staff console's read models."""


@console.command("reconsume")
@click.option("--database-url", help="The console's database (default: its setting, else the ./var file).")
@click.option("--nats-url", help="The NATS server holding the streams (default: the console's, else the embedded).")
@click.option(
    "--nats-creds",
    envvar="JINLIN_NATS_CREDS",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The provisioner's seed file (default: the embedded stack's, var/nats-auth/provisioner.nk, when it exists).",
)
def reconsume(database_url: str | None, nats_url: str | None, nats_creds: Path | None) -> None:
    """Forget what the console received and read every stream again from its first event.

    Stop every console replica first (the command refuses while one is reading). It deletes the console's durable
    consumers in JetStream, as the provisioner, then empties the console's event log, its views and its consumers'
    processed-message claims (sessions stay). On its next start the console creates its consumers again and reads
    the streams from the beginning.
    """
    from jinlin.cli.layout import Layout
    from jinlin.cli.stack import NATS_AUTH_DIR
    from jinlin.natsauth.policy import PROVISIONER
    from staff_console.bootstrap import SPEC
    from staff_console.durables import console_durables
    from staff_console.settings import ConsoleSettings

    layout = Layout.from_env()
    embedded_key = layout.var_dir / NATS_AUTH_DIR / f"{PROVISIONER}.nk"
    durables = console_durables(ConsoleSettings())
    deleted, forgotten = asyncio.run(
        _reconsume(
            database_url or layout.database_url(SPEC),
            nats_url or layout.service_nats_url(SPEC),
            nats_creds or (embedded_key if embedded_key.exists() else None),
            durables,
        )
    )
    untouched = sorted({durable.name for durable in durables} - set(deleted))
    reset = ", ".join(deleted) or "none"
    click.echo(f"{SPEC.name}: consumers reset: {reset}" + (f" (absent: {', '.join(untouched)})" if untouched else ""))
    click.echo(f"{SPEC.name}: forgot {forgotten} received events, the views built from them and the claims")
    streams = ", ".join(durable.stream for durable in durables)
    click.echo(f"{SPEC.name}: start the console: it reads {streams} again from the first event")


async def _reconsume(
    database_url: str, nats_url: str, creds: Path | None, durables: Sequence["Durable"]
) -> tuple[list[str], int]:
    from jinlin.messaging import connect_nats
    from staff_console.adapters.jetstream import consumers_in_use, delete_consumers
    from staff_console.bootstrap import build_store

    store = build_store(database_url)
    try:
        # The database first: one that cannot be reached must fail the command before any consumer is reset.
        await store.create_schema()
        try:
            nc = await connect_nats(nats_url, name="jinlin-console-reconsume", creds=creds, first_connect_timeout=10)
        except TimeoutError as exc:
            raise click.ClickException(f"{exc} ({NATS_HINT})") from None
        try:
            js = nc.jetstream()
            reading = await consumers_in_use(js, durables)
            if reading:
                raise click.ClickException(
                    f"a running console reads through {', '.join(reading)}: stop every console replica, then run "
                    "this again"
                )
            # The consumers before the database: should the database step fail, a console started meanwhile
            # reads every stream again and its claims skip what it holds, so nothing is lost or doubled.
            deleted = await delete_consumers(js, durables)
        except click.ClickException:
            raise
        except Exception as exc:  # a refusal or silence of the server: say which, without a traceback
            raise click.ClickException(f"{type(exc).__name__}: {exc} ({NATS_HINT})") from None
        finally:
            await nc.close()
        forgotten = await store.forget_received([durable.name for durable in durables])
    finally:
        await store.close()
    return deleted, forgotten
