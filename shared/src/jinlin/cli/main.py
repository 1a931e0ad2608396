"""``jinlin``: run the embedded stack and the operators' tools."""

import asyncio
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from jinlin.cli.dev_staff import dev_token
from jinlin.cli.layout import DEFAULT_HOST, DEFAULT_NATS_PORT, Layout
from jinlin.cli.plugins import load_plugins
from jinlin.cli.stack import Stack, StackError
from jinlin.events.registry import EventRegistry
from jinlin.logging import configure_logging
from jinlin.service import ServiceSpec, registered_services, service_named
from jinlin.store.engine import create_engines
from jinlin.store.store import EventStore


@click.group()
def cli() -> None:
    """jinlin (近邻): complaints, mediation and escrow for a red-property service center."""
    # The commands speak for themselves; library chatter (connects, disconnects) only when something is wrong.
    configure_logging("console", "error")


@cli.command()
def services() -> None:
    """List the registered services."""
    for spec in registered_services():
        click.echo(f"{spec.name:16} port {spec.default_port}  subjects {spec.subjects}  {spec.title}")


def _parse_ports(values: tuple[str, ...], specs: list[ServiceSpec]) -> dict[str, int]:
    ports: dict[str, int] = {}
    names = {spec.name for spec in specs}
    for value in values:
        name, _, port = value.partition("=")
        if name not in names or not port.isdigit():
            raise click.BadParameter(f"{value!r}: expected NAME=PORT with NAME one of {', '.join(sorted(names))}")
        ports[name] = int(port)
    return ports


@cli.command()
@click.option("--var-dir", type=click.Path(path_type=Path), envvar="JINLIN_VAR_DIR", default=Path("var"))
@click.option("--host", envvar="JINLIN_HOST", default=DEFAULT_HOST, show_default=True)
@click.option("--nats-port", type=int, envvar="JINLIN_NATS_PORT", default=DEFAULT_NATS_PORT, show_default=True)
@click.option("--port", "ports", multiple=True, metavar="NAME=PORT", help="Override a service's port.")
def up(var_dir: Path, host: str, nats_port: int, ports: tuple[str, ...]) -> None:
    """Start nats-server and every service on SQLite; stop them all on Ctrl-C or SIGTERM."""
    specs = registered_services()
    layout = Layout(var_dir=var_dir, host=host, nats_port=nats_port)
    stack = Stack(layout, specs, _parse_ports(ports, specs))
    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        click.echo(f"starting nats-server on {layout.nats_url} and {len(specs)} service(s); data in {var_dir}/")
        stack.start()
        stack.wait_ready()
        click.echo(f"NATS            {layout.nats_url}")
        if stack.auth is not None:
            provisioner = stack.auth.seed_path("provisioner")
            click.echo(f"NATS users      {stack.auth.directory}/ (admin key for tools: {provisioner})")
        for child in stack.services:
            click.echo(f"{child.spec.name:15} {child.url}  (log {child.log_path})")
        if stack.staff_file is not None:
            click.echo(f"staff tokens    {stack.staff_file} (development accounts, e.g. {dev_token('intake')})")
        click.echo("ready. Ctrl-C stops everything.")
        while not stopping:
            exited = stack.first_exited()
            if exited is not None:
                raise StackError(f"{exited.spec.name} stopped unexpectedly; see {exited.log_path}")
            time.sleep(0.3)
    except StackError as exc:
        click.echo(f"error: {exc}", err=True)
        stack.stop()
        sys.exit(1)
    click.echo("stopping…")
    stack.stop()
    click.echo("stopped.")


@cli.group()
def audit() -> None:
    """Tamper evidence."""


@audit.command("verify")
@click.argument("service", required=False)
@click.option("--database-url", help="The store to check (default: the service's setting or ./var file).")
@click.option("--nats-url", help="The NATS server holding the stream (default: the embedded stack's).")
@click.option(
    "--nats-creds",
    envvar="JINLIN_NATS_CREDS",
    type=click.Path(path_type=Path),
    help="NKey seed to read the streams with (default: the embedded stack's provisioner key, when it exists).",
)
@click.option("--no-jetstream", is_flag=True, help="Check the store's own chain only.")
def audit_verify(
    service: str | None, database_url: str | None, nats_url: str | None, nats_creds: Path | None, no_jetstream: bool
) -> None:
    """Recompute each store's hash chain and compare it with JetStream. Exit 1 naming the first bad position."""
    from jinlin.audit.verify import verify_service

    specs = [service_named(service)] if service else registered_services()
    layout = Layout.from_env()
    embedded_key = layout.var_dir / "nats-auth" / "provisioner.nk"
    creds = nats_creds or (embedded_key if embedded_key.exists() else None)
    failed = False
    for spec in specs:
        # The audit reads the log as it is stored; it needs no event models, read models or projections.
        store = EventStore(create_engines(database_url or layout.database_url(spec)), EventRegistry(spec.token))

        async def run(spec: ServiceSpec = spec, store: EventStore = store) -> None:
            nonlocal failed
            try:
                report = await verify_service(
                    spec.name,
                    store,
                    nats_url=None if no_jetstream else (nats_url or layout.service_nats_url(spec)),
                    stream=spec.stream_name,
                    subjects=spec.subjects,
                    creds=creds,
                )
            finally:
                await store.close()
            verdict = "OK" if report.ok else "FAILED"
            click.echo(
                f"{spec.name}: {verdict}: {report.store_events} events in store, {report.stream_messages} in JetStream"
            )
            for note in report.notes:
                click.echo(f"  note: {note}")
            for finding in report.findings:
                click.echo(f"  first bad {finding}")
            failed = failed or not report.ok

        asyncio.run(run())
    sys.exit(1 if failed else 0)


