"""Everything the pages need, built once by the composition root and kept in ``app.state.console``."""

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from jinlin.store.store import EventStore
from staff_console.adapters.http.sessions import SessionStore
from staff_console.adapters.services import ServiceClient
from staff_console.application.accounts import AccountBook
from staff_console.application.live import LiveHub
from staff_console.settings import ConsoleSettings


@dataclass
class ConsoleContext:
    settings: ConsoleSettings
    store: EventStore
    accounts: AccountBook
    sessions: SessionStore
    services: ServiceClient
    hub: LiveHub
    signing_key: Ed25519PrivateKey
    category_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Category names from the complaints catalogue (``code → (zh, en)``), fetched when first needed."""

    @property
    def actor_names(self) -> dict[str, str]:
        """``staff:<id>`` → the person's name, for the accounts the console knows."""
        return {account.actor: account.display_name for account in self.accounts.all()}

    def reader(self) -> AsyncConnection:
        """``async with context.reader() as conn``: a read connection to the console's own database."""
        return self.store.engines.reader.connect()


def console_of(request: Request) -> ConsoleContext:
    context: ConsoleContext = request.app.state.console
    return context
