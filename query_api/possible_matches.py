"""Possible matches in the stewards' queue: records the resolver kept for review beside an
identity they may be (``possible_matches``, migration 0022), shown side by side with the
evidence, for a steward to confirm (a merge) or mark different.

Like a dispute, a possible match is shown with the minimum dataset of the records only
(``query_api.disputes.RECORD_COLUMNS``: never a contact or a case status). A steward's
decision is a row of ``dispute_decisions`` under the possible match's id (``merge`` or
``different``), with the correction it published.

A possible match leaves the open queue once it is resolved: decided; or the two identities
are one person now (merged by the resolver since, or by a confirmation of another possible
match between them); or another possible match between the same two people was decided.
The two sides are compared by the people they belong to now (``person_aliases``), so the
same pair is one entry in the queue however many records were kept for review between them
(the first kept stands for the rest).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from query_api.disputes import Disputes, Key
from sinks.clickhouse.tables import (
    DISPUTE_DECISIONS,
    POSSIBLE_MATCH_COLUMNS,
    POSSIBLE_MATCHES,
    named,
    select_list,
)

POSSIBLE_PREFIX = "Q"
"""A possible match's id begins so (a dispute's with D): the decision route tells them apart."""
SIDE_RECORDS = 20
"""Each side's records shown, latest first."""
READ_AHEAD = 4
"""Undecided rows read per entry asked for: some are resolved since, or repeat a pair."""
MERGE, DIFFERENT = "merge", "different"

_SELECT = f"SELECT {select_list(POSSIBLE_MATCH_COLUMNS)} FROM {POSSIBLE_MATCHES} FINAL "  # noqa: S608 - constant names
_UNDECIDED = f"WHERE possible_id NOT IN (SELECT dispute_id FROM {DISPUTE_DECISIONS}) "  # noqa: S608 - constant names


Status = Literal["open", "merged", "different"]


def is_possible_match(queue_id: str) -> bool:
    return queue_id.startswith(POSSIBLE_PREFIX)


@dataclass
class Entry:
    """One possible match as the queue shows it."""

    row: dict[str, Any]
    """The stored row, its ``evidence`` parsed."""
    person: str
    """The person the record kept for review belongs to now."""
    candidate: str
    """The person it may be, now."""
    decision: dict[str, Any] | None
    status: Status
    """``open``; or decided: ``merged`` or ``different``."""
    record: dict[str, Any] | None = None
    """The record kept for review (minimum dataset); None when it is no longer held."""
    person_records: list[dict[str, Any]] = field(default_factory=list)
    candidate_records: list[dict[str, Any]] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)
    candidate_ids: list[str] = field(default_factory=list)


