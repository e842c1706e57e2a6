"""The steward: a data-quality officer of the partnership, who works the queue of disputed
records ("not the same person") and decides each, for every organisation.

A steward sees the minimum dataset of the records a dispute is about and the evidence that
linked them, never case details: so a steward does not search people or addresses, open
person, address or history pages (which show contacts and open cases), or list and act on
alerts (which name whom to call). Those routes refuse a steward with 403, audited like any
refusal that concerns a person (``no_case_details``, added to their routers by
``query_api.app``). A steward may still read the match statistics, which are counts.

The data protection officer (``dpo``) is refused the same routes: they answer for access to
case details, through the access review and the audit of every organisation, and do not
work cases themselves.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from query_api.audited import declared_audit, record_refused
from query_api.context import Context, SignedIn

STEWARD = "steward"
DPO = "dpo"
NOT_FOR_STEWARDS = (
    "a steward works the disputes queue (GET /api/v1/disputes), which shows what deciding "
    "needs; searches, person and address pages and alerts are for practitioners"
)
ROLE_PROBLEM = "role: steward"
NOT_FOR_DPO = (
    "the data protection officer works the access review (GET /api/v1/access-review) and "
    "the audit; searches, person and address pages and alerts are for practitioners"
)
REFUSALS = {STEWARD: (NOT_FOR_STEWARDS, ROLE_PROBLEM), DPO: (NOT_FOR_DPO, "role: dpo")}
"""Each role refused case details: the answer, and the problem the audit records."""


async def no_case_details(request: Request, ctx: Context, who: SignedIn) -> None:
    """Refuses a steward or the data protection officer (403), and records the refusal
    under the route's own audit action with the person or address it named and the purpose
    sent."""
    if who.role not in REFUSALS:
        return
    answer, problem = REFUSALS[who.role]
    spec = declared_audit(request)
    if spec is not None:
        body = await _body(request)
        await run_in_threadpool(record_refused, ctx, who, spec, request, body, [problem])
    raise HTTPException(status.HTTP_403_FORBIDDEN, answer)


async def _body(request: Request) -> Any:
    """The JSON body sent (already read by FastAPI), or None."""
    try:
        raw = await request.body()
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON: nothing to take a purpose from
        return None
