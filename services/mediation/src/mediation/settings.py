"""The mediation service's settings, read from ``JINLIN_MEDIATION_*`` environment variables."""

from pydantic_settings import SettingsConfigDict

from jinlin.settings import ServiceSettings


class MediationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JINLIN_MEDIATION_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/mediation.sqlite3"
    port: int = 8082
    overdue_check_interval: float = 30.0
    """Seconds between two passes of the overdue watcher."""
    complaints_stream: str = "COMPLAINTS"
    """Where the complaints desk's escalations are read."""
    escrow_stream: str = "ESCROW"
    """Where the escrow service's events that fulfil terms (ArrearsPaid) are read."""
