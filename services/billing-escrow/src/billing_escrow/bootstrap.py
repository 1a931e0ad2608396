"""The composition root: settings → store, runtime (relay, expiry watcher) → the FastAPI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from billing_escrow.adapters.http import accounts, disbursements, handovers, households, queries, statements
from billing_escrow.adapters.http.errors import install_domain_error_handlers
from billing_escrow.application.context import EscrowContext
from billing_escrow.application.expiry import ExpiryWatcher
from billing_escrow.application.read_model import ReadModels
from billing_escrow.domain import registry
from billing_escrow.settings import EscrowSettings
from jinlin.logging import configure_logging
from jinlin.metrics import ServiceMetrics
from jinlin.runtime.service_runtime import PeriodicJob, ServiceRuntime
from jinlin.service import ServiceSpec
from jinlin.store import EventStore, create_engines
from jinlin.web import Readiness, StaffDirectory, create_service_app

VERSION = "0.1.0"


def build_store(database_url: str) -> EventStore:
    return EventStore(create_engines(database_url), registry, projections=ReadModels().all())


SPEC = ServiceSpec(
    name="billing-escrow",
    token="escrow",
    default_port=8083,
    app_factory="billing_escrow.bootstrap:create_app",
    build_store=build_store,
    title="Billing-escrow: escrowed collection accounts under the notary, the direct-supply handover, statements",
)

DESCRIPTION = """\
Escrow collection accounts (资金监管) for property, water and electricity fees, per compound, under the notary
office's supervision: a double-entry ledger in integer fen with a sub-ledger per household, payments out that are
reserved, co-signed and executed, the direct-supply electricity handover (一户一表直供电), and signed statements.

Roles: **finance** runs accounts and money; **supervisor** places holds, changes terms and records the owners'
committee's co-signatures; **notary** opens and reopens accounts, co-signs payments out, reads everything and edits
nothing; **auditor** reads everything. Money endpoints require an `Idempotency-Key`; every command accepts `If-Match`.
"""


def create_app(settings: EscrowSettings | None = None, context: EscrowContext | None = None) -> FastAPI:
    settings = settings or EscrowSettings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.database_url.startswith("sqlite") and ":///" in settings.database_url:
        Path(settings.database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    context = context or EscrowContext(
        store=build_store(settings.database_url), signing_key_file=Path(settings.statement_signing_key_file)
    )
    metrics = ServiceMetrics()
    readiness = Readiness()
    runtime = ServiceRuntime(
        SPEC,
        settings,
        context.store,
        metrics=metrics,
        readiness=readiness,
        jobs=[PeriodicJob("disbursement-expiry", ExpiryWatcher(context).run_once, settings.expiry_check_interval)],
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = create_service_app(
        title="jinlin billing-escrow",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        metrics=metrics,
        readiness=readiness,
        staff=StaffDirectory.from_environment(),
    )
    app.state.escrow = context
    app.state.runtime = runtime
    install_domain_error_handlers(app)
    for router in (accounts.router, disbursements.router, households.router, handovers.router):
        app.include_router(router)
    app.include_router(statements.router)
    app.include_router(queries.router)
    return app
