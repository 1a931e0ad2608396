"""The composition root: settings → store, runtime (relay, consumers, watcher) → the FastAPI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from jinlin.logging import configure_logging
from jinlin.metrics import ServiceMetrics
from jinlin.runtime.service_runtime import PeriodicJob, ServiceRuntime
from jinlin.service import ServiceSpec
from jinlin.store import EventStore, create_engines
from jinlin.web import Readiness, StaffDirectory, create_service_app
from mediation.adapters.http import access_commands, commands, documents, party, queries
from mediation.adapters.http.errors import install_domain_error_handlers
from mediation.application.context import MediationContext
from mediation.application.escalations import escalation_subscription
from mediation.application.fulfilments import fulfilment_subscriptions
from mediation.application.overdue import OverdueWatcher
from mediation.application.read_model import CaseProjection
from mediation.domain import registry
from mediation.settings import MediationSettings

VERSION = "0.1.0"


def build_store(database_url: str) -> EventStore:
    return EventStore(create_engines(database_url), registry, projections=[CaseProjection()])


SPEC = ServiceSpec(
    name="mediation",
    token="mediation",
    default_port=8082,
    app_factory="mediation.bootstrap:create_app",
    build_store=build_store,
    title="Mediation: consultation meetings, agreements and the obligations someone carries out",
)


def create_app(settings: MediationSettings | None = None, context: MediationContext | None = None) -> FastAPI:
    settings = settings or MediationSettings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.database_url.startswith("sqlite") and ":///" in settings.database_url:
        Path(settings.database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    context = context or MediationContext(store=build_store(settings.database_url))
    metrics = ServiceMetrics()
    readiness = Readiness()
    runtime = ServiceRuntime(
        SPEC,
        settings,
        context.store,
        metrics=metrics,
        readiness=readiness,
        subscriptions=[
            escalation_subscription(settings.complaints_stream, context),
            *fulfilment_subscriptions(context, {"ESCROW": settings.escrow_stream}),
        ],
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
        title="jinlin mediation",
        version=VERSION,
        description="People's mediation (人民调解): cases referred from the complaints desk or applied for, "
        "consultation meetings, the agreement (调解协议书) and the obligations someone carries out.",
        lifespan=lifespan,
        metrics=metrics,
        readiness=readiness,
        staff=StaffDirectory.from_environment(),
    )
    app.state.mediation = context
    app.state.runtime = runtime
    install_domain_error_handlers(app)
    app.include_router(commands.router)
    app.include_router(queries.router)
    app.include_router(documents.router)
    app.include_router(access_commands.router)
    app.include_router(party.router)
    return app
