"""How a service presents itself to the runner (``jinlin up``) and the tools (``jinlin audit``, ``projections``).

Each service package exposes one :class:`ServiceSpec` under the ``jinlin.services`` entry-point group, so
adding a service needs no change to the runner.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from jinlin.store.store import EventStore

ENTRY_POINT_GROUP = "jinlin.services"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    """The service's name on the command line and in URLs: ``complaints``, ``billing-escrow``."""

    token: str
    """Its NATS subject token: ``jinlin.<token>.>`` (``escrow`` for billing-escrow)."""

    default_port: int
    app_factory: str
    """``module:function`` returning the ASGI app (run by uvicorn with ``--factory``)."""

    build_store: Callable[[str], EventStore] | None = None
    """Builds the service's store from a database URL, for the tools that read it offline."""

    title: str = ""

    @property
    def stream_name(self) -> str:
        return self.token.upper()

    @property
    def env_prefix(self) -> str:
        return "JINLIN_" + self.name.upper().replace("-", "_") + "_"

    @property
    def subjects(self) -> str:
        return f"jinlin.{self.token}.>"


def registered_services() -> list[ServiceSpec]:
    """Every installed service, in the order of their default ports."""
    specs = [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for spec in specs:
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {ENTRY_POINT_GROUP} gave {spec!r}, not a ServiceSpec")
    return sorted(specs, key=lambda spec: spec.default_port)


def service_named(name: str) -> ServiceSpec:
    for spec in registered_services():
        if name in (spec.name, spec.token):
            return spec
    known = ", ".join(spec.name for spec in registered_services()) or "none"
    raise LookupError(f"no service named {name!r} (registered: {known})")
