"""The manager's audit of their own organisation."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from mast_core.events import Agency
from query_api.audit import COLUMNS, Entry
from query_api.audited import audited
from query_api.context import Context, SignedIn

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get(
    "/audit",
    summary="The audit of the manager's own organisation, newest first (JSON or CSV)",
    description=(
        "Managers see their own organisation only; administrators may name any. Every read "
        "(JSON or CSV) and every refusal (a practitioner, or another organisation's manager) "
        "is itself audited with the person it asked about."
    ),
    responses={200: {"content": {"text/csv": {}}}, 403: {}},
)
@audited("view_audit", asked=("organisation", "username", "person_id"), person="person_id")
def audit(
    ctx: Context,
    who: SignedIn,
    username: Annotated[str | None, Query(max_length=64)] = None,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    organisation: Agency | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    format: Literal["json", "csv"] = "json",
) -> Any:
    wanted = organisation.value if organisation else who.organisation
    if who.role not in ("manager", "admin") or (
        who.role == "manager" and wanted != who.organisation
    ):
        ctx.audit.record(
            who,
            Entry(
                action="view_audit",
                outcome="refused",
                asked={"organisation": wanted, "username": username, "person_id": person_id},
                person_ids=[person_id] if person_id else [],
            ),
        )
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "managers see the audit of their own organisation only"
        )
    entries = ctx.audit.search(
        wanted,
        username=username,
        person_id=person_id,
        since=since,
        until=until,
        limit=limit,
    )
    ctx.audit.record(
        who,
        Entry(
            action="view_audit" if format == "json" else "export_audit",
            asked={
                "organisation": wanted,
                "username": username,
                "person_id": person_id,
                "since": since,
                "until": until,
                "limit": limit,
            },
            person_ids=[person_id] if person_id else [],
        ),
    )
    if format == "json":
        return entries
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
        headers={"Content-Disposition": f'attachment; filename="mast-audit-{wanted}.csv"'},
    )
