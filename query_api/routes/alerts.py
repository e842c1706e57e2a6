"""Alerts: the list with filters, acknowledge and assign; every action audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import Field

from query_api.audit import Entry
from query_api.audited import audited
from query_api.bodies import RequestBody
from query_api.context import ApiContext, Context, SignedIn
from query_api.reads import in_utc
from query_api.security import Principal
from sinks.clickhouse.writer import ALERT_COLUMNS

router = APIRouter(prefix="/api/v1", tags=["alerts"])

_LIST = (
    "SELECT a.alert_id, a.rule_id, a.severity, a.subject_kind, a.subject_id, a.window_start, "
    "a.window_end, a.counts_by_agency, a.evidence_event_ids, a.summary, a.raised_at, "
    "if(s.status = '', 'open', s.status) AS status, s.assignee, s.updated_by, s.updated_at "
    "FROM alerts AS a FINAL "
    "LEFT JOIN (SELECT alert_id, argMax(action, at) AS status, "
    "  argMaxIf(assignee, at, action = 'assigned') AS assignee, "
    "  argMax(username, at) AS updated_by, max(at) AS updated_at "
    "  FROM alert_actions GROUP BY alert_id) AS s ON s.alert_id = a.alert_id "
    "WHERE ({status:String} = '' OR if(s.status = '', 'open', s.status) = {status:String}) "
    "AND ({rule:String} = '' OR a.rule_id = {rule:String}) "
    "AND ({severity:String} = '' OR a.severity = {severity:String}) "
    "AND ({org:String} = '' OR mapContains(a.counts_by_agency, {org:String})) "
    "ORDER BY a.window_end DESC, a.raised_at DESC LIMIT {limit:UInt32}"
)
_NAMES = [*ALERT_COLUMNS, "status", "assignee", "updated_by", "updated_at"]


class Assignment(RequestBody):
    assignee: Annotated[str, Field(min_length=1, max_length=64)]


def _alerts(ctx: ApiContext, **filters: Any) -> list[dict[str, Any]]:
    with ctx.lock:
        rows = in_utc(ctx.client.query(_LIST, parameters=filters).result_rows)
    return [dict(zip(_NAMES, row, strict=True)) for row in rows]


@router.get("/alerts", summary="Alerts, latest first (by when it happened), with filters")
@audited("list_alerts", asked=("status", "rule", "severity", "organisation"))
def list_alerts(
    ctx: Context,
    who: SignedIn,
    status_: Annotated[
        Literal["open", "acknowledged", "assigned"] | None, Query(alias="status")
    ] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    severity: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"] | None = None,
    organisation: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    alerts = _alerts(
        ctx,
        status=status_ or "",
        rule=rule or "",
        severity=severity or "",
        org=organisation or "",
        limit=limit,
    )
    ctx.audit.record(
        who,
        Entry(
            action="list_alerts",
            asked={"status": status_, "rule": rule, "severity": severity, "org": organisation},
            person_ids=[a["subject_id"] for a in alerts if a["subject_kind"] == "PERSON"],
            address_ids=[a["subject_id"] for a in alerts if a["subject_kind"] == "ADDRESS"],
        ),
    )
    return alerts


def _act(ctx: ApiContext, who: Principal, alert_id: str, action: str, assignee: str = "") -> None:
    """Records ``action`` on the alert, audited with its subject. 404 for no such alert; for
    an assignment, 422 unless ``assignee`` is an active user of the caller's organisation
    (unknown, disabled and other organisations' users answered alike, so that the answer
    does not say which usernames exist). Refusals are audited too."""
    with ctx.lock:
        rows = ctx.client.query(
            "SELECT subject_kind, subject_id FROM alerts FINAL WHERE alert_id = {id:String}",
            parameters={"id": alert_id},
        ).result_rows
    kind, subject = rows[0] if rows else ("", "")
    entry = Entry(
        action=f"alert_{action}",
        asked={"alert_id": alert_id, "assignee": assignee or None},
        person_ids=[subject] if kind == "PERSON" else [],
        address_ids=[subject] if kind == "ADDRESS" else [],
    )
    refusal = None
    if not rows:
        entry.outcome = "not_found"
        refusal = HTTPException(status.HTTP_404_NOT_FOUND, "no such alert")
    elif action == "assigned" and not _may_assign_to(ctx, who, assignee):
        entry.outcome = "refused"
        refusal = HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "assign to an active user of your own organisation",
        )
    if refusal is None:
        with ctx.lock:
            ctx.client.insert(
                "alert_actions",
                [[alert_id, datetime.now(UTC), who.username, who.organisation, action, assignee]],
                column_names=["alert_id", "at", "username", "organisation", "action", "assignee"],
            )
    ctx.audit.record(who, entry)
    if refusal is not None:
        raise refusal


def _may_assign_to(ctx: ApiContext, who: Principal, username: str) -> bool:
    user = ctx.users.get(username)
    return user is not None and not user.disabled and user.organisation == who.organisation


AlertId = Annotated[str, Path(max_length=64)]


@router.post("/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert", status_code=204)
@audited("alert_acknowledged", asked=("alert_id",))
def acknowledge(ctx: Context, who: SignedIn, alert_id: AlertId) -> None:
    _act(ctx, who, alert_id, "acknowledged")


@router.post(
    "/alerts/{alert_id}/assign",
    summary="Assign an alert to an active user of the caller's organisation",
    description=(
        "Any other name (unknown, disabled, or of another organisation) is refused with the "
        "same 422, so the answer does not say which usernames exist."
    ),
    status_code=204,
    responses={404: {}, 422: {}},
)
@audited("alert_assigned", asked=("alert_id",))
def assign(ctx: Context, who: SignedIn, alert_id: AlertId, body: Assignment) -> None:
    _act(ctx, who, alert_id, "assigned", body.assignee)
