"""Where the embedded stack keeps things, and how a tool finds a service's database and NATS server."""

import os
from dataclasses import dataclass
from pathlib import Path

from jinlin.service import ServiceSpec

DEFAULT_VAR_DIR = Path("var")
DEFAULT_NATS_PORT = 14222
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Layout:
    var_dir: Path = DEFAULT_VAR_DIR
    host: str = DEFAULT_HOST
    nats_port: int = DEFAULT_NATS_PORT

    @classmethod
    def from_env(cls) -> "Layout":
        return cls(
            var_dir=Path(os.environ.get("JINLIN_VAR_DIR", DEFAULT_VAR_DIR)),
            host=os.environ.get("JINLIN_HOST", DEFAULT_HOST),
            nats_port=int(os.environ.get("JINLIN_NATS_PORT", DEFAULT_NATS_PORT)),
        )

    @property
    def nats_url(self) -> str:
        return f"nats://{self.host}:{self.nats_port}"

    def database_url(self, spec: ServiceSpec) -> str:
        """The service's own setting when given, else its SQLite file under the var directory."""
        configured = os.environ.get(f"{spec.env_prefix}DATABASE_URL")
        if configured:
            return configured
        return f"sqlite+aiosqlite:///{(self.var_dir / f'{spec.name}.sqlite3').resolve()}"

    def service_nats_url(self, spec: ServiceSpec) -> str:
        return os.environ.get(f"{spec.env_prefix}NATS_URL") or self.nats_url

    def port(self, spec: ServiceSpec) -> int:
        return int(os.environ.get(f"{spec.env_prefix}PORT", spec.default_port))
