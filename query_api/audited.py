"""Refusals before a route runs, audited. Each route that records what it shows declares its
audit action with ``audited``; a request to it that fails validation (a missing or malformed
part, refused by FastAPI before the route runs) is recorded all the same: who asked, the
action, ``refused``, the purpose declared, the person, address or alert named, and each
problem by field and rule, never the value sent. A request without a valid token is not
recorded (there is no one to record) and is answered as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from query_api.audit import Entry
from query_api.context import ApiContext, oauth2, signed_in
from query_api.errors import is_text, refuse_invalid_request, validation_problems

MAX_PURPOSE = 64
"""A purpose is recorded cut to this length (the codes on the list are far shorter)."""
MAX_DETAIL = 500
MAX_NAMED = 64
"""A person, address or alert id, or another value named, longer than this is no id and is
not recorded."""
MAX_PROBLEMS = 20

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass(frozen=True)
class Audited:
    action: str
    asked: tuple[str, ...] = ()
    """Path or query parameters recorded as what was asked."""
    person: str | None = None
    """The parameter naming the person asked about, recorded among ``person_ids``."""
    address: str | None = None


_ROUTES: dict[Callable[..., Any], Audited] = {}


def audited(
    action: str,
    *,
    asked: tuple[str, ...] = (),
    person: str | None = None,
    address: str | None = None,
) -> Callable[[Endpoint], Endpoint]:
    """Declares a route's audit action, so that its refusals by validation are audited."""

    def mark(endpoint: Endpoint) -> Endpoint:
        _ROUTES[endpoint] = Audited(action, asked, person, address)
        return endpoint

    return mark


def declared_purpose(raw: object, limit: int = MAX_PURPOSE) -> str:
    """A purpose (or its detail) as the audit records it on every route: without
    surrounding space, cut to ``limit`` characters, and empty when it is not text."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()[:limit]
    return text if is_text(text) else ""


async def refuse_and_audit(request: Request, exc: Exception) -> JSONResponse:
    """The 422 of ``query_api.errors``, and for an audited route an audit entry."""
    answer = await refuse_invalid_request(request, exc)
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    spec = _ROUTES.get(endpoint) if endpoint is not None else None
    context = getattr(request.app.state, "mast", None)
    if spec is not None and isinstance(context, ApiContext):
        token = await oauth2(request)
        await run_in_threadpool(_record, context, token, spec, request, exc)
    return answer


def _record(
    ctx: ApiContext, token: str | None, spec: Audited, request: Request, exc: Exception
) -> None:
    who = signed_in(ctx, token)
    if who is None:
        return
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = exc.body if isinstance(exc, RequestValidationError) else None
    sent: dict[str, Any] = body if isinstance(body, dict) else dict(request.query_params)
    values: dict[str, Any] = {**request.query_params, **request.path_params}

    def named(parameter: str | None) -> str | None:
        value = values.get(parameter) if parameter else None
        if isinstance(value, str) and len(value) <= MAX_NAMED and is_text(value):
            return value
        return None

    problems = [
        ".".join(str(part) for part in problem["loc"]) + ": " + problem["type"]
        for problem in validation_problems(errors)[:MAX_PROBLEMS]
    ]
    person, address = named(spec.person), named(spec.address)
    ctx.audit.record(
        who,
        Entry(
            action=spec.action,
            outcome="refused",
            purpose=declared_purpose(sent.get("purpose")),
            purpose_detail=declared_purpose(sent.get("purpose_detail"), MAX_DETAIL),
            asked={**{p: named(p) for p in spec.asked}, "problems": problems},
            person_ids=[person] if person else [],
            address_ids=[address] if address else [],
        ),
    )
