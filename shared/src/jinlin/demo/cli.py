"""``jinlin demo``: play the Jinyuan Huating handover against the running stack, or (``--up``) start the stack first.

Registered as a plugin of ``jinlin`` (entry point ``demo`` in the ``jinlin.cli`` group). It imports only click at
module level: ``jinlin`` loads every plugin on each start.
"""

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from jinlin.cli.layout import Layout
    from jinlin.cli.stack import Stack
    from jinlin.demo.client import Endpoints
    from jinlin.demo.script import DemoResult

DEFAULT_PORTS = {"staff-console": 8080, "complaints": 8081, "mediation": 8082, "billing-escrow": 8083}


def _tokens(overrides: tuple[str, ...]) -> dict[str, str]:
    from jinlin.demo.staff import demo_tokens

    tokens = demo_tokens()
    for value in overrides:
        who, _, token = value.partition("=")
        if not who or not token:
            raise click.BadParameter(f"{value!r}: expected WHO=TOKEN (a role, or finance-2)", param_hint="--token")
        tokens[who] = token
    return tokens


def _ports(values: tuple[str, ...]) -> dict[str, int]:
    """A service's port: ``--port NAME=PORT``, else ``JINLIN_<SERVICE>_PORT`` (as ``jinlin up``), else its default."""
    ports = {
        name: int(os.environ.get(f"JINLIN_{name.upper().replace('-', '_')}_PORT", default))
        for name, default in DEFAULT_PORTS.items()
    }
    for value in values:
        name, _, port = value.partition("=")
        if name not in ports or not port.isdigit():
            raise click.BadParameter(
                f"{value!r}: expected NAME=PORT, NAME one of {', '.join(ports)}", param_hint="--port"
            )
        ports[name] = int(port)
    return ports


def _report(result: "DemoResult") -> None:
    total = result.stats.total()
    click.echo("")
    click.echo(f"{'phase':12} {'commands':>9} {'replayed':>9} {'skipped':>8} {'reads':>6} {'waiting':>8} {'time':>7}")
    for name, tally in result.stats.phases.items():
        if name == "setup":
            continue
        click.echo(
            f"{name:12} {tally.commands:9} {tally.replayed:9} {tally.skipped:8} {tally.reads:6} "
            f"{tally.waited:7.1f}s {tally.seconds:6.1f}s"
        )
    click.echo(
        f"{'total':12} {total.commands:9} {total.replayed:9} {total.skipped:8} {total.reads:6} "
        f"{total.waited:7.1f}s {result.seconds:6.1f}s"
    )
    again = " (played before: nothing new)" if total.commands == total.replayed else ""
    click.echo("")
    click.echo(f"case      {result.case_id}{again}")
    click.echo(f"timeline  {result.timeline_url}")
    click.echo("          (sign in as auditor / auditor-jinlin, or any demo account: <role> / <role>-jinlin)")


def _play(endpoints: "Endpoints", tokens: dict[str, str], households: int, wait: float) -> "DemoResult":
    from jinlin.demo.client import DemoError
    from jinlin.demo.script import play

    try:
        return play(endpoints, tokens, households=households, say=click.echo, wait_timeout=wait)
    except DemoError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _all_ready(endpoints: "Endpoints") -> bool:
    import httpx

    from jinlin.demo.client import SERVICES

    try:
        with httpx.Client(timeout=2.0) as client:
            return all(client.get(f"{endpoints.of(name)}/readyz").status_code == 200 for name in SERVICES)
    except httpx.HTTPError:
        return False


def _stack(layout: "Layout", ports: dict[str, int]) -> "Stack":
    """The stack of ``jinlin up``, its staff directory with a second finance desk member (unless one is configured)."""
    from jinlin.cli.stack import Stack
    from jinlin.demo.staff import write_demo_staff
    from jinlin.service import registered_services
    from jinlin.web.staff import STAFF_TOKENS_ENV, STAFF_TOKENS_FILE_ENV

    if not (os.environ.get(STAFF_TOKENS_FILE_ENV) or os.environ.get(STAFF_TOKENS_ENV)):
        # jinlin up's development staff, and a second finance desk member to co-sign the payment out
        os.environ[STAFF_TOKENS_FILE_ENV] = str(write_demo_staff(layout.var_dir).resolve())
    specs = registered_services()
    return Stack(layout, specs, {spec.name: ports[spec.name] for spec in specs if spec.name in ports})


