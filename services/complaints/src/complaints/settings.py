"""The complaints service's settings, read from ``JINLIN_COMPLAINTS_*`` environment variables."""

from pydantic_settings import SettingsConfigDict

from jinlin.settings import ServiceSettings


class ComplaintsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JINLIN_COMPLAINTS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/complaints.sqlite3"
    port: int = 8081
    overdue_check_interval: float = 30.0
    """Seconds between two passes of the overdue watcher."""
    catalogue_file: str | None = None
    """A JSON catalogue of categories replacing the seeded one."""
    mediation_stream: str = "MEDIATION"
