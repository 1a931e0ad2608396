"""``jinlin``'s plugin commands (``jinlin.cli.plugins``): the notary's commands arrive through an entry point, and a
broken or clashing plugin neither breaks ``jinlin`` nor replaces a built-in command."""

from importlib.metadata import EntryPoint

import click
from click.testing import CliRunner

from jinlin.cli.main import cli
from jinlin.cli.plugins import ENTRY_POINT_GROUP, load_plugins


def _group() -> click.Group:
    @click.group()
    def root() -> None:
        pass

    @root.command()
    def up() -> None:
        click.echo("built-in up")

    return root


def _entry_points(*pairs: tuple[str, str]) -> list[EntryPoint]:
    return [EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in pairs]


def test_the_notary_commands_are_installed_as_a_plugin() -> None:
    assert "notary" in cli.commands
    result = CliRunner().invoke(cli, ["notary", "--help"])
    assert result.exit_code == 0
    assert "pull" in result.output
    assert "verify" in result.output


def test_plugins_are_added_and_broken_ones_are_reported() -> None:
    root = _group()
    loads = load_plugins(
        root,
        discover=lambda group: _entry_points(
            ("notary", "billing_escrow.statements.cli:notary"),
            ("up", "billing_escrow.statements.cli:notary"),
            ("broken", "no_such_module_for_jinlin:command"),
            ("constant", "billing_escrow.statements.keys:KEY_ID_LENGTH"),
        ),
    )
    assert {load.name: load.error for load in loads} == {
        "notary": None,
        "up": "the command name 'up' is already taken",
        "broken": "ModuleNotFoundError: No module named 'no_such_module_for_jinlin'",
        "constant": "billing_escrow.statements.keys:KEY_ID_LENGTH is a int, not a click command",
    }
    runner = CliRunner()
    assert runner.invoke(root, ["up"]).output == "built-in up\n"  # never replaced
    listing = runner.invoke(root, ["--help"])
    assert listing.exit_code == 0
    assert "broken" in listing.output
    assert "unavailable" in listing.output
    broken = runner.invoke(root, ["broken", "--anything"])
    assert broken.exit_code == 1
    assert "the jinlin plugin 'broken' from no_such_module_for_jinlin:command could not be loaded" in broken.output
    assert runner.invoke(root, ["notary", "--help"]).exit_code == 0


def test_the_first_of_two_plugins_with_one_name_wins() -> None:
    root = _group()
    loads = load_plugins(
        root,
        discover=lambda group: _entry_points(
            ("notary", "billing_escrow.statements.cli:notary"),
            ("notary", "no_such_module_for_jinlin:command"),
        ),
    )
    assert [load.error for load in loads] == [None, "the command name 'notary' is already taken"]
    assert root.commands["notary"].name == "notary"
    assert isinstance(root.commands["notary"], click.Group)
