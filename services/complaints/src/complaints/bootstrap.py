"""The composition root: settings → store, runtime (relay, consumers, watcher) → the FastAPI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from complaints.adapters.http import commands, open311, queries
from complaints.adapters.http.errors import install_domain_error_handlers
from complaints.application.context import ComplaintsContext
from complaints.application.read_model import ComplaintListProjection
from complaints.domain import Catalogue, default_catalogue, registry
from complaints.settings import ComplaintsSettings
from jinlin.logging import configure_logging
from jinlin.metrics import ServiceMetrics
from jinlin.runtime.service_runtime import PeriodicJob, ServiceRuntime
from jinlin.service import ServiceSpec
from jinlin.store import EventStore, create_engines
from jinlin.web import Readiness, StaffDirectory, create_service_app

VERSION = "0.1.0"


def build_store(database_url: str) -> EventStore:
    return EventStore(create_engines(database_url), registry, projections=[ComplaintListProjection()])


SPEC = ServiceSpec(
    name="complaints",
    token="complaints",
    default_port=8081,
    app_factory="complaints.bootstrap:create_app",
    build_store=build_store,
    title="Complaints: intake to call-back, with an Open311 face",
)


def load_catalogue(settings: ComplaintsSettings) -> Catalogue:
    if settings.catalogue_file:
        return Catalogue.model_validate_json(Path(settings.catalogue_file).read_bytes())
    return default_catalogue()


def create_app(settings: ComplaintsSettings | None = None, context: ComplaintsContext | None = None) -> FastAPI:
    settings = settings or ComplaintsSettings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.database_url.startswith("sqlite") and ":///" in settings.database_url:
        Path(settings.database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    context = context or ComplaintsContext(store=build_store(settings.database_url), catalogue=load_catalogue(settings))
    metrics = ServiceMetrics()
    readiness = Readiness()
    from complaints.application.mediation_outcomes import mediation_subscription
    from complaints.application.overdue import OverdueWatcher

    runtime = ServiceRuntime(
        SPEC,
        settings,
        context.store,
        metrics=metrics,
        readiness=readiness,
        subscriptions=[mediation_subscription(settings.mediation_stream, context)],
        jobs=[PeriodicJob("overdue-watcher", OverdueWatcher(context).run_once, settings.overdue_check_interval)],
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = create_service_app(
        title="jinlin complaints",
        version=VERSION,
        description="Complaints from intake to the resident's call-back (回访), with an Open311 GeoReport v2 face.",
        lifespan=lifespan,
        metrics=metrics,
        readiness=readiness,
        staff=StaffDirectory.from_environment(),
    )
    app.state.complaints = context
    app.state.runtime = runtime
    install_domain_error_handlers(app)
    app.include_router(commands.router)
    app.include_router(queries.router)
    app.include_router(open311.router)
    return app
