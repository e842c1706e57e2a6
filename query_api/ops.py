"""Operations endpoints: liveness, readiness, Prometheus metrics and a status snapshot.

Served by every MAST process with an HTTP port (``mast up``, ``mast api``, ``mast worker``),
so an orchestrator can probe each the same way. Nothing here carries personal data.
``/health`` and ``/ready`` answer anyone (an orchestrator's probes); ``/metrics`` and
``/api/v1/status`` say how the pipeline is doing, and when ``MAST_OPERATOR_TOKEN`` is set
they answer only a request that sends it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr

StatusSource = Callable[[], dict[str, Any]]
"""Returns the process's status; ``ready`` says whether it can do its work now."""

OPERATOR_HEADER = "X-Operator-Token"


def operator_headers(token: SecretStr | None) -> dict[str, str]:
    """What a client of ``/metrics`` or ``/api/v1/status`` sends (``mast status``)."""
    return {OPERATOR_HEADER: token.get_secret_value()} if token else {}


def operator_guard(token: SecretStr | None) -> Callable[[Request], None]:
    """A dependency: 401 unless the request sends ``token`` as a bearer token or in
    ``X-Operator-Token``; with no token configured, it lets every request through."""
    expected = token.get_secret_value().encode() if token else b""

    def check(request: Request) -> None:
        if not expected:
            return
        bearer = request.headers.get("authorization", "")
        scheme, _, value = bearer.partition(" ")
        sent = [request.headers.get(OPERATOR_HEADER, "")]
        if scheme.lower() == "bearer":
            sent.append(value.strip())
        if not any(secrets.compare_digest(s.encode(), expected) for s in sent if s):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "send the operator token (Authorization: Bearer, or X-Operator-Token)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def ops_router(status_source: StatusSource, operator_token: SecretStr | None = None) -> APIRouter:
    router = APIRouter(tags=["operations"])
    operators_only = [Depends(operator_guard(operator_token))]

    @router.get("/health", summary="Liveness: the process is up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: the process can do its work")
    def ready() -> JSONResponse:
        snapshot = status_source()
        code = 200 if snapshot.get("ready") else 503
        return JSONResponse({"ready": bool(snapshot.get("ready"))}, status_code=code)

    @router.get(
        "/metrics",
        summary="Prometheus metrics (the operator token, when one is configured)",
        dependencies=operators_only,
        responses={401: {}},
    )
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/api/v1/status",
        summary="Pipeline status at a glance (the operator token, when one is configured)",
        dependencies=operators_only,
        responses={401: {}},
    )
    def pipeline_status() -> dict[str, Any]:
        return {**status_source(), "now": datetime.now(UTC).isoformat()}

    return router
