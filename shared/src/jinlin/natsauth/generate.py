"""``jinlin nats init-auth DIR``: a seed file per NATS user and the server's ``auth.conf`` include, in ``DIR``.

Idempotent: an existing seed is kept (so running it again after installing a service adds that service's user
and leaves every other key as it was); ``rotate`` names the users that get a new key. ``auth.conf`` is always
written anew from the keys and the current permission model.
"""

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinlin.natsauth.config import render_auth_config
from jinlin.natsauth.keys import SEED_FILE_SUFFIX, inbox_prefix, new_user_seed, public_key, read_seed, write_seed
from jinlin.natsauth.policy import Principal, principals
from jinlin.service import ServiceSpec

AUTH_CONFIG = "auth.conf"
DIRECTORY_MODE = 0o700


class UnknownUserError(ValueError):
    pass


@dataclass(frozen=True)
class NatsUser:
    principal: Principal
    seed_path: Path
    public_key: str
    status: str
    """``created``, ``kept`` or ``rotated`` by this run."""

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def inbox_prefix(self) -> str:
        return inbox_prefix(self.public_key)


@dataclass(frozen=True)
class AuthSetup:
    directory: Path
    config_path: Path
    users: tuple[NatsUser, ...]

    def user(self, name: str) -> NatsUser:
        for user in self.users:
            if user.name == name:
                return user
        raise UnknownUserError(f"no NATS user {name!r} (known: {', '.join(u.name for u in self.users)})")

    def seed_path(self, name: str) -> Path:
        return self.user(name).seed_path


def seed_path(directory: Path, name: str) -> Path:
    return directory / f"{name}{SEED_FILE_SUFFIX}"


def init_auth(directory: Path, specs: Sequence[ServiceSpec], rotate: Iterable[str] = ()) -> AuthSetup:
    """Create missing keys (and new ones for ``rotate``), then write ``auth.conf``. Returns what is there now."""
    wanted = principals(specs)
    names = {principal.name for principal in wanted}
    rotating = set(rotate)
    unknown = sorted(rotating - names)
    if unknown:
        raise UnknownUserError(f"cannot rotate {', '.join(unknown)}: the NATS users are {', '.join(sorted(names))}")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, DIRECTORY_MODE)
    users: list[NatsUser] = []
    for principal in wanted:
        path = seed_path(directory, principal.name)
        if principal.name in rotating:
            status = "rotated" if path.exists() else "created"
            seed = new_user_seed()
            write_seed(path, seed)
        elif path.exists():
            status, seed = "kept", read_seed(path)
        else:
            status, seed = "created", new_user_seed()
            write_seed(path, seed)
        users.append(NatsUser(principal, path, public_key(seed), status))
    config_path = directory / AUTH_CONFIG
    _write_atomically(config_path, render_auth_config([(user.principal, user.public_key) for user in users]))
    return AuthSetup(directory, config_path, tuple(users))


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w") as file:
        file.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
