"""Console accounts: who may sign in, their password hash, and the service credential they act with.

Two sources, one shape:

- the accounts file (``JINLIN_STAFF_CONSOLE_ACCOUNTS_FILE``), a JSON list of
  ``{"username", "staff_id", "display_name", "team", "password_hash"}`` (hash from
  ``python -m staff_console.passwords``);
- the development accounts of ``jinlin up``: for every staff member ``dev-<role>`` whose token is the well-known
  development token, an account ``<role>`` with the password ``<role>-jinlin`` (a real deployment has no such
  staff, so it gets no such account).

Roles and the service token of an account come from the staff tokens file the services themselves use
(``JINLIN_STAFF_TOKENS_FILE``), matched by ``staff_id``: the console never grants a role a service would not.
An entry that holds only ``token_sha256`` lets its person sign in and read, not act (the console has no token
to send).
"""

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from jinlin.cli.dev_staff import DEV_ROLES, dev_token
from jinlin.web.staff import STAFF_TOKENS_ENV, STAFF_TOKENS_FILE_ENV, Role, StaffEntry
from staff_console.domain.passwords import DUMMY_HASH, check_password, hash_password

DEMO_NAMES = {
    "intake": "李敏",
    "handler": "王强",
    "mediator": "陈静",
    "finance": "赵磊",
    "supervisor": "刘洋",
    "notary": "孙悦",
    "auditor": "周衡",
}
DESK_TEAM = "center-desk"
DESK_ROLES = frozenset({"intake", "handler", "supervisor"})


def demo_password(role: str) -> str:
    return f"{role}-jinlin"


class AccountEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    staff_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    display_name: str = Field(min_length=1, max_length=100)
    team: str | None = Field(default=None, max_length=100)
    password_hash: str = Field(pattern=r"^scrypt\$")


_ACCOUNT_ENTRIES = TypeAdapter(list[AccountEntry])
_STAFF_ENTRIES = TypeAdapter(list[StaffEntry])


@dataclass(frozen=True)
class Account:
    username: str
    staff_id: str
    display_name: str
    team: str | None
    password_hash: str
    roles: frozenset[Role]
    service_token: str | None

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"


class AccountBook:
    def __init__(self, accounts: Iterable[Account]) -> None:
        self._accounts = {account.username: account for account in accounts}

    def __len__(self) -> int:
        return len(self._accounts)

    def get(self, username: str) -> Account | None:
        return self._accounts.get(username)

    def authenticate(self, username: str, password: str) -> Account | None:
        account = self._accounts.get(username)
        # A missing user costs the same scrypt as a wrong password: timing tells nothing.
        matches = check_password(password, account.password_hash if account else DUMMY_HASH)
        return account if account is not None and matches else None

    def teammates(self, account: Account) -> frozenset[str]:
        """Staff ids (and the team's own id) whose complaints are "my team's"."""
        if account.team is None:
            return frozenset({account.staff_id})
        same = {other.staff_id for other in self._accounts.values() if other.team == account.team}
        return frozenset(same | {account.team})

    def all(self) -> list[Account]:
        return list(self._accounts.values())


def staff_entries(environ: Mapping[str, str] | None = None) -> list[StaffEntry]:
    environ = os.environ if environ is None else environ
    if path := environ.get(STAFF_TOKENS_FILE_ENV):
        return _STAFF_ENTRIES.validate_json(Path(path).read_bytes())
    if inline := environ.get(STAFF_TOKENS_ENV):
        return _STAFF_ENTRIES.validate_json(inline)
    return []


def _demo_entries(staff: Iterable[StaffEntry]) -> list[AccountEntry]:
    entries = []
    for entry in staff:
        role = entry.id.removeprefix("dev-")
        if role in DEV_ROLES and entry.id == f"dev-{role}" and entry.token == dev_token(role):
            entries.append(
                AccountEntry(
                    username=role,
                    staff_id=entry.id,
                    display_name=DEMO_NAMES.get(role, role),
                    team=DESK_TEAM if role in DESK_ROLES else None,
                    password_hash=hash_password(demo_password(role)),
                )
            )
    return entries


def load_accounts(accounts_file: str | None, *, demo: bool, environ: Mapping[str, str] | None = None) -> AccountBook:
    staff = staff_entries(environ)
    by_id = {entry.id: entry for entry in staff}
    entries = _ACCOUNT_ENTRIES.validate_json(Path(accounts_file).read_bytes()) if accounts_file else []
    if demo:
        configured = {entry.username for entry in entries}
        entries += [entry for entry in _demo_entries(staff) if entry.username not in configured]
    accounts = []
    for entry in entries:
        credential = by_id.get(entry.staff_id)
        if credential is None:
            continue  # no roles anywhere: such a person has nothing to do here
        accounts.append(
            Account(
                username=entry.username,
                staff_id=entry.staff_id,
                display_name=entry.display_name,
                team=entry.team,
                password_hash=entry.password_hash,
                roles=frozenset(credential.roles),
                service_token=credential.token,
            )
        )
    return AccountBook(accounts)
