"""The manager's audit of their own organisation."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, Field

from mast_core.events import Agency
from query_api.answers import refusals
from query_api.audit import COLUMNS
from query_api.audited import Trail, audit_of
from query_api.csv_export import csv_response

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEntry(BaseModel):
    """One row of the append-only audit log (docs/api.md, "Purpose and audit")."""

    audit_id: str
    at: datetime
    username: str
    organisation: str
    role: str
    action: str
    outcome: str
    purpose: str
    purpose_detail: str
    asked: str = Field(
        description="What was asked, as JSON text. For a person or address page shown "
        "(`view_person`, `view_address` and their `…_as_at` forms), `data_as_at` is the time "
        "the page's data stood at: `as_at` that time opens the same page again, field for "
        'field (docs/api.md, "Pages as they stood").'
    )
    person_ids: list[str]
    address_ids: list[str]
    event_ids: list[str]


def _iso_day(value: object) -> object:
    """A day as the document declares it (``format: date``, YYYY-MM-DD): pydantic alone
    would also take a number as seconds since 1970, which no client means."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("write a day as YYYY-MM-DD")
    return value


Day = Annotated[date | None, BeforeValidator(_iso_day)]


@router.get(
    "/audit",
    summary="The audit of the manager's own organisation, newest first (JSON or CSV)",
    description=(
        "Managers see their own organisation only; administrators may name any. Every read "
        "(JSON or CSV) and every refusal (a practitioner, or another organisation's manager) "
        "is itself audited with the person it asked about."
    ),
    response_model=list[AuditEntry],
    responses={
        200: {
            "description": "The entries as JSON, or with `format=csv` as a CSV file with "
            "the same columns (lists joined with `;`).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **refusals(
            401,
            403,
            422,
            _403="Not a manager or administrator, or a manager asking for another "
            "organisation (audited).",
        ),
    },
)
def read_audit(
    trail: Annotated[
        Trail,
        audit_of("view_audit", asked=("organisation", "username", "person_id"), person="person_id"),
    ],
    username: Annotated[str | None, Query(max_length=64)] = None,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
    organisation: Agency | None = None,
    since: Day = None,
    until: Day = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
    format: Literal["json", "csv"] = "json",
) -> list[AuditEntry] | Response:
    who = trail.who
    wanted = organisation.value if organisation else who.organisation
    person_ids = [person_id] if person_id else []
    # the data protection officer answers for every organisation's look-ups, as an admin
    if who.role not in ("manager", "admin", "dpo") or (
        who.role == "manager" and wanted != who.organisation
    ):
        trail.record(
            "refused",
            asked={"organisation": wanted, "username": username, "person_id": person_id},
            person_ids=person_ids,
        )
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "managers see the audit of their own organisation only"
        )
    entries = trail.ctx.audit.search(
        wanted,
        username=username,
        person_id=person_id,
        since=since,
        until=until,
        limit=limit,
    )
    trail.record(
        action="view_audit" if format == "json" else "export_audit",
        asked={
            "organisation": wanted,
            "username": username,
            "person_id": person_id,
            "since": since,
            "until": until,
            "limit": limit,
        },
        person_ids=person_ids,
    )
    if format == "json":
        return [AuditEntry.model_validate(entry) for entry in entries]
    return csv_response(
        COLUMNS, ([entry[c] for c in COLUMNS] for entry in entries), f"mast-audit-{wanted}.csv"
    )
