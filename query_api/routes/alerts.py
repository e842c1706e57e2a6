"""Alerts: the list with filters, acknowledge and assign; every action audited.

An alert belongs to the organisations whose records are its evidence (the agencies of its
``counts_by_agency``) and, when MAST_TRIAGE_ORGANISATION is set, to that organisation too:
only their users, and administrators, may act on it (``may_act``, ``alert_owners``). The
list shows the caller's organisation's alerts first, marks those raised since the caller
last looked, and names each alert's subject, its owners and whom to call at each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import Field

from query_api.answers import refusals
from query_api.audited import Trail, audit_of
from query_api.bodies import RequestBody
from query_api.context import ApiContext
from query_api.pages import Address, AgencyContact, Alert, PersonDetails
from query_api.reads import in_utc
from query_api.records import Records
from query_api.security import Principal
from sinks.clickhouse.tables import (
    ALERT_ACTIONS,
    ALERT_COLUMNS,
    ALERTS_SEEN,
    WITHDRAWN,
    AlertActionRow,
    AlertsSeenRow,
    select_list,
)

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=refusals(401, 422))

_LIST = (
    "SELECT " + select_list(ALERT_COLUMNS, "a") + ", "  # noqa: S608 - constant names, bound values
    "if(s.status = '', 'open', s.status) AS status, s.assignee, s.updated_by, s.updated_at, "
    "({everyone:UInt8} = 1 OR mapContains(a.counts_by_agency, {me:String})) AS mine "
    "FROM alerts AS a FINAL "
    "LEFT JOIN (SELECT alert_id, argMax(action, at) AS status, "
    "  argMaxIf(assignee, at, action = 'assigned') AS assignee, "
    "  argMax(username, at) AS updated_by, max(at) AS updated_at "
    "  FROM alert_actions GROUP BY alert_id) AS s ON s.alert_id = a.alert_id "
    "WHERE ({status:String} = '' OR if(s.status = '', 'open', s.status) = {status:String}) "
    "AND ({rule:String} = '' OR a.rule_id = {rule:String}) "
    "AND ({severity:String} = '' OR a.severity = {severity:String}) "
    "AND ({org:String} = '' OR mapContains(a.counts_by_agency, {org:String})) "
    "ORDER BY mine DESC, a.window_end DESC, a.raised_at DESC LIMIT {limit:UInt32}"
)
_NAMES = [*ALERT_COLUMNS, "status", "assignee", "updated_by", "updated_at", "mine"]


class Assignment(RequestBody):
    assignee: Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S")]


class AlertItem(Alert):
    """An alert as the list shows it: the Avro ``alert`` record's fields (docs/alerts.md),
    its status, and what it is to the caller."""

    status: Literal["open", "acknowledged", "assigned", "withdrawn"] = Field(
        description="``withdrawn``: a data steward undid the link between two people that its "
        "evidence relied on (a split); no one acts on it any more."
    )
    assignee: str = Field(
        description="The user it was last assigned to; empty if never. For a withdrawn alert, "
        "the split that withdrew it."
    )
    updated_by: str = Field(description="Who acted on it last; empty while open.")
    updated_at: datetime = Field(description="When it was last acted on (1970 while open).")
    mine: bool = Field(
        description="The caller's organisation is among its owners: an agency whose records "
        "are its evidence, or the triage organisation (MAST_TRIAGE_ORGANISATION), which "
        "owns every alert. The list shows these first."
    )
    may_act: bool = Field(
        description="The caller may acknowledge and assign it: it is theirs, or they are an "
        "administrator."
    )
    new: bool = Field(
        description="Raised since the caller last listed alerts (every alert is new to "
        "someone who never has)."
    )
    subject_person: PersonDetails | None = Field(
        None,
        description="Whom a PERSON alert is about, as the person page shows them: the person "
        "the subject id belongs to now (merges applied), with their latest record's details. "
        "Null for an ADDRESS alert, or when no record of the person is held.",
    )
    subject_address: Address | None = Field(
        None,
        description="The address an ADDRESS alert is about, as the address page shows it (as "
        "the latest interaction there wrote it). Null for a PERSON alert, or when no "
        "interaction at the address is held.",
    )
    shielded: bool = Field(
        False,
        description="The person or address the alert is about is shielded: it is not named "
        "(`subject_person` and `subject_address` are null); its page needs break-glass.",
    )
    owners: list[str] = Field(
        [],
        description="The organisations that may act on it (besides administrators): the "
        "agencies of `counts_by_agency`, in order, then the triage organisation "
        "(MAST_TRIAGE_ORGANISATION) where one is set.",
    )
    contacts: list[AgencyContact] = Field(
        [],
        description="Whom to call at each owning agency, in the order of `owners`: the "
        "contact of that agency's latest event among the evidence. An owner with no such "
        "event held (the triage organisation, or evidence not yet stored) has no entry.",
    )


def owns_every_alert(ctx: ApiContext, organisation: str) -> bool:
    return organisation == ctx.settings.triage_organisation


def alert_owners(ctx: ApiContext, agencies: Iterable[str]) -> list[str]:
    """The organisations an alert belongs to: those whose records are among its evidence
    (``agencies``, the keys of ``counts_by_agency``), in order, then the triage
    organisation where one is set."""
    owners = sorted(set(agencies))
    triage = ctx.settings.triage_organisation
    return [*owners, triage] if triage and triage not in owners else owners


def may_act(ctx: ApiContext, who: Principal, agencies: Iterable[str]) -> bool:
    """Who may acknowledge or assign an alert: a user of one of its owners (``alert_owners``
    of ``agencies``, the keys of its ``counts_by_agency``), or an administrator."""
    return who.role == "admin" or who.organisation in alert_owners(ctx, agencies)


def _last_look(ctx: ApiContext, who: Principal) -> datetime | None:
    """When ``who`` last listed alerts; None if never."""
    with ctx.lock:
        rows = ctx.client.query(
            "SELECT maxOrNull(looked_at) FROM alerts_seen WHERE username = {user:String}",
            parameters={"user": who.username},
        ).result_rows
    seen = in_utc(rows)[0][0] if rows else None
    return seen if isinstance(seen, datetime) else None


def _alerts(ctx: ApiContext, who: Principal, **filters: Any) -> list[dict[str, Any]]:
    """The alerts the filters select, the caller's organisation's first, each marked
    ``mine``, ``may_act`` and ``new``, with its ``owners``, whom to call at each, and whom
    or where it is about; and now recorded as the caller's last look."""
    seen, looking = _last_look(ctx, who), datetime.now(UTC)
    parameters = {
        **filters,
        "me": who.organisation,
        "everyone": int(owns_every_alert(ctx, who.organisation)),
    }
    with ctx.lock:
        rows = in_utc(ctx.client.query(_LIST, parameters=parameters).result_rows)
        ctx.client.insert(
            ALERTS_SEEN,
            [AlertsSeenRow(username=who.username, looked_at=looking)],
            column_names=AlertsSeenRow._fields,
        )
    alerts = [dict(zip(_NAMES, row, strict=True)) for row in rows]
    about = Records(ctx.client, ctx.lock).about_alerts(alerts)
    for alert in alerts:
        alert["mine"] = bool(alert["mine"])
        alert["may_act"] = may_act(ctx, who, alert["counts_by_agency"])
        alert["new"] = seen is None or alert["raised_at"] > seen
        alert["owners"] = alert_owners(ctx, alert["counts_by_agency"])
        subject = about[alert["alert_id"]]
        contacts = subject.pop("contacts")
        alert["contacts"] = [
            {"agency": owner, **contacts[owner]} for owner in alert["owners"] if owner in contacts
        ]
        alert.update(subject)
    return alerts


