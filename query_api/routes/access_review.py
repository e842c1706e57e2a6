"""The unusual-access review (sensitive records issue, item 5): the data protection
officer's queue of findings that the rules in ``mast_core.access_review`` make of the audit
log, each with the audit entries behind it, and the outcome the officer records.

``dpo`` only: everyone else is refused 403, audited. Listing is audited with the people the
findings name; recording an outcome is audited with the finding.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from query_api.access_review import AccessReview, Outcome, OutcomeCode, Reviewed
from query_api.answers import refusals
from query_api.audited import Trail, audit_of
from query_api.bodies import RequestBody
from query_api.stewards import DPO

router = APIRouter(prefix="/api/v1", tags=["access review"], responses=refusals(401, 422))

ONLY_DPO = "only the data protection officer (role dpo) works the unusual-access review"
NOT_A_DPO = "role: not_a_dpo"
FindingId = Annotated[str, Path(pattern=r"^F[0-9a-f]{32}$")]


class ReviewOutcome(BaseModel):
    outcome: OutcomeCode = Field(
        description="`no_concern`: a good reason was found; `advice_given`: the user was "
        "advised; `referred`: referred for investigation under the partnership's procedure."
    )
    note: str = Field(description="What the reviewer found, in their words.")
    reviewed_by: str
    reviewed_at: datetime


class AuditRef(BaseModel):
    audit_id: str = Field(description="The audit entry (GET /audit shows it in full).")
    at: datetime
    action: str = Field(description="The audited action: a search or a page view.")
    person_ids: list[str] = Field(description="The people the entry names.")


class FindingItem(BaseModel):
    finding_id: str = Field(description="The same every time the finding is listed.")
    rule_id: str = Field(description="The rule that made it (the unusual-access rules file).")
    summary: str = Field(description="What the rule looks for, in words.")
    username: str = Field(description="Whose look-ups they were.")
    organisation: str
    first_at: datetime
    last_at: datetime
    count: int = Field(description="What the rule counted: people, look-ups or searches.")
    person_ids: list[str] = Field(description="The people concerned.")
    entries: list[AuditRef] = Field(description="The audit entries behind it, oldest first.")
    outcome: ReviewOutcome | None = Field(description="The latest outcome recorded, if any.")


class OutcomeRequest(RequestBody):
    outcome: OutcomeCode = Field(description="What the review found (see ReviewOutcome).")
    note: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")] = Field(
        description="Why: what was checked and with whom."
    )


def _store(trail: Trail) -> AccessReview:
    ctx = trail.ctx
    return AccessReview(ctx.client, ctx.lock, ctx.access_rules, ctx.settings.access_review_days)


def _dpo(trail: Trail, **recorded: Any) -> None:
    """Refuses (403, audited) anyone but the data protection officer."""
    if trail.who.role != DPO:
        asked = dict(recorded.pop("asked", {}))
        trail.refuse(status.HTTP_403_FORBIDDEN, ONLY_DPO, asked={**asked, "problems": [NOT_A_DPO]})


def _outcome(outcome: Outcome) -> ReviewOutcome:
    return ReviewOutcome(
        outcome=outcome.outcome,
        note=outcome.note,
        reviewed_by=outcome.reviewed_by,
        reviewed_at=outcome.reviewed_at,
    )


def _item(reviewed: Reviewed, entries: dict[str, AuditRef]) -> FindingItem:
    finding = reviewed.finding
    return FindingItem(
        finding_id=finding.finding_id,
        rule_id=finding.rule_id,
        summary=finding.summary,
        username=finding.username,
        organisation=finding.organisation,
        first_at=finding.first_at,
        last_at=finding.last_at,
        count=finding.count,
        person_ids=list(finding.person_ids),
        entries=[entries[audit_id] for audit_id in finding.audit_ids],
        outcome=_outcome(reviewed.outcome) if reviewed.outcome else None,
    )


@router.get(
    "/access-review",
    summary="The unusual-access review: findings of the rules over the audit log, with the "
    "audit entries behind each",
    description=(
        "Data protection officer only (`dpo`; 403 for everyone else, audited). The rules "
        "(shipped in mast_core/access_review/default_access_rules.yaml, or the file "
        "MAST_ACCESS_RULES_FILE names) read the searches and page views of the last "
        "MAST_ACCESS_REVIEW_DAYS days: many people viewed without an open case held by the "
        "viewer's organisation or an alert, bursts of look-ups out of hours, a user viewing "
        "someone of their own family name, repeated searches that found nobody. Newest "
        "first; `status=open` lists those without an outcome. Audited with the people named."
    ),
    responses=refusals(403, _403="Not the data protection officer (audited)."),
)
def list_access_review(
    trail: Annotated[Trail, audit_of("view_access_review", asked=("status",))],
    status_: Annotated[
        Literal["open", "reviewed", "all"],
        Query(alias="status", description="`open` (no outcome yet), `reviewed` or `all`."),
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[FindingItem]:
    asked = {"status": status_, "limit": limit}
    _dpo(trail, asked=asked)
    store = _store(trail)
    read = store.read()
    refs = {
        e.audit_id: AuditRef(
            audit_id=e.audit_id, at=e.at, action=e.action, person_ids=list(e.person_ids)
        )
        for e in read.entries
    }
    reviewed = [
        r
        for r in store.findings(read)
        if status_ == "all" or (r.outcome is None) == (status_ == "open")
    ][:limit]
    items = [_item(r, refs) for r in reviewed]
    trail.record(asked=asked, person_ids=sorted({p for item in items for p in item.person_ids}))
    return items


@router.post(
    "/access-review/{finding_id}/outcome",
    summary="Record the outcome of reviewing one finding",
    description=(
        "Data protection officer only (403 for everyone else, audited). The finding must be "
        "one the review lists now (404 otherwise). A later outcome replaces the earlier one "
        "in the queue; both stay recorded. Audited with the finding and the outcome."
    ),
    responses=refusals(
        400,
        403,
        404,
        413,
        _403="Not the data protection officer (audited).",
        _404="No such finding in the review period (audited as `not_found`).",
    ),
)
def record_access_review_outcome(
    trail: Annotated[Trail, audit_of("record_access_review", asked=("finding_id",))],
    finding_id: FindingId,
    body: OutcomeRequest,
) -> ReviewOutcome:
    asked = {"finding_id": finding_id, "outcome": body.outcome}
    _dpo(trail, asked=asked)
    store = _store(trail)
    found = {r.finding.finding_id: r.finding for r in store.findings(store.read())}
    finding = found.get(finding_id)
    if finding is None:
        trail.refuse(status.HTTP_404_NOT_FOUND, "no such finding", asked=asked, outcome="not_found")
    outcome = store.record(finding_id, body.outcome, body.note.strip(), trail.who)
    trail.record(asked=asked, person_ids=list(finding.person_ids))
    return _outcome(outcome)