@click.command()
@click.option(
    "--households",
    type=click.IntRange(1, 5000),
    envvar="JINLIN_DEMO_HOUSEHOLDS",
    default=320,
    show_default=True,
    help="Households in the compound (fewer play faster).",
)
@click.option(
    "--up",
    "start",
    is_flag=True,
    help="Start the stack first (as `jinlin up`, with a second finance member) and keep it running until Ctrl-C; "
    "if it already runs, only play.",
)
@click.option(
    "--var-dir",
    type=click.Path(path_type=Path),
    envvar="JINLIN_VAR_DIR",
    default=Path("var"),
    show_default=True,
    help="With --up: where the stack keeps its data.",
)
@click.option("--host", envvar="JINLIN_HOST", default="127.0.0.1", show_default=True, help="Where the services are.")
@click.option(
    "--nats-port", type=int, envvar="JINLIN_NATS_PORT", default=14222, show_default=True, help="With --up: NATS's port."
)
@click.option("--port", "ports", multiple=True, metavar="NAME=PORT", help="A service's port (default: its own).")
@click.option("--token", "tokens", multiple=True, metavar="WHO=TOKEN", help="A staff token (a role, or finance-2).")
@click.option("--wait", type=float, default=60.0, show_default=True, help="Seconds to wait for another service.")
def demo(
    households: int,
    start: bool,
    var_dir: Path,
    host: str,
    nats_port: int,
    ports: tuple[str, ...],
    tokens: tuple[str, ...],
    wait: float,
) -> None:
    """Play the Jinyuan Huating (金园华庭) direct-supply electricity handover through the services' HTTP APIs.

    A dozen residents' complaints linked into one case and escalated; a consultation meeting and an agreement whose
    terms have owners; escrow accounts at the notary office, payments in, the arrears paid with the notary's
    co-signature; meters and switches household by household; the complaints called back; a statement. Prints the
    case id and the console URL of its timeline. Playing it again duplicates nothing.
    """
    from jinlin.cli.layout import Layout
    from jinlin.cli.stack import StackError
    from jinlin.demo.client import Endpoints

    staff = _tokens(tokens)
    service_ports = _ports(ports)
    endpoints = Endpoints.on(host, service_ports)
    if not start:
        result = _play(endpoints, staff, households, wait)
        _report(result)
        return
    if _all_ready(endpoints):
        click.echo("the stack is already running: playing the story against it")
        result = _play(endpoints, staff, households, wait)
        _report(result)
        click.echo("The stack keeps running; stop it where it was started (Ctrl-C in the terminal of `jinlin up`).")
        return
    stopping = playing = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if playing:  # while the story plays, Ctrl-C (or SIGTERM) ends it; the stack is stopped below
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    layout = Layout(var_dir=var_dir, host=host, nats_port=nats_port)
    stack = _stack(layout, service_ports)
    try:
        playing = True
        click.echo(f"starting nats-server on {layout.nats_url} and {len(stack.specs)} service(s); data in {var_dir}/")
        stack.start()
        stack.wait_ready()
        for child in stack.services:
            click.echo(f"{child.spec.name:15} {child.url}  (log {child.log_path})")
        result = _play(endpoints, staff, households, wait)
        playing = False
        _report(result)
        click.echo("The stack keeps running (`jinlin demo` again replays nothing new). Ctrl-C stops it.")
        while not stopping:
            exited = stack.first_exited()
            if exited is not None:
                raise StackError(f"{exited.spec.name} stopped unexpectedly; see {exited.log_path}")
            time.sleep(0.3)
    except StackError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted (played again, the story resumes where it stopped)", err=True)
        sys.exit(130)
    finally:
        playing = False
        click.echo("stopping…")
        stack.stop()
        click.echo("stopped.")