@router.get(
    "/alerts",
    summary="Alerts: the caller's organisation's first, then the others; each latest first "
    "(by when it happened), with filters",
    description=(
        "Alerts whose evidence includes the caller's organisation's records (or every alert, "
        "for the triage organisation) come first (`mine`); `new` marks those raised since "
        "the caller last listed alerts, and this listing becomes the last."
    ),
)
def list_alerts(
    trail: Annotated[
        Trail, audit_of("list_alerts", asked=("status", "rule", "severity", "organisation"))
    ],
    status_: Annotated[
        Literal["open", "acknowledged", "assigned", "withdrawn"] | None, Query(alias="status")
    ] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    severity: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"] | None = None,
    organisation: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertItem]:
    alerts = _alerts(
        trail.ctx,
        trail.who,
        status=status_ or "",
        rule=rule or "",
        severity=severity or "",
        org=organisation or "",
        limit=limit,
    )
    trail.record(
        asked={"status": status_, "rule": rule, "severity": severity, "org": organisation},
        person_ids=[a["subject_id"] for a in alerts if a["subject_kind"] == "PERSON"],
        address_ids=[a["subject_id"] for a in alerts if a["subject_kind"] == "ADDRESS"],
    )
    return [AlertItem.model_validate(alert) for alert in alerts]


NOT_YOURS = "you may not act on this alert"


