"""The review of break-glass (sensitive records issue, item 2): every time someone opened a
shielded person or address, sent at once to the managers of the organisations that hold
the shielded record (``owners``, fixed when the glass was broken) and to the data protection
officer, who each record an outcome: independently, so a grant stays open for the officer
until the officer has reviewed it, whatever a manager decided, and the other way round. No
one reviews their own break-glass. Like the access review's, outcomes are append-only: the
latest per grant and reviewer role is that role's current one, the earlier stay as the
review's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from query_api.reads import Reader
from query_api.security import Principal
from query_api.stewards import DPO
from sinks.clickhouse.tables import (
    BREAK_GLASS,
    BREAK_GLASS_REVIEWS,
    BreakGlassReviewRow,
    BreakGlassRow,
    named,
    select_list,
)

ReviewCode = Literal["justified", "not_justified", "referred"]
REVIEW_CODES: tuple[str, ...] = get_args(ReviewCode)
MANAGER = "manager"
REVIEWERS = (MANAGER, DPO)
"""Who reviews: a manager, for grants into records their organisation holds; the data
protection officer, for every grant."""

GRANT_COLUMNS: tuple[str, ...] = BreakGlassRow._fields
_OUTCOME_COLUMNS = ("outcome", "note", "reviewed_by", "reviewed_at")
MAX_LISTED = 500


@dataclass(frozen=True)
class ReviewOutcome:
    outcome: str
    note: str
    reviewed_by: str
    reviewed_at: datetime
    reviewer_role: str


def reviews_grant(who: Principal, grant: dict[str, Any]) -> bool:
    """Whether ``who`` reviews this grant: into a record their organisation holds (a
    manager) or any (the data protection officer), and not their own."""
    if grant["username"] == who.username:
        return False
    return who.role == DPO or (who.role == MANAGER and who.organisation in grant["owners"])


class BreakGlassReviews(Reader):
    def grants(
        self, who: Principal, days: int, grant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The grants ``who`` reviews, of the last ``days`` days, newest first, each with
        the latest ``outcome`` of a reviewer of ``who``'s role (None while that role has
        not reviewed it) and ``outcomes``, every role's latest; or the one ``grant_id``
        names. A user's own break-glass is not among them."""
        if who.role not in REVIEWERS:
            return []
        rows = named(
            GRANT_COLUMNS,
            self.rows(
                "SELECT " + select_list(GRANT_COLUMNS) + " FROM " + BREAK_GLASS + " "  # noqa: S608 - constant names, bound values
                "WHERE granted_at >= {since:DateTime64(3, 'UTC')} "
                "AND ({everyone:UInt8} OR has(owners, {org:String})) "
                "AND ({grant:String} = '' OR grant_id = {grant:String}) "
                "AND username != {user:String} "
                "ORDER BY granted_at DESC LIMIT {limit:UInt32}",
                {
                    "since": datetime.now(UTC) - timedelta(days=days),
                    "everyone": int(who.role == DPO),
                    "org": who.organisation,
                    "grant": grant_id or "",
                    "user": who.username,
                    "limit": MAX_LISTED,
                },
            ),
        )
        outcomes = self.outcomes([r["grant_id"] for r in rows])
        return [
            {
                **row,
                "outcome": outcomes.get(row["grant_id"], {}).get(who.role),
                "outcomes": list(outcomes.get(row["grant_id"], {}).values()),
            }
            for row in rows
        ]

    def outcomes(self, grant_ids: list[str]) -> dict[str, dict[str, ReviewOutcome]]:
        """Each grant's latest outcome per reviewer role."""
        if not grant_ids:
            return {}
        rows = self.rows(
            "SELECT grant_id, reviewer_role, argMax(tuple("  # noqa: S608 - constant names
            + select_list(_OUTCOME_COLUMNS)
            + "), reviewed_at) FROM "
            + BREAK_GLASS_REVIEWS
            + " WHERE grant_id IN {ids:Array(String)} GROUP BY grant_id, reviewer_role "
            "ORDER BY grant_id, reviewer_role",
            {"ids": grant_ids},
        )
        found: dict[str, dict[str, ReviewOutcome]] = {}
        for grant, role, o in rows:
            found.setdefault(str(grant), {})[str(role)] = ReviewOutcome(
                str(o[0]), str(o[1]), str(o[2]), _utc(o[3]), str(role)
            )
        return found

    def record(
        self, grant_id: str, outcome: ReviewCode, note: str, who: Principal
    ) -> ReviewOutcome:
        row = BreakGlassReviewRow(
            grant_id, who.role, outcome, note, who.username, who.organisation, datetime.now(UTC)
        )
        with self.lock:
            self.client.insert(BREAK_GLASS_REVIEWS, [row], column_names=BreakGlassReviewRow._fields)
        return ReviewOutcome(outcome, note, who.username, row.reviewed_at, who.role)


def _utc(at: datetime) -> datetime:
    """A time read inside a tuple, which the driver hands back without its zone."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
