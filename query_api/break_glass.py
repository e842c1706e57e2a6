"""The review of break-glass (sensitive records issue, item 2): every time someone opened a
shielded person or address, sent at once to the managers of the organisations that hold
the shielded record (``owners``, fixed when the glass was broken) and to the data protection
officer, who each record an outcome. Like the access review's, outcomes are append-only:
the latest per grant is the current one, the earlier stay as the review's history.
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


def reviews_grant(who: Principal, owners: list[str]) -> bool:
    """Whether ``who`` reviews a grant into a record these organisations hold."""
    return who.role == DPO or (who.role == MANAGER and who.organisation in owners)


class BreakGlassReviews(Reader):
    def grants(
        self, who: Principal, days: int, grant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The grants ``who`` reviews, of the last ``days`` days, newest first, each with
        its latest ``outcome`` (None while unreviewed); or the one ``grant_id`` names."""
        if who.role not in REVIEWERS:
            return []
        rows = named(
            GRANT_COLUMNS,
            self.rows(
                "SELECT " + select_list(GRANT_COLUMNS) + " FROM " + BREAK_GLASS + " "  # noqa: S608 - constant names, bound values
                "WHERE granted_at >= {since:DateTime64(3, 'UTC')} "
                "AND ({everyone:UInt8} OR has(owners, {org:String})) "
                "AND ({grant:String} = '' OR grant_id = {grant:String}) "
                "ORDER BY granted_at DESC LIMIT {limit:UInt32}",
                {
                    "since": datetime.now(UTC) - timedelta(days=days),
                    "everyone": int(who.role == DPO),
                    "org": who.organisation,
                    "grant": grant_id or "",
                    "limit": MAX_LISTED,
                },
            ),
        )
        outcomes = self.outcomes([r["grant_id"] for r in rows])
        return [{**row, "outcome": outcomes.get(row["grant_id"])} for row in rows]

    def outcomes(self, grant_ids: list[str]) -> dict[str, ReviewOutcome]:
        if not grant_ids:
            return {}
        rows = self.rows(
            "SELECT grant_id, argMax(tuple(" + select_list(_OUTCOME_COLUMNS) + "), reviewed_at) "
            "FROM " + BREAK_GLASS_REVIEWS + " WHERE grant_id IN {ids:Array(String)} "
            "GROUP BY grant_id",
            {"ids": grant_ids},
        )
        return {str(g): ReviewOutcome(str(o[0]), str(o[1]), str(o[2]), _utc(o[3])) for g, o in rows}

    def record(
        self, grant_id: str, outcome: ReviewCode, note: str, who: Principal
    ) -> ReviewOutcome:
        row = BreakGlassReviewRow(
            grant_id, outcome, note, who.username, who.organisation, datetime.now(UTC)
        )
        with self.lock:
            self.client.insert(BREAK_GLASS_REVIEWS, [row], column_names=BreakGlassReviewRow._fields)
        return ReviewOutcome(outcome, note, who.username, row.reviewed_at)


def _utc(at: datetime) -> datetime:
    """A time read inside a tuple, which the driver hands back without its zone."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