def _act(trail: Trail, alert_id: str, action: str, assignee: str = "") -> None:
    """Records ``action`` on the alert, audited with its subject. 404 for no such alert; 403
    unless the caller ``may_act`` on it, with one answer that names neither its owners nor
    its subject; for an assignment, 422 unless ``assignee`` is an active user of the
    caller's organisation who may act on it too (unknown, disabled and other organisations'
    users answered alike, so that the answer does not say which usernames exist). Refusals
    are audited too."""
    ctx, who = trail.ctx, trail.who
    with ctx.lock:
        rows = ctx.client.query(
            "SELECT subject_kind, subject_id, mapKeys(counts_by_agency) "
            "FROM alerts FINAL WHERE alert_id = {id:String}",
            parameters={"id": alert_id},
        ).result_rows
    kind, subject, owners = rows[0] if rows else ("", "", [])
    asked: dict[str, Any] = {"alert_id": alert_id, "assignee": assignee or None}
    recorded: dict[str, Any] = {
        "asked": asked,
        "person_ids": [subject] if kind == "PERSON" else [],
        "address_ids": [subject] if kind == "ADDRESS" else [],
    }
    if not rows:
        trail.refuse(status.HTTP_404_NOT_FOUND, "no such alert", outcome="not_found", **recorded)
    if not may_act(ctx, who, owners):
        asked["problems"] = ["alert_id: not_an_owner"]
        trail.refuse(status.HTTP_403_FORBIDDEN, NOT_YOURS, **recorded)
    if _withdrawn(ctx, alert_id):
        trail.refuse(
            status.HTTP_409_CONFLICT,
            "this alert was withdrawn: the link between two people it relied on was undone",
            **recorded,
        )
    if action == "assigned" and not _may_assign_to(ctx, who, assignee, owners):
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "assign to an active user of your own organisation",
            **recorded,
        )
    row = AlertActionRow(
        alert_id=alert_id,
        at=datetime.now(UTC),
        username=who.username,
        organisation=who.organisation,
        action=action,
        assignee=assignee,
    )
    with ctx.lock:
        ctx.client.insert(ALERT_ACTIONS, [row], column_names=AlertActionRow._fields)
    trail.record(**recorded)


def _withdrawn(ctx: ApiContext, alert_id: str) -> bool:
    with ctx.lock:
        rows = ctx.client.query(
            "SELECT count() FROM alert_actions WHERE alert_id = {id:String} "
            "AND action = {withdrawn:String}",
            parameters={"id": alert_id, "withdrawn": WITHDRAWN},
        ).result_rows
    return bool(rows and rows[0][0])


def _may_assign_to(ctx: ApiContext, who: Principal, username: str, owners: list[str]) -> bool:
    """An active user of the caller's organisation who may act on the alert themselves (the
    second matters only for an administrator acting on another organisation's alert)."""
    user = ctx.users.get(username)
    return (
        user is not None
        and not user.disabled
        and user.organisation == who.organisation
        and may_act(ctx, Principal(user.username, user.role, user.organisation), owners)
    )


AlertId = Annotated[str, Path(max_length=64)]
ALERT_REFUSALS = refusals(
    403,
    404,
    409,
    _403="The caller's organisation is not among the alert's owners (audited; the answer "
    "names neither the owners nor the subject).",
    _404="No such alert (audited as `not_found`).",
    _409="The alert was withdrawn: a data steward undid the link it relied on (audited).",
)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert (its owners, the triage organisation and admins only)",
    description=(
        "Refused with 403 for a user whose organisation is not among the alert's owners "
        "(the agencies of its evidence, and the triage organisation), unless an admin; "
        "the refusal is audited and does not say whose the alert is."
    ),
    status_code=204,
    responses=ALERT_REFUSALS,
)
def acknowledge_alert(
    trail: Annotated[Trail, audit_of("alert_acknowledged", asked=("alert_id",))],
    alert_id: AlertId,
) -> None:
    _act(trail, alert_id, "acknowledged")


@router.post(
    "/alerts/{alert_id}/assign",
    summary="Assign an alert to an active user of the caller's organisation",
    description=(
        "Only a user who may act on the alert assigns it (otherwise 403, as for "
        "acknowledging). Any other name than an active user of the caller's organisation "
        "who may act on it (unknown, disabled, or of another organisation) is refused with "
        "the same 422, so the answer does not say which usernames exist."
    ),
    status_code=204,
    responses={**ALERT_REFUSALS, **refusals(400, 413)},
)
def assign_alert(
    trail: Annotated[Trail, audit_of("alert_assigned", asked=("alert_id",))],
    alert_id: AlertId,
    body: Assignment,
) -> None:
    _act(trail, alert_id, "assigned", body.assignee)
