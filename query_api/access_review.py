"""The unusual-access review's data: the audit entries the rules read, what MAST knows about
the people in them, and the outcomes a data protection officer records.

Findings are derived from the audit log each time the queue is read (``mast_core.
access_review``), never stored; each finding's id is the same every time, so an outcome
recorded against it stays with it. The rules are read when the API starts (a changed rules
file takes effect at the next start).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from clickhouse_connect.driver.client import Client

from mast_core.access_review.findings import Access, Finding, review
from mast_core.access_review.rules import AccessRules
from query_api.cases import case_spans
from query_api.look_ups import LOOK_UPS
from query_api.reads import Reader
from query_api.security import Principal
from sinks.clickhouse.tables import (
    ACCESS_REVIEW_OUTCOMES,
    ALERTS,
    AUDIT_LOG,
    RESOLVED_INTERACTIONS,
    USERS,
    AccessReviewOutcomeRow,
    named,
    select_list,
)

OutcomeCode = Literal["no_concern", "advice_given", "referred"]
OUTCOMES: tuple[str, ...] = get_args(OutcomeCode)
"""What a reviewer may decide: nothing wrong (a reason was found), the user was advised,
or the matter was referred for investigation under the partnership's procedure."""

MAX_ENTRIES = 200_000
"""The most audit entries one review reads (the newest); when there are more, the review
starts at the oldest it read, and bursts that start within a window of it wait for a
shorter ``MAST_ACCESS_REVIEW_DAYS``."""
ENTRY_COLUMNS: tuple[str, ...] = (
    "audit_id",
    "at",
    "username",
    "organisation",
    "action",
    "outcome",
    "person_ids",
    "address_ids",
)
_ENTRIES = (
    "SELECT toString(audit_id) AS audit_id, "  # noqa: S608 - constant names
    + select_list(ENTRY_COLUMNS[1:])
    + " FROM "
    + AUDIT_LOG
    + " WHERE at >= {since:DateTime64(3, 'UTC')} AND at <= {until:DateTime64(3, 'UTC')} "
    "AND action IN {actions:Array(String)} ORDER BY at DESC LIMIT {limit:UInt32}"
)


@dataclass(frozen=True)
class Outcome:
    outcome: OutcomeCode
    note: str
    reviewed_by: str
    reviewed_at: datetime


@dataclass(frozen=True)
class Reviewed:
    finding: Finding
    outcome: Outcome | None


@dataclass(frozen=True)
class Read:
    """The look-ups one review reads, and from when it read them."""

    entries: list[Access]
    since: datetime


class _Known:
    """What the rules ask about the people in the entries, read once for all of them."""

    def __init__(self, reader: Reader, people: set[str], users: dict[str, str]) -> None:
        ids = sorted(people)
        current = reader.current_persons(ids) if ids else {}
        self._current = {p: current.get(p, p) for p in ids}
        now = sorted(set(self._current.values()))
        self._cases = case_spans(reader, now)
        self._users = users
        self._names: dict[str, set[str]] = {}
        self._alerted: dict[str, datetime] = {}
        owners = reader.owners(now) if now else {}
        if not owners:
            return
        bound = {"ids": sorted(owners)}
        for person, family in reader.rows(
            "SELECT DISTINCT person_id, family_name FROM "  # noqa: S608 - constant names
            + RESOLVED_INTERACTIONS
            + " WHERE person_id IN {ids:Array(String)} AND family_name IS NOT NULL",
            bound,
        ):
            self._names.setdefault(owners[str(person)], set()).add(str(family))
        for subject, first in reader.rows(
            "SELECT subject_id, min(raised_at) FROM " + ALERTS + " "  # noqa: S608 - constant names
            "WHERE subject_kind = 'PERSON' AND subject_id IN {ids:Array(String)} "
            "GROUP BY subject_id",
            bound,
        ):
            person = owners[str(subject)]
            self._alerted[person] = min(first, self._alerted.get(person, first))

    def person_of(self, person_id: str) -> str:
        return self._current.get(person_id, person_id)

    def involved(self, organisation: str, person_id: str, at: datetime) -> bool:
        person = self.person_of(person_id)
        alerted = self._alerted.get(person)
        if alerted is not None and alerted <= at:
            return True
        return any(s.agency == organisation and s.open_at(at) for s in self._cases.get(person, ()))

    def family_names(self, person_id: str) -> Iterable[str]:
        return self._names.get(self.person_of(person_id), ())

    def user_family_name(self, username: str) -> str | None:
        display = self._users.get(username, "").split()
        return display[-1] if display else None


