"""Commands that installed packages add to ``jinlin``: click commands under the ``jinlin.cli`` entry-point group.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."jinlin.cli"]
    notary = "billing_escrow.statements.cli:notary"

and ``jinlin notary ...`` runs that click command (or group). The entry point's name is the command's name; a
dotted name adds the command to an existing group (``"audit.verify-export"`` is ``jinlin audit verify-export``). A
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
    loads: list[PluginLoad] = []
    for entry_point in found:
        full_name, source = entry_point.name, _source(entry_point)
        parent_name, _, name = full_name.rpartition(".")
        parent = group.commands.get(parent_name) if parent_name else group
        if not isinstance(parent, click.Group):
            loads.append(PluginLoad(full_name, source, f"there is no command group {parent_name!r} to add it to"))
            continue
        if name in parent.commands:
            loads.append(PluginLoad(full_name, source, f"the command name {full_name!r} is already taken"))
            continue
        group_for_this = parent
        try:
            command = entry_point.load()
        except Exception as exc:  # any import-time failure of someone else's package
            error = f"{type(exc).__name__}: {exc}"
            group_for_this.add_command(_unavailable(name, source, error), name)
            loads.append(PluginLoad(full_name, source, error))
            continue
        if not isinstance(command, click.Command):
            error = f"{entry_point.value} is a {type(command).__name__}, not a click command"
            group_for_this.add_command(_unavailable(name, source, error), name)
            loads.append(PluginLoad(full_name, source, error))
            continue
        group_for_this.add_command(command, name)
        loads.append(PluginLoad(full_name, source))
    return loads
