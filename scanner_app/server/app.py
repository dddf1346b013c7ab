"""The app factory: a node's store behind the /v1 API and the organiser dashboard."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from scanner_app import __version__
from scanner_app.core.door import CheckProvider
from scanner_app.core.node import Node
from scanner_app.server.auth import SECURITY_SCHEME
from scanner_app.server.central import CentralSync, Upstream
from scanner_app.server.delivery import DeliveryWorker
from scanner_app.server.errors import MAX_BODY_BYTES, install_error_handlers
from scanner_app.server.guard import Guard
from scanner_app.server.hub import Hub, HubConfig
from scanner_app.server.routes import (
    checkin,
    dashboard,
    dashboard_api,
    devices,
    events,
    tickets,
    webhooks,
)
from scanner_app.server.sessions import SessionStore

OPENAPI_URL = "/v1/openapi.json"
KEYLESS_ROUTES = frozenset({"/v1/devices/enrol"})
DESCRIPTION = (
    "The venue hub of Tickitz Scanner: the Tickitz API subset that gates sync with "
    "(DESIGN.md §6). Authenticate with `Authorization: Bearer tk_live_...`. Errors use "
    '`{"error": {"code", "message", "status", "requestId"}}`; every response carries '
    "`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` and `X-Request-Id`."
)


def create_app(
    node: Node,
    *,
    config: HubConfig | None = None,
    max_body: int = MAX_BODY_BYTES,
    provider: CheckProvider | None = None,
    upstream: Upstream | None = None,
    bind_host: str | None = None,
    sessions: SessionStore | None = None,
    **options: Any,
) -> FastAPI:
    """The hub's ASGI app over `node`. `options` are HubConfig fields (public_url=...);
    `provider` decides gates' online scans (sync.door.check_provider(node, serving=True));
    `upstream`: the hub's own sync engine, for the dashboard's "Sync to central";
    `bind_host`: the address it listens on (the dashboard warns about loopback)."""
    hub = Hub(node, config or HubConfig(**options), provider)
    sessions = sessions or SessionStore()
    worker = DeliveryWorker(hub)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()
        if hub.config.warm_proof_workers:  # in the background: listen at once
            threading.Thread(target=hub.proofs.warm, name="proof-workers", daemon=True).start()
        try:
            yield
        finally:
            hub.changes.close()
            hub.writer.stop()  # requests have finished; commit whatever is still queued
            worker.stop()
            await asyncio.to_thread(hub.proofs.close)

    app = FastAPI(
        title="Tickitz Scanner hub",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=None,  # Swagger UI loads from a CDN; the hub must work offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.worker = worker
    app.state.sessions = sessions
    app.state.central = CentralSync(upstream)
    app.state.bind_host = bind_host
    install_error_handlers(app)
    for module in (events, tickets, checkin, devices, webhooks, dashboard, dashboard_api):
        app.include_router(module.router)
    app.add_middleware(Guard, hub=hub, max_body=max_body, sessions=sessions)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's spec without its 422 responses: validation errors are 400 here."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for route, path in spec.get("paths", {}).items():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
            # Enrolment is keyless: its one-time code is the credential (DESIGN.md §10).
            keyless = route in KEYLESS_ROUTES
            operation["security"] = [] if keyless else [{"HTTPBearer": []}]
    spec.setdefault("components", {}).setdefault("securitySchemes", {})["HTTPBearer"] = (
        SECURITY_SCHEME
    )
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = spec
    return spec
