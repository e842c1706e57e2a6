"""Views of people by other organisations, read from the audit log: what a case holder is
told of (``query_api.notifications``, ``viewed_by_other_agency``) and what its person page
lists as "recent views by other agencies", as CP-IS shows a local authority the last
accesses to a child's record. Who, their role and organisation, the purpose code and when;
never the purpose's free-text detail, nor anything else the viewer looked at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from query_api.look_ups import PERSON_VIEWS
from query_api.reads import Reader
from sinks.clickhouse.tables import AUDIT_LOG, named

VIEW_COLUMNS: tuple[str, ...] = (
    "audit_id",
    "at",
    "username",
    "role",
    "organisation",
    "purpose",
    "person_ids",
)


@dataclass(frozen=True)
class OtherView:
    audit_id: str
    at: datetime
    username: str
    role: str
    organisation: str
    purpose: str
    person_id: str
    """The person's id the view opened (their current id then: a page view names it first)."""


def views_by_others(
    reader: Reader,
    organisation: str,
    since: datetime,
    limit: int,
    *,
    person_ids: Sequence[str] | None = None,
    quiet: Sequence[str] = (),
) -> list[OtherView]:
    """Person page views (now or as they stood) shown to users of organisations other than
    ``organisation`` since ``since``, newest first: of any of ``person_ids`` (every id of
    one person) or, with None, of anyone; views for the ``quiet`` purposes left out."""
    about = "" if person_ids is None else "AND hasAny(person_ids, {ids:Array(String)}) "
    rows = reader.rows(
        "SELECT toString(audit_id), at, username, role, organisation, purpose, person_ids "
        "FROM " + AUDIT_LOG + " WHERE action IN {views:Array(String)} AND outcome = 'shown' "
        "AND organisation != {org:String} AND at >= {since:DateTime64(3, 'UTC')} "
        "AND purpose NOT IN {quiet:Array(String)} " + about + "ORDER BY at DESC, audit_id "
        "LIMIT {limit:UInt32}",
        {
            "views": list(PERSON_VIEWS),
            "org": organisation,
            "since": since,
            "quiet": list(quiet),
            "ids": list(person_ids or ()),
            "limit": limit,
        },
    )
    return [
        OtherView(
            str(r["audit_id"]),
            r["at"],
            str(r["username"]),
            str(r["role"]),
            str(r["organisation"]),
            str(r["purpose"]),
            str(r["person_ids"][0]),
        )
        for r in named(VIEW_COLUMNS, rows)
        if r["person_ids"]
    ]
