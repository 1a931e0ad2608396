"""What the use cases need, assembled once by the composition root (``bootstrap``)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from billing_escrow.application.account_views import ACCOUNTS
from billing_escrow.application.handover_views import HANDOVERS
from billing_escrow.application.household_views import HOUSEHOLDS
from billing_escrow.application.read_model import ReadModels
from billing_escrow.application.repositories import Repository
from billing_escrow.application.statement_views import STATEMENTS
from billing_escrow.domain import AccountState, HandoverState, HouseholdState, StatementChainState
from jinlin.store import EventStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class EscrowContext:
    store: EventStore
    clock: Callable[[], datetime] = utc_now
    signing_key_file: Path = Path("var/billing-escrow-statement-key.pem")
    """Where the center's Ed25519 statement signing key is kept (created on first use)."""
    read_models: ReadModels = field(init=False)
    accounts: Repository[AccountState] = field(init=False)
    households: Repository[HouseholdState] = field(init=False)
    handovers: Repository[HandoverState] = field(init=False)
    statements: Repository[StatementChainState] = field(init=False)
    _signing_key: "Ed25519PrivateKey | None" = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.read_models = ReadModels.of(self.store)
        self.accounts = Repository(ACCOUNTS, self.read_models.accounts.cache, "escrow account")
        self.households = Repository(HOUSEHOLDS, self.read_models.households.cache, "household")
        self.handovers = Repository(HANDOVERS, self.read_models.handovers.cache, "handover of compound")
        self.statements = Repository(STATEMENTS, self.read_models.statements.cache, "statements of account")

    def signing_key(self) -> "Ed25519PrivateKey":
        """The key the center signs statements with, loaded (or created) when the first statement needs it."""
        if self._signing_key is None:
            from billing_escrow.statements.keys import load_or_create_signing_key

            self._signing_key = load_or_create_signing_key(self.signing_key_file)
        return self._signing_key
