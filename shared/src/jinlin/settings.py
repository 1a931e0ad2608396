"""Typed settings shared by every service; each service reads them under its own env prefix."""

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Subclass per service with ``model_config = SettingsConfigDict(env_prefix="JINLIN_COMPLAINTS_")``."""

    model_config = SettingsConfigDict(env_prefix="JINLIN_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/service.sqlite3"
    nats_url: str = "nats://127.0.0.1:14222"
    """One server, or a cluster's servers separated by commas (``nats://a:4222,nats://b:4222``)."""
    nats_user: str | None = None
    nats_password: str | None = None
    nats_creds: str | None = None
    """Path of an NKey seed file for the service's NATS user, when the server requires one."""
    host: str = "127.0.0.1"
    port: int = 8081
    log_format: Literal["json", "console", "auto"] = "auto"
    """``json`` (JSON lines), ``console`` (readable) or ``auto`` (console on a terminal, else JSON)."""
    log_level: str = "info"
    relay_enabled: bool = True
    """Take part in the store's relay leadership: the replica holding it relays, the others stand by."""
    consumers_enabled: bool = True

    @property
    def nats_servers(self) -> list[str]:
        """``nats_url`` as the list of servers to connect to (and fail over between)."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]
