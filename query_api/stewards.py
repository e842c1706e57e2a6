"""The steward: a data-quality officer of the partnership, who works the queue of disputed
records ("not the same person") and decides each, for every organisation.

A steward sees the minimum dataset of the records a dispute is about and the evidence that
linked them, never case details: so a steward does not search people or addresses, open
person, address or history pages (which show contacts and open cases), or list and act on
alerts (which name whom to call). Those routes refuse a steward with 403, audited like any
refusal that concerns a person (``not_for_stewards``, added to their routers by
``query_api.app``). A steward may still read the match statistics, which are counts.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from query_api.audited import declared_audit, record_refused
from query_api.context import Context, SignedIn

STEWARD = "steward"
NOT_FOR_STEWARDS = (
    "a steward works the disputes queue (GET /api/v1/disputes), which shows what deciding "
    "needs; searches, person and address pages and alerts are for practitioners"
)
ROLE_PROBLEM = "role: steward"


async def not_for_stewards(request: Request, ctx: Context, who: SignedIn) -> None:
    """Refuses a steward (403), and records the refusal under the route's own audit action
    with the person or address it named and the purpose sent."""
    if who.role != STEWARD:
        return
    spec = declared_audit(request)
    if spec is not None:
        body = await _body(request)
        await run_in_threadpool(record_refused, ctx, who, spec, request, body, [ROLE_PROBLEM])
    raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_FOR_STEWARDS)


async def _body(request: Request) -> Any:
    """The JSON body sent (already read by FastAPI), or None."""
    try:
        raw = await request.body()
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON: nothing to take a purpose from
        return None
