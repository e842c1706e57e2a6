"""Notifications: what changed in something the caller looked at (``query_api.notifications``
says what makes one), listed, and marked seen. Any signed-in role; each only their own.
Both routes are audited: the list with the people its links name, the marking with the
notifications marked."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from query_api.answers import refusals
from query_api.audited import Trail, audit_of
from query_api.bodies import RequestBody
from query_api.notifications import Notice, Notifications, as_dict

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=refusals(401, 422))

MAX_LISTED = 200
MAX_MARKED = 200
ID_PATTERN = r"^N[0-9a-f]{32}$"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?")
NAME_SOMETHING = (
    "name the notifications to mark: their ids (notification_ids) or a time (up_to), "
    "to mark every notification up to it"
)


class NotificationLink(BaseModel):
    kind: Literal["person", "break_glass_review"] = Field(
        description="What the link opens: `person`, a person's page (opened, as every person "
        "page, with a declared purpose: GET /persons/{id} or POST /persons/{id}/view); "
        "`break_glass_review`, one break-glass in the review queue (GET "
        "/break-glass/reviews, POST /break-glass/{id}/review)."
    )
    id: str = Field(description="The person's current id, or the break-glass grant's.")
    label: str = Field(description="What the link is, in words (never a name).")


class Notification(BaseModel):
    """Something that changed in what the caller looked at. Every kind has these fields; a
    client that meets a kind it does not know shows `message` and `links`."""

    notification_id: str = Field(
        description="The same every time the notification is listed (for marking it seen)."
    )
    kind: Literal["corrected_person", "viewed_by_other_agency", "break_glass"] = Field(
        description="`corrected_person`: a person the caller viewed was two people's records "
        "joined by mistake, and a steward has put them apart. `viewed_by_other_agency`: "
        "someone of another organisation opened the page of a person the caller's "
        "organisation holds an open case for (who, organisation, purpose, when; told to the "
        "case holder's practitioners and managers; views for the purposes in "
        "MAST_LEAD_AGENCY_QUIET_PURPOSES tell no one). `break_glass`: someone broke the "
        "glass into a shielded record the caller reviews (managers of the organisations "
        "holding it, and the data protection officer), until it is reviewed. More kinds "
        "may be added."
    )
    at: datetime = Field(
        description="When it happened (for a correction, the split; for a view, the view)."
    )
    message: str = Field(description="What happened, in plain English: ids and dates only.")
    links: list[NotificationLink] = Field(description="The pages to open, as they are now.")
    viewed_at: datetime | None = Field(
        description="The caller's latest view that makes it theirs (`corrected_person`: "
        "their latest view of the person while it was shown merged)."
    )
    seen: bool = Field(description="The caller has marked it seen.")


class NotificationList(BaseModel):
    unseen: int = Field(description="How many of the caller's notifications are not seen.")
    notifications: list[Notification] = Field(description="Newest first.")


def _rfc3339(value: object) -> object:
    """A time as the document declares it (``format: date-time``, text): pydantic alone
    would also take a number, or digits in a string, as seconds since 1970."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("write a time as 2026-04-03T10:00:00Z")
    return value


def _one_named(schema: dict[str, Any]) -> None:
    schema["anyOf"] = [
        {
            "required": ["notification_ids"],
            "properties": {"notification_ids": {"type": "array", "minItems": 1}},
        },
        {
            "required": ["up_to"],
            "properties": {"up_to": {"type": "string", "format": "date-time"}},
        },
    ]


class MarkSeen(RequestBody):
    """Which notifications to mark seen: these ids, or every one up to a time (its `at`),
    or both. Ids that are not the caller's notifications are left alone."""

    model_config = ConfigDict(json_schema_extra=_one_named)

    notification_ids: (
        Annotated[
            list[Annotated[str, Field(pattern=ID_PATTERN)]],
            Field(min_length=1, max_length=MAX_MARKED),
        ]
        | None
    ) = None
    up_to: Annotated[datetime, BeforeValidator(_rfc3339)] | None = Field(
        None,
        description="Every notification whose `at` is at or before this time (a time "
        "without a zone is UTC).",
    )


class MarkedSeen(BaseModel):
    marked: list[str] = Field(description="The notifications marked now (not seen before).")
    unseen: int = Field(description="How many of the caller's notifications are still unseen.")


@router.get(
    "/notifications",
    summary="The caller's notifications, newest first: what changed in what they looked at",
    description=(
        "Derived from what is stored, for the signed-in user only (any role). "
        "`corrected_person`: a person the caller viewed (a person, history or address page, "
        "or a person search's results, as the audit records) while two people's records "
        "were merged into it, before a steward split them. `viewed_by_other_agency` (to "
        "practitioners and managers): someone of another organisation opened the page of a "
        "person the caller's organisation had an open case for then. `break_glass` (to "
        "the managers of the organisations holding the record and the data protection "
        "officer): a break-glass into a shielded record not yet reviewed. Audited as "
        "`list_notifications` with the people the links name."
    ),
)
def list_notifications(
    trail: Annotated[Trail, audit_of("list_notifications", asked=("unseen", "limit"))],
    unseen: Annotated[bool, Query(description="Only those not marked seen.")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 50,
) -> NotificationList:
    notices = Notifications.of(trail.ctx).for_user(trail.who)
    waiting = [n for n in notices if not n.seen]
    shown = (waiting if unseen else notices)[:limit]
    trail.record(
        asked={"unseen": unseen, "limit": limit},
        person_ids=_people(shown),
    )
    return NotificationList.model_validate(
        {"unseen": len(waiting), "notifications": [as_dict(n) for n in shown]}
    )


@router.post(
    "/notifications/seen",
    summary="Mark the caller's notifications seen: by id, or every one up to a time",
    description=(
        "`notification_ids`, `up_to`, or both (at least one). Only the caller's own "
        "notifications are marked; other ids are left alone. Audited as "
        "`mark_notifications_seen` with the ids marked."
    ),
    responses=refusals(400, 413),
)
def mark_notifications_seen(
    trail: Annotated[Trail, audit_of("mark_notifications_seen")],
    body: MarkSeen,
) -> MarkedSeen:
    up_to = body.up_to
    if up_to is not None and up_to.tzinfo is None:
        up_to = up_to.replace(tzinfo=UTC)
    asked: dict[str, Any] = {"notification_ids": body.notification_ids, "up_to": up_to}
    if body.notification_ids is None and up_to is None:
        trail.refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, NAME_SOMETHING, asked=asked)
    store = Notifications.of(trail.ctx)
    notices = store.for_user(trail.who)
    named = set(body.notification_ids or ())
    marked = [
        n
        for n in notices
        if not n.seen and (n.notification_id in named or (up_to is not None and n.at <= up_to))
    ]
    store.mark_seen(trail.who.username, [n.notification_id for n in marked])
    trail.record(asked={**asked, "marked": [n.notification_id for n in marked]})
    return MarkedSeen(
        marked=[n.notification_id for n in marked],
        unseen=sum(1 for n in notices if not n.seen) - len(marked),
    )


def _people(notices: list[Notice]) -> list[str]:
    """The people the notifications' links name, once each."""
    return list(
        dict.fromkeys(link.id for n in notices for link in n.links if link.kind == "person")
    )
