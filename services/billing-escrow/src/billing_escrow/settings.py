"""The billing-escrow service's settings, read from ``JINLIN_BILLING_ESCROW_*`` environment variables."""

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from jinlin.settings import ServiceSettings


def _default_key_file() -> str:
    # Beside the embedded stack's databases (``jinlin up --var-dir``), else under ./var like the default database.
    return str(Path(os.environ.get("JINLIN_VAR_DIR", "var")) / "billing-escrow-statement-key.pem")


class EscrowSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JINLIN_BILLING_ESCROW_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/billing-escrow.sqlite3"
    port: int = 8083
    expiry_check_interval: float = 30.0
    """Seconds between two passes of the disbursement expiry watcher."""
    statement_signing_key_file: str = Field(default_factory=_default_key_file)
    """The center's Ed25519 key that signs the notary's statements (PEM, created with mode 0600 on first use)."""
