"""The manager's audit of their own organisation."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from query_api.audit import COLUMNS, Entry
from query_api.context import Context, Manager

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get(
    "/audit",
    summary="The audit of the manager's own organisation, newest first (JSON or CSV)",
    responses={200: {"content": {"text/csv": {}}}, 403: {}},
)
def audit(
    ctx: Context,
    who: Manager,
    username: Annotated[str | None, Query(max_length=64)] = None,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    format: Literal["json", "csv"] = "json",
) -> Any:
    entries = ctx.audit.search(
        who.organisation,
        username=username,
        person_id=person_id,
        since=since,
        until=until,
        limit=limit,
    )
    if format == "json":
        return entries
    ctx.audit.record(
        who,
        Entry(
            action="export_audit",
            asked={"username": username, "person_id": person_id, "since": since, "until": until},
            person_ids=[person_id] if person_id else [],
        ),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(
            [";".join(v) if isinstance(v, list) else v for v in (entry[c] for c in COLUMNS)]
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="mast-audit-{who.organisation}.csv"'
        },
    )
