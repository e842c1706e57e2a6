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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, SecretStr

from query_api.answers import refusals

StatusSource = Callable[[], dict[str, Any]]
"""Returns the process's status; ``ready`` says whether it can do its work now."""

OPERATOR_HEADER = "X-Operator-Token"

_SENT_AS_HEADER = APIKeyHeader(
    name=OPERATOR_HEADER,
    auto_error=False,
    scheme_name="OperatorToken",
    description="MAST_OPERATOR_TOKEN, when one is configured.",
)
_SENT_AS_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="OperatorBearer",
    description="MAST_OPERATOR_TOKEN as a bearer token, when one is configured.",
)


class Readiness(BaseModel):
    ready: bool


class PipelineStatus(BaseModel):
    """The process's own snapshot (its keys depend on its role: counts, consumer lag, the
    last checkpoint), with ``ready`` and the time it was taken."""

    model_config = ConfigDict(extra="allow")

    ready: bool
    now: datetime


def operator_headers(token: SecretStr | None) -> dict[str, str]:
    """What a client of ``/metrics`` or ``/api/v1/status`` sends (``mast status``)."""
    return {OPERATOR_HEADER: token.get_secret_value()} if token else {}


def operator_guard(token: SecretStr | None) -> list[Any]:
    """The dependencies of an operators' endpoint: none when no token is configured (it
    answers anyone), otherwise a check that answers 401 unless the request sends ``token``
    as a bearer token or in ``X-Operator-Token``. The check takes the token through FastAPI's
    security classes, so the OpenAPI document names both ways of sending it, and only where
    one is needed."""
    if token is None or not token.get_secret_value():
        return []
    expected = token.get_secret_value().encode()

    def check(
        header: Annotated[str | None, Depends(_SENT_AS_HEADER)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_SENT_AS_BEARER)],
    ) -> None:
        sent = [header or ""]
        if bearer is not None:
            sent.append(bearer.credentials.strip())
        if not any(secrets.compare_digest(s.encode(), expected) for s in sent if s):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "send the operator token (Authorization: Bearer, or X-Operator-Token)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return [Depends(check)]


def ops_router(status_source: StatusSource, operator_token: SecretStr | None = None) -> APIRouter:
    router = APIRouter(tags=["operations"])
    operators_only = operator_guard(operator_token)
    guarded = refusals(401, _401="Send the operator token.") if operators_only else {}

    @router.get("/health", summary="Liveness: the process is up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready",
        summary="Readiness: the process can do its work",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready (yet)."}},
    )
    def ready() -> JSONResponse:
        snapshot = status_source()
        code = 200 if snapshot.get("ready") else 503
        return JSONResponse({"ready": bool(snapshot.get("ready"))}, status_code=code)

    @router.get(
        "/metrics",
        summary="Prometheus metrics (the operator token, when one is configured)",
        dependencies=operators_only,
        response_class=PlainTextResponse,
        responses={
            200: {
                "description": "Prometheus' text exposition format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            **guarded,
        },
    )
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get(
        "/api/v1/status",
        summary="Pipeline status at a glance (the operator token, when one is configured)",
        dependencies=operators_only,
        responses=guarded,
    )
    def pipeline_status() -> PipelineStatus:
        return PipelineStatus.model_validate(
            {**status_source(), "now": datetime.now(UTC).isoformat()}
        )

    return router
