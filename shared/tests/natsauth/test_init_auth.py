"""`jinlin nats init-auth DIR`: a key per user in files only their owner reads, kept across runs unless rotated,
and an `auth.conf` that the server accepts and that names every user."""

import stat
import subprocess

import pytest
from click.testing import CliRunner

from jinlin.cli.main import cli
from jinlin.natsauth.config import render_user
from jinlin.natsauth.generate import UnknownUserError, init_auth
from jinlin.natsauth.keys import SeedFileError, public_key
from jinlin.natsauth.policy import CONSOLE, DECLARED_CONSUMERS, NOTARY, PROVISIONER, principals
from jinlin.runtime.nats_server import nats_server_binary
from jinlin.service import ServiceSpec, registered_services

USERS = ["complaints", "mediation", "billing-escrow", CONSOLE, NOTARY, PROVISIONER]


def test_every_user_gets_a_seed_only_its_owner_can_read(tmp_path, specs) -> None:
    setup = init_auth(tmp_path / "auth", specs)
    assert [user.name for user in setup.users] == USERS
    assert stat.S_IMODE((tmp_path / "auth").stat().st_mode) == 0o700
    config = setup.config_path.read_text()
    for user in setup.users:
        assert user.seed_path == tmp_path / "auth" / f"{user.name}.nk"
        assert stat.S_IMODE(user.seed_path.stat().st_mode) == 0o600
        assert public_key(user.seed_path.read_text()) == user.public_key
        assert f'nkey: "{user.public_key}"' in config
        assert user.status == "created"
        assert user.seed_path.read_text().strip() not in config, f"{user.name}'s seed leaked into auth.conf"


def test_running_again_keeps_every_key_and_writes_the_same_config(tmp_path, specs) -> None:
    first = init_auth(tmp_path, specs)
    second = init_auth(tmp_path, specs)
    assert [u.public_key for u in second.users] == [u.public_key for u in first.users]
    assert {u.status for u in second.users} == {"kept"}
    assert second.config_path.read_text() == first.config_path.read_text()


def test_rotating_replaces_only_the_named_keys(tmp_path, specs) -> None:
    before = {u.name: u.public_key for u in init_auth(tmp_path, specs).users}
    after = init_auth(tmp_path, specs, rotate=["notary", "complaints"])
    changed = {u.name for u in after.users if u.public_key != before[u.name]}
    assert changed == {"notary", "complaints"}
    assert after.user("notary").status == "rotated"
    assert before["notary"] not in after.config_path.read_text()
    with pytest.raises(UnknownUserError, match="bogus"):
        init_auth(tmp_path, specs, rotate=["bogus"])


def test_a_service_installed_later_gets_its_user_and_the_others_keep_theirs(tmp_path, specs) -> None:
    before = {u.name: u.public_key for u in init_auth(tmp_path, specs[:1]).users}
    assert "mediation" not in before
    after = init_auth(tmp_path, specs)
    assert after.user("mediation").status == "created"
    assert {name: after.user(name).public_key for name in before} == before


def test_a_damaged_seed_file_is_named_not_silently_replaced(tmp_path, specs) -> None:
    init_auth(tmp_path, specs)
    (tmp_path / "notary.nk").write_text("not a seed\n")
    with pytest.raises(SeedFileError, match=r"notary\.nk"):
        init_auth(tmp_path, specs)
    assert (tmp_path / "notary.nk").read_text() == "not a seed\n"


def test_a_service_may_not_take_a_reserved_users_name(tmp_path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        init_auth(tmp_path, [ServiceSpec(name="notary", token="notary", default_port=9000, app_factory="x:y")])


def test_the_server_accepts_the_generated_config(tmp_path, specs) -> None:
    setup = init_auth(tmp_path / "auth", specs)
    main = tmp_path / "server.conf"
    main.write_text('port: -1\ninclude "auth/auth.conf"\n')
    checked = subprocess.run([nats_server_binary(), "-t", "-c", str(main)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert setup.config_path.exists()


def test_a_user_without_publish_grants_is_denied_everything_not_left_open(specs) -> None:
    # The server reads an empty allow list as "no restriction"; a user with nothing to publish must get a deny.
    notary = next(p for p in principals(specs) if p.name == NOTARY)
    bare = type(notary)(name="reader", kind="notary", summary="", publish=(), consumers=())
    assert 'publish: { deny: [">"] }' in render_user(bare, "UKEY")


def test_every_registered_service_has_a_user_and_its_declared_consumers_exist(tmp_path) -> None:
    registered = registered_services()
    setup = init_auth(tmp_path, registered)
    for spec in registered:
        assert setup.user(spec.name).principal.kind in {"service", "console"}
    assert set(DECLARED_CONSUMERS) <= {spec.name for spec in registered} | {CONSOLE, "mediation", "billing-escrow"}


def test_the_command_line_writes_the_keys_and_refuses_an_unknown_rotation(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["nats", "init-auth", str(tmp_path / "auth")])
    assert result.exit_code == 0, result.output
    assert "provisioner" in result.output
    assert (tmp_path / "auth" / "auth.conf").exists()
    result = runner.invoke(cli, ["nats", "init-auth", str(tmp_path / "auth"), "--rotate", "nobody"])
    assert result.exit_code == 2
    assert "nobody" in result.output
