"""Operations endpoints: liveness, readiness, Prometheus metrics and a status snapshot.

Served by every MAST process with an HTTP port (``mast up``, ``mast api``, ``mast worker``),
so an orchestrator can probe each the same way. Nothing here carries personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

StatusSource = Callable[[], dict[str, Any]]
"""Returns the process's status; ``ready`` says whether it can do its work now."""


def ops_router(status: StatusSource) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness: the process is up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: the process can do its work")
    def ready() -> JSONResponse:
        snapshot = status()
        code = 200 if snapshot.get("ready") else 503
        return JSONResponse({"ready": bool(snapshot.get("ready"))}, status_code=code)

    @router.get("/metrics", summary="Prometheus metrics")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/api/v1/status", summary="Pipeline status at a glance")
    def pipeline_status() -> dict[str, Any]:
        return {**status(), "now": datetime.now(UTC).isoformat()}

    return router
