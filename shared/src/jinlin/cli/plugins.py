"""Commands that installed packages add to ``jinlin``: click commands under the ``jinlin.cli`` entry-point group.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."jinlin.cli"]
    notary = "billing_escrow.statements.cli:notary"

and ``jinlin notary ...`` runs that click command (or group). The entry point's name is the command's name. A
plugin never replaces a built-in command, and the first of two plugins with the same name wins (in the order of
their distributions' names). A plugin that fails to load does not break ``jinlin``: its name is listed with the
error, and running it prints the error and exits 1. Plugins should import little at module level; ``jinlin``
loads every plugin on each start.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Final

import click

ENTRY_POINT_GROUP: Final = "jinlin.cli"


@dataclass(frozen=True)
class PluginLoad:
    name: str
    source: str
    """``module:attribute``, and the distribution it came from when known."""
    error: str | None = None
    """Why it was not added: an import error, not a click command, a name already taken."""


def _source(entry_point: EntryPoint) -> str:
    dist = entry_point.dist.name if entry_point.dist is not None else None
    return f"{entry_point.value} ({dist})" if dist else entry_point.value


def _unavailable(name: str, source: str, error: str) -> click.Command:
    def fail() -> None:
        click.echo(f"error: the jinlin plugin {name!r} from {source} could not be loaded: {error}", err=True)
        sys.exit(1)

    return click.Command(
        name,
        callback=fail,
        help=f"(unavailable: {error})",
        short_help=f"(unavailable: {error})"[:80],
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )


def load_plugins(
    group: click.Group,
    *,
    entry_point_group: str = ENTRY_POINT_GROUP,
    discover: Callable[[str], list[EntryPoint]] | None = None,
) -> list[PluginLoad]:
    """Add each plugin command to ``group``; returns what happened to each entry point."""
    found = (discover or (lambda g: list(entry_points(group=g))))(entry_point_group)
    found.sort(key=lambda ep: ((ep.dist.name if ep.dist is not None else ""), ep.name))
    taken = set(group.commands)
    loads: list[PluginLoad] = []
    for entry_point in found:
        name, source = entry_point.name, _source(entry_point)
        if name in taken:
            loads.append(PluginLoad(name, source, f"the command name {name!r} is already taken"))
            continue
        taken.add(name)
        try:
            command = entry_point.load()
        except Exception as exc:  # any import-time failure of someone else's package
            error = f"{type(exc).__name__}: {exc}"
            group.add_command(_unavailable(name, source, error), name)
            loads.append(PluginLoad(name, source, error))
            continue
        if not isinstance(command, click.Command):
            error = f"{entry_point.value} is a {type(command).__name__}, not a click command"
            group.add_command(_unavailable(name, source, error), name)
            loads.append(PluginLoad(name, source, error))
            continue
        group.add_command(command, name)
        loads.append(PluginLoad(name, source))
    return loads
