"""The HTTP application: operations endpoints, and with a ClickHouse client the
practitioners' API and the web app that uses it."""

from __future__ import annotations

from fastapi import FastAPI

from query_api.context import ApiContext
from query_api.errors import install_error_handling
from query_api.limits import BodyLimit
from query_api.ops import StatusSource, ops_router
from query_api.routes import alerts, audit, auth, ingest, persons, reference, stats
from query_api.web import mount_web_app


def create_app(status: StatusSource, context: ApiContext | None = None) -> FastAPI:
    app = FastAPI(
        title="MAST",
        summary="Multi-Agency Safeguarding Tracker",
        version="0.1.0",
    )
    app.include_router(ops_router(status))
    if context is not None:
        app.state.mast = context
        app.add_middleware(BodyLimit, max_bytes=context.settings.max_body_bytes)
        app.include_router(auth.router)
        app.include_router(reference.router)
        app.include_router(audit.router)
        app.include_router(persons.router)
        app.include_router(alerts.router)
        app.include_router(stats.router)
        app.include_router(ingest.router)
        mount_web_app(app)
    install_error_handling(app)
    return app
