"""The HTTP application: operations endpoints now; the practitioners' API and web app join
it (issue: query API and web app)."""

from __future__ import annotations

from fastapi import FastAPI

from query_api.ops import StatusSource, ops_router


def create_app(status: StatusSource) -> FastAPI:
    app = FastAPI(
        title="MAST",
        summary="Multi-Agency Safeguarding Tracker",
        version="0.1.0",
    )
    app.include_router(ops_router(status))
    return app