class AccessReview:
    def __init__(self, client: Client, lock: threading.Lock, rules: AccessRules, days: int) -> None:
        self.client = client
        self.reader = Reader(client, lock)
        self.lock = lock
        self.rules = rules
        self.days = days

    def read(self, until: datetime | None = None) -> Read:
        until = until or datetime.now(UTC)
        since = until - timedelta(days=self.days)
        rows = named(
            ENTRY_COLUMNS,
            self.reader.rows(
                _ENTRIES,
                {
                    "since": since,
                    "until": until,
                    "actions": sorted(LOOK_UPS.all),
                    "limit": MAX_ENTRIES,
                },
            ),
        )
        entries = [
            Access(
                str(r["audit_id"]),
                r["at"],
                str(r["username"]),
                str(r["organisation"]),
                str(r["action"]),
                str(r["outcome"]),
                tuple(r["person_ids"]),
                tuple(r["address_ids"]),
            )
            for r in rows
        ]
        if len(entries) == MAX_ENTRIES:
            since = entries[-1].at  # newest first: the oldest read
        return Read(entries, since)

    def findings(self, read: Read) -> list[Reviewed]:
        """Every finding the rules make of what was read, with its outcome."""
        entries = read.entries
        people = {p for entry in entries for p in entry.person_ids}
        users = {
            str(name): str(display)
            for name, display in self.reader.rows(
                "SELECT username, argMax(display_name, updated_at) FROM " + USERS + " "  # noqa: S608 - constant names
                "WHERE username IN {names:Array(String)} GROUP BY username",
                {"names": sorted({entry.username for entry in entries})},
            )
        }
        known = _Known(self.reader, people, users)
        found = review(self.rules, entries, known, LOOK_UPS, read.since)
        outcomes = self.outcomes([f.finding_id for f in found])
        return [Reviewed(f, outcomes.get(f.finding_id)) for f in found]

    def outcomes(self, finding_ids: Sequence[str]) -> dict[str, Outcome]:
        if not finding_ids:
            return {}
        rows = self.reader.rows(
            "SELECT finding_id, argMax(tuple(outcome, note, reviewed_by, reviewed_at), "  # noqa: S608 - constant names
            "reviewed_at) FROM " + ACCESS_REVIEW_OUTCOMES + " "
            "WHERE finding_id IN {ids:Array(String)} GROUP BY finding_id",
            {"ids": list(finding_ids)},
        )
        return {str(fid): Outcome(_code(o[0]), str(o[1]), str(o[2]), _utc(o[3])) for fid, o in rows}

    def record(self, finding_id: str, outcome: OutcomeCode, note: str, who: Principal) -> Outcome:
        row = AccessReviewOutcomeRow(
            finding_id, outcome, note, who.username, who.organisation, datetime.now(UTC)
        )
        with self.lock:
            self.client.insert(
                ACCESS_REVIEW_OUTCOMES, [row], column_names=AccessReviewOutcomeRow._fields
            )
        return Outcome(outcome, note, who.username, row.reviewed_at)


def _code(value: object) -> OutcomeCode:
    """An outcome as stored: written from ``OutcomeCode`` only."""
    if value not in OUTCOMES:
        raise ValueError(f"unknown review outcome {value!r} in {ACCESS_REVIEW_OUTCOMES}")
    return value  # type: ignore[return-value]  # checked against OUTCOMES above


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