@cli.group(name="nats")
def nats_group() -> None:
    """NATS users and permissions."""


@nats_group.command("init-auth")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--rotate", "rotate", multiple=True, metavar="NAME", help="Give this user a new key (repeatable).")
def nats_init_auth(directory: Path, rotate: tuple[str, ...]) -> None:
    """Write a key per NATS user (DIR/<name>.nk) and the server include DIR/auth.conf.

    One user per registered service, the staff console, the notary and the provisioner. Existing keys are kept
    unless rotated; auth.conf is written anew. Reload the server afterwards (nats-server --signal reload).
    """
    from jinlin.natsauth.generate import UnknownUserError, init_auth

    try:
        setup = init_auth(directory, registered_services(), rotate)
    except UnknownUserError as exc:
        raise click.BadParameter(str(exc), param_hint="--rotate") from None
    for user in setup.users:
        click.echo(f"{user.name:15} {user.status:8} {user.public_key}  {user.seed_path}")
    click.echo(f"server include  {setup.config_path}")


@nats_group.command("provision")
@click.option("--nats-url", help="The server (default: the embedded stack's).")
@click.option(
    "--creds",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="JINLIN_NATS_CREDS",
    help="The provisioner's seed file (default: the embedded stack's, var/nats-auth/provisioner.nk).",
)
@click.option("--replicas", type=click.IntRange(1, 5), help="Copies of each stream in a cluster (default: unchanged).")
def nats_provision(nats_url: str | None, creds: Path | None, replicas: int | None) -> None:
    """Create or update every event stream of the contract and the dead-letter stream, as the provisioner."""
    from jinlin.cli.stack import NATS_AUTH_DIR
    from jinlin.messaging import connect_nats, ensure_deadletter_stream, ensure_stream
    from jinlin.natsauth.policy import PROVISIONER, event_streams

    layout = Layout.from_env()
    if creds is None and (default := layout.var_dir / NATS_AUTH_DIR / f"{PROVISIONER}.nk").exists():
        creds = default

    async def run() -> None:
        nc = await connect_nats(
            nats_url or layout.nats_url, name="jinlin-provision", creds=creds, first_connect_timeout=10
        )
        try:
            js = nc.jetstream()
            for token, stream in sorted(event_streams(registered_services()).items()):
                info = await ensure_stream(js, stream, f"jinlin.{token}.>", replicas=replicas)
                click.echo(f"{stream:12} {info.config.num_replicas} replica(s), {info.state.messages} messages")
            info = await ensure_deadletter_stream(js, replicas=replicas)
            click.echo(f"{info.config.name:12} {info.config.num_replicas} replica(s), {info.state.messages} messages")
        finally:
            await nc.close()

    try:
        asyncio.run(run())
    except TimeoutError as exc:
        raise click.ClickException(f"{exc} (is the server up, and --creds the provisioner's key?)") from None
    except Exception as exc:  # a refusal by the server: say which, without a traceback
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


@cli.group()
def projections() -> None:
    """Read models."""


@projections.command("rebuild")
@click.argument("service")
@click.option("--database-url", help="The store to rebuild (default: the service's setting or ./var file).")
def projections_rebuild(service: str, database_url: str | None) -> None:
    """Empty the service's read models and replay its whole log into them."""
    spec = service_named(service)
    store = _open_store(spec, database_url or Layout.from_env().database_url(spec))

    async def run() -> int:
        try:
            await store.create_schema()
            return await store.rebuild_projections()
        finally:
            await store.close()

    started = time.perf_counter()
    count = asyncio.run(run())
    elapsed = time.perf_counter() - started
    click.echo(f"{spec.name}: rebuilt {len(store.projections)} projection(s) from {count} events in {elapsed:.2f}s")


def _open_store(spec: ServiceSpec, database_url: str) -> EventStore:
    if spec.build_store is None:
        raise click.ClickException(f"{spec.name} has no event store")
    return spec.build_store(database_url)


load_plugins(cli)  # commands of installed packages (entry points "jinlin.cli"), e.g. `jinlin notary`


if __name__ == "__main__":
    cli()
