"""The composition root: settings → the console's own store, its consumers and live hub → the web app.

The console appends no events: its store holds the kernel's tables (the consumers' processed-message claims) and
its read models. Its durable consumers ``console-complaints``, ``console-mediation`` and ``console-escrow`` read each
service's stream from the beginning; a stream that does not exist yet (the service never ran) only makes its
consumer back off and retry, and the pages say "no data yet".
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from jinlin.logging import configure_logging
from jinlin.metrics import ServiceMetrics
from jinlin.runtime.service_runtime import ServiceRuntime, Subscription
from jinlin.service import ServiceSpec
from jinlin.web import Readiness, create_service_app
from staff_console.adapters import keys
from staff_console.adapters.console_store import ConsoleStore
from staff_console.adapters.http import (
    routes_auth,
    routes_complaints,
    routes_dashboard,
    routes_escrow,
    routes_feed,
    routes_mediation,
    routes_timeline,
)
from staff_console.adapters.http.context import ConsoleContext
from staff_console.adapters.http.rendering import render
from staff_console.adapters.http.security import (
    Forbidden,
    PageNotFound,
    SignInRequired,
    Viewer,
    current_viewer,
    language_of,
)
from staff_console.adapters.http.sessions import SessionStore, Signer
from staff_console.adapters.services import ServiceClient
from staff_console.application import queries
from staff_console.application.accounts import load_accounts
from staff_console.application.live import LiveHub
from staff_console.application.projector import ConsoleProjector
from staff_console.application.tables import console_metadata
from staff_console.durables import console_durables
from staff_console.settings import ConsoleSettings

VERSION = "0.1.0"
STATIC = Path(__file__).parent / "adapters" / "http" / "static"


def build_store(database_url: str) -> ConsoleStore:
    return ConsoleStore(database_url, SPEC.token)


SPEC = ServiceSpec(
    name="staff-console",
    token="console",
    default_port=8080,
    app_factory="staff_console.bootstrap:create_app",
    build_store=build_store,
    title="Staff console: the center's web UI and the verified case timeline",
)


def subscriptions(settings: ConsoleSettings, hub: LiveHub) -> list[Subscription]:
    return [
        Subscription(
            durable=durable.name,
            stream=durable.stream,
            filter_subjects=(durable.subjects,),
            handler=ConsoleProjector(durable.stream, hub),
        )
        for durable in console_durables(settings)
    ]


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.database_url.startswith("sqlite") and ":///" in settings.database_url:
        Path(settings.database_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    store = build_store(settings.database_url)
    secrets_dir = settings.secrets_path()

    async def read_after(received: int) -> list[dict[str, object]]:
        async with store.engines.reader.connect() as conn:
            return await queries.read_after(conn, received)

    hub = LiveHub(read_after)
    context = ConsoleContext(
        settings=settings,
        store=store,
        accounts=load_accounts(settings.accounts_file, demo=settings.demo_accounts),
        sessions=SessionStore(store, Signer(keys.session_key(secrets_dir)), settings.session_hours),
        services=ServiceClient(settings),
        hub=hub,
        signing_key=keys.signing_key(secrets_dir),
    )
    metrics = ServiceMetrics()
    readiness = Readiness()
    runtime = ServiceRuntime(
        SPEC, settings, store, metrics=metrics, readiness=readiness, subscriptions=subscriptions(settings, hub)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.create_schema(console_metadata)
        async with store.engines.reader.connect() as conn:
            start_after = await queries.last_received(conn)
        live = asyncio.create_task(hub.run(start_after), name="staff-console:live-hub")
        await runtime.start()
        try:
            yield
        finally:
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live
            await runtime.stop()
            await context.services.close()

    app = create_service_app(
        title="jinlin staff console",
        version=VERSION,
        description="The center's staff console: pages, live updates and the verified case timeline.",
        lifespan=lifespan,
        metrics=metrics,
        readiness=readiness,
        docs_url=None,
        redoc_url=None,
    )
    app.state.console = context
    app.state.runtime = runtime
    install_page_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        routes_auth,
        routes_dashboard,
        routes_feed,
        routes_complaints,
        routes_mediation,
        routes_escrow,
        routes_timeline,
    ):
        app.include_router(module.router)
    return app


def install_page_errors(app: FastAPI) -> None:
    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        if "text/html" not in request.headers.get("accept", "") or request.method != "GET":
            return JSONResponse({"title": "Sign-in required"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    async def viewer_if_any(request: Request) -> Viewer | None:
        try:
            return await current_viewer(request)
        except SignInRequired:
            return None

    async def forbidden(request: Request, exc: Exception) -> HTMLResponse:
        reason = exc.reason if isinstance(exc, Forbidden) else "forbidden.text"
        viewer = await viewer_if_any(request)
        language = language_of(request)
        return render(request, viewer, "error.html", 403, language=language, kind="forbidden", reason=reason)

    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        viewer = await viewer_if_any(request)
        language = language_of(request)
        return render(request, viewer, "error.html", 404, language=language, kind="notfound", reason="notfound.text")

    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(PageNotFound, not_found)