class PossibleMatches(Disputes):
    def one(self, possible_id: str) -> dict[str, Any] | None:
        """One possible match with its decision (None while open); None for an unknown id."""
        rows = self._rows("WHERE possible_id = {id:String} ", {"id": possible_id}, 1)
        if not rows:
            return None
        row = rows[0]
        row["decision"] = self._decisions([possible_id]).get(possible_id)
        return row

    def entries(self, status: str, limit: int) -> list[Entry]:
        """The queue's possible matches: open ones (oldest kept first) and then decided ones
        (latest decided first), as ``status`` (``open``, ``decided``, ``all``) asks, with
        each side's records."""
        entries: list[Entry] = []
        if status in ("open", "all"):
            entries += self._open(limit)
        if status in ("decided", "all"):
            entries += self._decided(limit)
        self._fill(entries)
        return entries

    def pair(self, row: dict[str, Any]) -> tuple[str, str]:
        """The two people of a possible match now."""
        now = self.current_persons([row["person_id"], row["candidate_person_id"]])
        return (
            now.get(row["person_id"], row["person_id"]),
            now.get(row["candidate_person_id"], row["candidate_person_id"]),
        )

    def pair_decided(self, pair: tuple[str, str]) -> dict[str, Any] | None:
        """A decision on another possible match between the same two people now, if any."""
        decided = self._decided(1000)
        for entry in decided:
            if {entry.person, entry.candidate} == set(pair):
                return entry.decision
        return None

    # Internals --------------------------------------------------------------------------------
    def _rows(self, where: str, parameters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        rows = named(
            POSSIBLE_MATCH_COLUMNS,
            self.rows(
                _SELECT + where + "ORDER BY found_at, possible_id LIMIT {limit:UInt32}",
                {**parameters, "limit": limit},
            ),
        )
        for row in rows:
            row["evidence"] = _evidence(row["evidence"])
        return rows

    def _open(self, limit: int) -> list[Entry]:
        rows = self._rows(
            _UNDECIDED,
            {},
            limit * READ_AHEAD,
        )
        now = self.current_persons(
            sorted({p for r in rows for p in (r["person_id"], r["candidate_person_id"])})
        )
        decided = {frozenset((e.person, e.candidate)) for e in self._decided(1000)}
        return open_entries(rows, now, decided, limit)

    def _decided(self, limit: int) -> list[Entry]:
        decisions = named(
            _DECISION_COLUMNS,
            self.rows(
                "SELECT " + select_list(_DECISION_COLUMNS) + " FROM " + DISPUTE_DECISIONS + " "  # noqa: S608 - constant names
                "WHERE startsWith(dispute_id, {prefix:String}) "
                "ORDER BY decided_at LIMIT 1 BY dispute_id",
                {"prefix": POSSIBLE_PREFIX},
            ),
        )
        decisions.sort(key=lambda d: d["decided_at"], reverse=True)
        decisions = decisions[:limit]
        if not decisions:
            return []
        rows = {
            r["possible_id"]: r
            for r in self._rows(
                "WHERE possible_id IN {ids:Array(String)} ",
                {"ids": [d["dispute_id"] for d in decisions]},
                len(decisions),
            )
        }
        now = self.current_persons(
            sorted({p for r in rows.values() for p in (r["person_id"], r["candidate_person_id"])})
        )
        entries = []
        for decision in decisions:
            row = rows.get(decision["dispute_id"])
            if row is None:
                continue
            entries.append(
                Entry(
                    row,
                    now.get(row["person_id"], row["person_id"]),
                    now.get(row["candidate_person_id"], row["candidate_person_id"]),
                    decision,
                    "merged" if decision["decision"] == MERGE else "different",
                )
            )
        return entries

    def _fill(self, entries: Sequence[Entry]) -> None:
        """Each entry's record kept for review and each side's records (minimum dataset):
        a few reads whatever the number of entries."""
        if not entries:
            return
        sides = sorted({p for e in entries for p in (e.person, e.candidate)})
        belongs = self.owners(sides)
        ids_of: dict[str, list[str]] = {}
        for old, now in belongs.items():
            ids_of.setdefault(now, []).append(old)
        kept: dict[Key, dict[str, Any]] = {}
        keys = sorted({(e.row["agency"], e.row["event_id"]) for e in entries})
        for record in self._records(
            "WHERE (agency, event_id) IN {keys:Array(Tuple(String, String))} ", {"keys": keys}
        ):
            kept.setdefault((record["agency"], record["event_id"]), record)
        for entry in entries:
            entry.record = kept.get((entry.row["agency"], entry.row["event_id"]))
            entry.person_ids = _current_first(ids_of.get(entry.person, []), entry.person)
            entry.candidate_ids = _current_first(ids_of.get(entry.candidate, []), entry.candidate)
            shown = {(entry.row["agency"], entry.row["event_id"])}
            entry.person_records = self._side(entry.person_ids, shown)
            entry.candidate_records = self._side(entry.candidate_ids, shown)

    def _side(self, ids: Sequence[str], shown: set[Key]) -> list[dict[str, Any]]:
        """One side's records other than the one kept for review, latest first."""
        return self._records(
            "WHERE person_id IN {ids:Array(String)} "
            "AND (agency, event_id) NOT IN {keys:Array(Tuple(String, String))} ",
            {"ids": list(ids), "keys": sorted(shown), "limit": SIDE_RECORDS},
            "LIMIT {limit:UInt32}",
        )


_DECISION_COLUMNS: tuple[str, ...] = (
    "dispute_id",
    "decision",
    "note",
    "decided_by",
    "decided_org",
    "decided_at",
    "correction_id",
    "merge_ids",
)


def open_entries(
    rows: Sequence[dict[str, Any]],
    now: dict[str, str],
    decided: set[frozenset[str]],
    limit: int,
) -> list[Entry]:
    """The undecided ``rows`` (oldest kept first) that are still open, at most ``limit``:
    not those whose two people are one person now (``now``: each retired id's current
    person), nor those between two people a decision on another row concerned
    (``decided``), nor a second row between the same two people (the first stands for
    them)."""
    entries: list[Entry] = []
    seen: set[frozenset[str]] = set()
    for row in rows:
        person = now.get(row["person_id"], row["person_id"])
        candidate = now.get(row["candidate_person_id"], row["candidate_person_id"])
        pair = frozenset((person, candidate))
        if person == candidate or pair in decided or pair in seen:
            continue  # resolved since, decided for another record, or shown already
        seen.add(pair)
        entries.append(Entry(row, person, candidate, None, "open"))
        if len(entries) == limit:
            break
    return entries


def _current_first(ids: Sequence[str], current: str) -> list[str]:
    return sorted(set(ids) | {current}, key=lambda i: (i != current, i))


def _evidence(stored: str) -> list[dict[str, Any]]:
    """The stored evidence (JSON list of {field, level, weight}); [] when unreadable."""
    try:
        parsed = json.loads(stored) if stored else []
    except ValueError:
        return []
    if not isinstance(parsed, list):
        return []
    return [
        {"field": str(c["field"]), "level": str(c["level"]), "weight": float(c["weight"])}
        for c in parsed
        if isinstance(c, dict) and {"field", "level", "weight"} <= c.keys()
    ]
