"""The console's settings, read from ``JINLIN_STAFF_CONSOLE_*`` environment variables.

The services the console calls are found, in order, from ``JINLIN_STAFF_CONSOLE_<SERVICE>_URL``, from the
service's own ``JINLIN_<SERVICE>_HOST``/``_PORT`` (which ``jinlin up`` hands to every child), or from its default
port on 127.0.0.1.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from jinlin.settings import ServiceSettings

DEFAULT_PORTS = {"complaints": 8081, "mediation": 8082, "billing-escrow": 8083}


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JINLIN_STAFF_CONSOLE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/staff-console.sqlite3"
    port: int = 8080
    relay_enabled: bool = False
    """The console appends no events, so there is nothing to relay (and its stream name is unused)."""

    complaints_url: str | None = None
    mediation_url: str | None = None
    escrow_url: str | None = None

    accounts_file: str | None = None
    """JSON list of console accounts: ``{"username", "staff_id", "display_name", "team", "password_hash"}``."""
    demo_accounts: bool = True
    """Seed one account per development staff member of ``jinlin up`` (``dev-<role>`` with its well-known token)."""
    secrets_dir: str | None = None
    """Where the session key and the evidence signing key live (default: beside the SQLite file, else ``var``)."""
    session_hours: float = 10.0
    secure_cookies: bool = False
    """Mark cookies ``Secure`` (behind HTTPS)."""
    escrow_sign_path: str = "/accounts/{account_id}/disbursements/{disbursement_id}/signatures"
    """The escrow API's co-signing route (body ``{"role": <signer role>}``), the one place to change if it moves."""
    complaints_stream: str = "COMPLAINTS"
    mediation_stream: str = "MEDIATION"
    escrow_stream: str = "ESCROW"

    def service_url(self, service: str, environ: Mapping[str, str] | None = None) -> str:
        """Base URL of ``complaints``, ``mediation`` or ``billing-escrow``."""
        environ = os.environ if environ is None else environ
        configured = {"complaints": self.complaints_url, "mediation": self.mediation_url}.get(service)
        if service == "billing-escrow":
            configured = self.escrow_url
        if configured:
            return configured.rstrip("/")
        prefix = "JINLIN_" + service.upper().replace("-", "_") + "_"
        host = environ.get(prefix + "HOST") or "127.0.0.1"
        port = environ.get(prefix + "PORT") or str(DEFAULT_PORTS[service])
        return f"http://{host}:{port}"

    def secrets_path(self) -> Path:
        if self.secrets_dir:
            return Path(self.secrets_dir)
        if self.database_url.startswith("sqlite") and ":///" in self.database_url:
            return Path(self.database_url.split(":///", 1)[1]).parent
        return Path("var")
