"""Break-glass into a shielded person or address, and its review (sensitive records issue,
item 2; ``query_api.shielding`` says what is shielded and ``query_api.break_glass`` who
reviews).

A practitioner, manager, administrator or the data protection officer who must see a
shielded record in an emergency states why; the grant lasts ``MAST_BREAK_GLASS_MINUTES``
for that one subject and that one user, and each page opened under it shows a banner and
records the grant in its audit entry. The grant itself is audited as ``break_glass``, and
appears at once in the review queue (and the notifications) of the managers of the
organisations holding the shielded record and of the data protection officer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from query_api.answers import refusals
from query_api.audited import Trail, audit_of
from query_api.bodies import RequestBody
from query_api.break_glass import (
    REVIEWERS,
    BreakGlassReviews,
    ReviewCode,
    ReviewOutcome,
    reviews_grant,
)
from query_api.pages import HeldByEntry
from query_api.routes.persons import Purposeful, _purpose_required
from query_api.shield_guard import held_by
from query_api.shielding import ADDRESS, PERSON, Shielding, SubjectKind
from query_api.stewards import DPO

router = APIRouter(prefix="/api/v1", tags=["shielding"], responses=refusals(401, 422))

MAY_BREAK_GLASS = ("practitioner", "manager", "admin", DPO)
SUBJECT_ACCESS_REQUEST = "subject_access_request"
"""The purpose of the data protection officer's break-glass into a shielded person's
subject access report (the report's own purpose), besides the configured look-up purposes."""
"""Who may break the glass: anyone who opens pages (a steward opens none)."""
ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^\S+$"}


def _not_null(value: object) -> object:
    """An id given as null is refused (leave it out instead), as the document says."""
    if value is None:
        raise ValueError("give an id, or leave the field out")
    return value


Id = Annotated[
    str | None,
    BeforeValidator(_not_null),
    Field(min_length=1, max_length=64, pattern=r"^\S+$"),
    WithJsonSchema(ID_SCHEMA),
]
"""A person's or an address's id: text if given (never null), for a body naming one of
the two."""
GrantId = Annotated[str, Path(pattern=r"^G[0-9a-f]{32}$")]


def one_subject(schema: dict[str, Any]) -> None:
    """Exactly one of ``person_id`` and ``address_id``: stated in the document."""
    schema["oneOf"] = [
        {"required": ["person_id"], "not": {"required": ["address_id"]}},
        {"required": ["address_id"], "not": {"required": ["person_id"]}},
    ]


def _break_glass_rules(schema: dict[str, Any]) -> None:
    _purpose_required(schema)
    one_subject(schema)


class BreakGlassRequest(Purposeful):
    """The shielded person or address to open (one of the two ids), why, and the purpose."""

    model_config = ConfigDict(json_schema_extra=_break_glass_rules)

    person_id: Id = None
    address_id: Id = None
    reason: Annotated[str, Field(min_length=10, max_length=1000, pattern=r"\S")] = Field(
        description="Why this record must be seen now, in words a reviewer can check (10 "
        "characters at least)."
    )


class BreakGlassGrant(BaseModel):
    grant_id: str
    subject_kind: SubjectKind
    subject_id: str
    granted_at: datetime
    expires_at: datetime = Field(description="The grant lasts MAST_BREAK_GLASS_MINUTES.")
    held_by: list[HeldByEntry] = Field(description="Who holds the record, and whom to call.")
    reviewed_by: list[str] = Field(
        description="The organisations whose managers review it (and the data protection officer)."
    )


def recorded(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a request naming one person or address records in the audit: as asked (the ids
    and the reason given), and the person and address ids named."""
    asked = {"person_id": body.person_id, "address_id": body.address_id, "reason": body.reason}
    named = {
        "person_ids": [body.person_id] if body.person_id else [],
        "address_ids": [body.address_id] if body.address_id else [],
    }
    return asked, named


def subject_of(body: Any) -> tuple[SubjectKind, str] | None:
    """The one subject a body names (None unless exactly one id is given)."""
    if (body.person_id is None) == (body.address_id is None):
        return None
    return (PERSON, body.person_id) if body.person_id else (ADDRESS, body.address_id)


@router.post(
    "/break-glass",
    status_code=status.HTTP_201_CREATED,
    summary="Open a shielded person or address in an emergency, saying why",
    description=(
        "For practitioners, managers, administrators and the data protection officer (403 "
        "for a steward, audited). Give one of `person_id` and `address_id`, a `reason` and "
        "a purpose (the data protection officer may also give `subject_access_request`, for "
        "the person's subject access report). The subject must be shielded (404 otherwise: "
        "nothing to break into). "
        "The caller may then open that person's pages (person, history, subject access) or "
        "that address's page until `expires_at`, each showing a banner and recording the "
        "grant in its audit entry. Audited as `break_glass` with the reason, and sent at "
        "once to the review queue (GET /break-glass/reviews) and the notifications of the "
        "managers of the organisations holding the record and of the data protection "
        "officer."
    ),
    responses=refusals(
        400,
        403,
        404,
        413,
        _403="A steward (who opens no pages); audited.",
        _404="The person or address is not shielded, or not known (audited).",
    ),
)
def break_glass(
    trail: Annotated[Trail, audit_of("break_glass")], body: BreakGlassRequest
) -> BreakGlassGrant:
    subject = subject_of(body)
    asked, named = recorded(body)
    if trail.who.role not in MAY_BREAK_GLASS:
        trail.refuse(
            status.HTTP_403_FORBIDDEN,
            "a steward opens no person or address pages, shielded or not",
            asked={**asked, "problems": ["role"]},
            **named,
        )
    if trail.who.role == DPO and body.purpose == SUBJECT_ACCESS_REQUEST:
        trail.purpose, trail.detail = SUBJECT_ACCESS_REQUEST, body.purpose_detail
    else:
        trail.require_purpose(body.purpose, body.purpose_detail, **named)
    if subject is None:
        trail.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "give one of person_id and address_id: the one shielded record to open",
            asked=asked,
            **named,
        )
    kind, subject_id = subject
    shielding = Shielding(trail.ctx.client, trail.ctx.lock)
    shield = (
        shielding.people([subject_id]) if kind == PERSON else shielding.addresses([subject_id])
    ).get(subject_id)
    if shield is None:
        trail.refuse(
            status.HTTP_404_NOT_FOUND,
            f"no shielded {kind.lower()} with that id: open its page as usual",
            outcome="not_found",
            asked=asked,
            **named,
        )
    grant = shielding.grant(
        trail.who,
        kind,
        shielding.current_person(subject_id) if kind == PERSON else subject_id,
        shield,
        body.reason,
        trail.purpose,
        trail.ctx.settings.break_glass_minutes,
    )
    trail.record(asked={**asked, "grant_id": grant.grant_id}, **named)
    return BreakGlassGrant(
        grant_id=grant.grant_id,
        subject_kind=kind,
        subject_id=grant.subject_id,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        held_by=held_by(shield),
        reviewed_by=list(shield.owners),
    )


# Review ---------------------------------------------------------------------------------------
class ReviewOutcomeEntry(BaseModel):
    outcome: ReviewCode = Field(
        description="`justified`: the reason held; `not_justified`: it did not (the user's "
        "organisation is told by the reviewer); `referred`: for investigation under the "
        "partnership's procedure."
    )
    note: str
    reviewed_by: str
    reviewed_at: datetime
    reviewer_role: str = Field(
        description="`manager` (of an organisation holding the record) or `dpo`: the two "
        "review independently."
    )


class BreakGlassItem(BaseModel):
    grant_id: str
    username: str = Field(description="Who broke the glass.")
    organisation: str
    role: str
    subject_kind: SubjectKind
    subject_id: str
    owners: list[str] = Field(description="The organisations holding the shielded record.")
    reason: str
    purpose: str
    granted_at: datetime
    expires_at: datetime
    outcome: ReviewOutcomeEntry | None = Field(
        description="The latest review by a reviewer of the caller's role (a manager, or the "
        "data protection officer), if any: the queue is open until that role has reviewed."
    )
    outcomes: list[ReviewOutcomeEntry] = Field(
        description="Every role's latest review (the managers' and the officer's)."
    )


class ReviewRequest(RequestBody):
    outcome: ReviewCode = Field(description="What the review found (see ReviewOutcomeEntry).")
    note: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")] = Field(
        description="Why: what was checked and with whom."
    )


NOT_A_REVIEWER = (
    "break-glass is reviewed by the managers of the organisations holding the shielded "
    "record and by the data protection officer"
)


def _reviewer(trail: Trail, asked: dict[str, Any]) -> None:
    if trail.who.role not in REVIEWERS:
        trail.refuse(
            status.HTTP_403_FORBIDDEN, NOT_A_REVIEWER, asked={**asked, "problems": ["role"]}
        )


def _outcome(outcome: ReviewOutcome | None) -> ReviewOutcomeEntry | None:
    if outcome is None:
        return None
    return ReviewOutcomeEntry(
        outcome=outcome.outcome,  # type: ignore[arg-type]  # written from ReviewCode only
        note=outcome.note,
        reviewed_by=outcome.reviewed_by,
        reviewed_at=outcome.reviewed_at,
        reviewer_role=outcome.reviewer_role,
    )


def _item(row: dict[str, Any]) -> BreakGlassItem:
    return BreakGlassItem(
        **{
            **row,
            "outcome": _outcome(row["outcome"]),
            "outcomes": [_outcome(o) for o in row["outcomes"]],
        }
    )


@router.get(
    "/break-glass/reviews",
    summary="The break-glass review queue: every opening of a shielded record to review",
    description=(
        "Managers see the grants into records their organisation holds; the data "
        "protection officer sees every grant (403 for anyone else, audited); nobody sees their "
        "own. Newest first, over the last MAST_BREAK_GLASS_NOTICE_DAYS days (500 at most); "
        "`status=open` lists those not yet reviewed by a reviewer of the caller's role. "
        "Audited as `view_break_glass_reviews` with the people and addresses named."
    ),
    responses=refusals(403, _403="Not a manager or the data protection officer (audited)."),
)
def list_break_glass_reviews(
    trail: Annotated[Trail, audit_of("view_break_glass_reviews", asked=("status",))],
    status_: Annotated[
        Literal["open", "reviewed", "all"],
        Query(alias="status", description="`open` (not reviewed yet), `reviewed` or `all`."),
    ] = "open",
) -> list[BreakGlassItem]:
    asked = {"status": status_}
    _reviewer(trail, asked)
    store = BreakGlassReviews(trail.ctx.client, trail.ctx.lock)
    rows = [
        r
        for r in store.grants(trail.who, trail.ctx.settings.break_glass_notice_days)
        if status_ == "all" or (r["outcome"] is None) == (status_ == "open")
    ]
    trail.record(
        asked=asked,
        person_ids=sorted({r["subject_id"] for r in rows if r["subject_kind"] == PERSON}),
        address_ids=sorted({r["subject_id"] for r in rows if r["subject_kind"] == ADDRESS}),
    )
    return [_item(r) for r in rows]


@router.post(
    "/break-glass/{grant_id}/review",
    summary="Record the outcome of reviewing one break-glass",
    description=(
        "A manager of an organisation holding the record, or the data protection officer "
        "(403 for anyone else, audited); a grant the caller does not review (their own "
        "break-glass included) is 404. Managers and the officer review independently: a "
        "grant leaves each one's open queue when a reviewer of that role has recorded an "
        "outcome. A later outcome replaces the earlier one of the same role in the queue; "
        "both stay recorded. Audited as "
        "`review_break_glass`."
    ),
    responses=refusals(
        400,
        403,
        404,
        413,
        _403="Not a manager or the data protection officer (audited).",
        _404="No such grant among those the caller reviews (audited as `not_found`).",
    ),
)
def review_break_glass(
    trail: Annotated[Trail, audit_of("review_break_glass", asked=("grant_id",))],
    grant_id: GrantId,
    body: ReviewRequest,
) -> ReviewOutcomeEntry:
    asked = {"grant_id": grant_id, "outcome": body.outcome}
    _reviewer(trail, asked)
    store = BreakGlassReviews(trail.ctx.client, trail.ctx.lock)
    found = store.grants(trail.who, trail.ctx.settings.break_glass_notice_days, grant_id)
    if not found or not reviews_grant(trail.who, found[0]):
        trail.refuse(status.HTTP_404_NOT_FOUND, "no such grant", asked=asked, outcome="not_found")
    grant = found[0]
    outcome = store.record(grant_id, body.outcome, body.note, trail.who)
    person = grant["subject_kind"] == PERSON
    trail.record(
        asked=asked,
        person_ids=[grant["subject_id"]] if person else [],
        address_ids=[] if person else [grant["subject_id"]],
    )
    entry = _outcome(outcome)
    assert entry is not None  # noqa: S101 - just recorded
    return entry
