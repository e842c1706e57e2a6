"""The HTTP application: operations endpoints, and with a ClickHouse client the
practitioners' API and the web app that uses it."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError

from mast_core.settings import Settings, get_settings
from query_api.answers import refusals
from query_api.audited import refuse_and_audit
from query_api.context import ApiContext
from query_api.errors import install_error_handling
from query_api.headers import SecurityHeaders
from query_api.limits import BodyLimit
from query_api.openapi import install_openapi, operation_id
from query_api.ops import StatusSource, ops_router
from query_api.routes import (
    access_review,
    alerts,
    audit,
    auth,
    break_glass,
    disputes,
    ingest,
    notifications,
    other_agency_views,
    persons,
    reference,
    retention,
    shields,
    stats,
    subject_access,
)
from query_api.stewards import no_case_details
from query_api.web import mount_web_app

DOCS_URL, REDOC_URL = "/docs", "/redoc"


def create_app(
    status: StatusSource,
    context: ApiContext | None = None,
    *,
    settings: Settings | None = None,
) -> FastAPI:
    """``settings`` default to the context's, or without one to the process's."""
    settings = settings or (context.settings if context is not None else get_settings())
    development = settings.environment == "development"
    app = FastAPI(
        title="MAST",
        summary="Multi-Agency Safeguarding Tracker",
        version="0.1.0",
        # the interactive documentation loads its scripts from a public CDN: development only
        docs_url=DOCS_URL if development else None,
        redoc_url=REDOC_URL if development else None,
        generate_unique_id_function=operation_id,
    )
    install_openapi(app, list(settings.purposes))
    app.include_router(ops_router(status, settings.operator_token))
    if context is not None:
        app.state.mast = context
        app.add_middleware(BodyLimit, max_bytes=context.settings.max_body_bytes)
        app.include_router(auth.router)
        app.include_router(reference.router)
        app.include_router(audit.router)
        # a steward sees the minimum dataset of disputed records, and the data protection
        # officer the audit, not case details: no searches, person or address pages, or
        # alerts (query_api/stewards.py)
        stewards_refused: dict[str, Any] = {
            "dependencies": [Depends(no_case_details)],
            "responses": refusals(
                403,
                _403="A steward (who works the disputes queue) or the data protection officer "
                "(who works the access review); audited.",
            ),
        }
        app.include_router(persons.router, **stewards_refused)
        app.include_router(other_agency_views.router, **stewards_refused)
        app.include_router(alerts.router, **stewards_refused)
        app.include_router(disputes.router)
        app.include_router(break_glass.router)  # each route says who may
        app.include_router(shields.router)  # stewards and managers decide
        app.include_router(notifications.router)  # any signed-in role, each their own
        app.include_router(access_review.router)  # the data protection officer
        app.include_router(retention.router)  # managers, admins, the data protection officer
        app.include_router(subject_access.router)  # the data protection officer
        app.include_router(stats.router)
        app.include_router(ingest.router)
        mount_web_app(app)
    exempt = {DOCS_URL, REDOC_URL, app.swagger_ui_oauth2_redirect_url} if development else set()
    app.add_middleware(SecurityHeaders, exempt={path for path in exempt if path})
    install_error_handling(app)
    if context is not None:
        app.add_exception_handler(RequestValidationError, refuse_and_audit)
    return app
