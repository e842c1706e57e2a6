"""Disputes ("not the same person"): what is stored when a practitioner disputes records on
a person's page, what a steward's queue shows, and which merges a split undoes.

A steward sees the minimum dataset of the records (names, date of birth, gender, address,
agency, system, reference, when, event type) and the evidence that linked them (each
record's stored ``match_reason`` and ``match_weight``, and each merge's evidence), never
contacts or case status: ``RECORD_COLUMNS`` is all that is read.

Which merge a split undoes. ``resolved_interactions`` keeps each record with the person id
it was resolved to when it arrived (``held_as`` here), and merges never rewrite it. A record
held as the person's current id was linked to them directly: no merge brought it, and a
split detaches it instead (``mast_core.linkage.detach``: an identity of its own, never linked
to the person again). A record held as an id merged into the person came with the
merge that retired that id: the latest row of ``identity_merges`` whose
``retired_person_id`` is that id (in a chain c → b → a, c's records came with the merge
that retired c; ``person_aliases`` would name the later merge that re-pointed c to a, which
would take b's records away too). The merges are listed latest first, the order in which
undoing them one by one leaves each record where it belongs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from query_api.reads import Reader
from sinks.clickhouse.tables import (
    DISPUTE_DECISIONS,
    DISPUTES,
    IDENTITY_MERGES,
    MERGE_COLUMNS,
    RESOLVED_INTERACTIONS,
    DisputeDecisionRow,
    DisputeRow,
    named,
    select_list,
)

RECORD_COLUMNS: tuple[str, ...] = (
    "agency",
    "event_id",
    "person_id",
    "source_system",
    "source_record_id",
    "event_type",
    "event_time",
    "occurred_at",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "address_id",
    "match_reason",
    "match_weight",
)
"""The columns of ``resolved_interactions`` a steward sees: the minimum dataset and the
link's evidence. No contact, no case status."""
OTHER_RECORDS = 100
"""The person's other records shown beside the disputed ones, latest first."""
SHOWN_MISSING = 10

_LATEST = "ORDER BY event_time DESC, resolved_at DESC LIMIT 1 BY agency, event_id "
"""Each record once, its latest resolution (a record replayed after a crash)."""
_RECORDS = "SELECT " + select_list(RECORD_COLUMNS) + " FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
_DISPUTE_COLUMNS: tuple[str, ...] = DisputeRow._fields
_DECISION_COLUMNS: tuple[str, ...] = DisputeDecisionRow._fields

Key = tuple[str, str]
"""A record's key: (agency, event_id)."""


def new_dispute_id() -> str:
    return "D" + uuid.uuid4().hex


@dataclass
class Plan:
    """What a split of one dispute would do now."""

    current: str
    """The person the disputed records' page belongs to now (merges applied)."""
    ids: list[str]
    """Every id of that person: the current one first, then those merged into it."""
    records: dict[Key, dict[str, Any]]
    """The disputed records still held, by key, each with ``linked``: ``directly``,
    ``by_merge`` or ``no_longer`` (no longer this person's: split off since)."""
    merge_ids: list[str] = field(default_factory=list)
    """The merges that brought the disputed records, latest first."""
    directly_linked: list[Key] = field(default_factory=list)


class Disputes(Reader):
    # Raising ---------------------------------------------------------------------------------
    def on_page(
        self, person_id: str, event_ids: Sequence[str]
    ) -> tuple[str, list[str], dict[str, list[tuple[str, str]]]] | None:
        """The person ``person_id`` belongs to now, all their ids, and of ``event_ids`` those
        that are their records, each with its (agency, id held as) pairs (an event id is
        unique within its agency, so one id may be two agencies' records). None when no
        record is held for the person at all."""
        current = self.current_person(person_id)
        ids = _current_first(self.owners([current]), current)
        found: dict[str, list[tuple[str, str]]] = {}
        for agency, event_id, held_as in self.rows(
            "SELECT agency, event_id, person_id FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
            "WHERE person_id IN {ids:Array(String)} AND event_id IN {events:Array(String)} "
            + _LATEST,
            {"ids": ids, "events": list(event_ids)},
        ):
            found.setdefault(str(event_id), []).append((str(agency), str(held_as)))
        if (
            not found
            and not self.rows(
                "SELECT 1 FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
                "WHERE person_id IN {ids:Array(String)} LIMIT 1",
                {"ids": ids},
            )
        ):
            return None
        return current, ids, found

    def add(self, row: DisputeRow) -> None:
        with self.lock:
            self.client.insert(DISPUTES, [row], column_names=_DISPUTE_COLUMNS)

    # Reading ---------------------------------------------------------------------------------
    def get(self, dispute_id: str) -> dict[str, Any] | None:
        """One dispute with its decision (None while open); None for an unknown id."""
        rows = named(
            _DISPUTE_COLUMNS,
            self.rows(
                "SELECT " + select_list(_DISPUTE_COLUMNS) + " FROM " + DISPUTES + " "  # noqa: S608 - constant names
                "WHERE dispute_id = {id:String} ORDER BY raised_at LIMIT 1",
                {"id": dispute_id},
            ),
        )
        if not rows:
            return None
        dispute = rows[0]
        dispute["decision"] = self._decisions([dispute_id]).get(dispute_id)
        return dispute

    def listed(self, status: str, limit: int) -> list[dict[str, Any]]:
        """Disputes, open ones first (oldest first: a queue), then decided ones (latest
        raised first), each with its decision; ``status`` is ``open``, ``decided`` or
        ``all``."""
        rows = self.rows(
            "SELECT " + select_list(_DISPUTE_COLUMNS) + ", "  # noqa: S608 - constant names, bound values
            "dispute_id IN (SELECT dispute_id FROM " + DISPUTE_DECISIONS + ") AS decided "
            "FROM " + DISPUTES + " "
            "WHERE {status:String} = 'all' OR decided = ({status:String} = 'decided') "
            "ORDER BY decided, if(decided, -toUnixTimestamp64Milli(raised_at), "
            "toUnixTimestamp64Milli(raised_at)), dispute_id "
            "LIMIT 1 BY dispute_id LIMIT {limit:UInt32}",
            {"status": status, "limit": limit},
        )
        disputes = [dict(zip(_DISPUTE_COLUMNS, row[:-1], strict=True)) for row in rows]
        decisions = self._decisions([d["dispute_id"] for d in disputes])
        for dispute in disputes:
            dispute["decision"] = decisions.get(dispute["dispute_id"])
        return disputes

    def _decisions(self, dispute_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The decision on each of these disputes that has one: the first made."""
        if not dispute_ids:
            return {}
        rows = named(
            _DECISION_COLUMNS,
            self.rows(
                "SELECT " + select_list(_DECISION_COLUMNS) + " FROM " + DISPUTE_DECISIONS + " "  # noqa: S608 - constant names
                "WHERE dispute_id IN {ids:Array(String)} "
                "ORDER BY decided_at LIMIT 1 BY dispute_id",
                {"ids": list(dispute_ids)},
            ),
        )
        return {row["dispute_id"]: row for row in rows}

    def plans(self, disputes: Sequence[dict[str, Any]]) -> tuple[list[Plan], dict[str, Any]]:
        """What a split of each dispute would do now, and the merges of the people involved
        by the id each retired (the latest merge that retired it). A few reads whatever the
        number of disputes."""
        if not disputes:
            return [], {}
        now = self.current_persons(sorted({d["person_id"] for d in disputes}))
        currents = [now.get(d["person_id"], d["person_id"]) for d in disputes]
        belongs = self.owners(sorted(set(currents)))
        held = {h for d in disputes for h in d["held_as"]}
        everyone = sorted(set(belongs) | held)
        records: dict[Key, dict[str, Any]] = {}
        for stored in self._records(
            "WHERE person_id IN {ids:Array(String)} AND event_id IN {events:Array(String)} ",
            {"ids": everyone, "events": sorted({e for d in disputes for e in d["event_ids"]})},
        ):
            records.setdefault((stored["agency"], stored["event_id"]), stored)
        merges = self.merges_retiring(everyone)
        plans = []
        for dispute, current in zip(disputes, currents, strict=True):
            plan = Plan(current, _current_first(_of(belongs, current), current), {})
            for key in zip(dispute["agencies"], dispute["event_ids"], strict=True):
                record = records.get(key)
                if record is None:
                    continue
                held_as = record["person_id"]
                linked = (
                    "directly"
                    if held_as == current
                    else "by_merge"
                    if belongs.get(held_as) == current
                    else "no_longer"
                )
                merge = merges.get(held_as) if linked == "by_merge" else None
                plan.records[key] = {**record, "linked": linked, "merge": merge}
                if linked == "directly":
                    plan.directly_linked.append(key)
            brought = [r["merge"] for r in plan.records.values() if r["merge"]]
            chosen = {m["merge_id"]: m for m in brought}
            latest_first = sorted(
                chosen.values(), key=lambda m: (m["merged_at"], m["merge_id"]), reverse=True
            )
            plan.merge_ids = [m["merge_id"] for m in latest_first]
            plans.append(plan)
        return plans, merges

    def merges_retiring(self, person_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The latest merge that retired each of these ids (those that were retired), with
        its evidence parsed: a list of {field, level, weight}."""
        if not person_ids:
            return {}
        merges = named(
            MERGE_COLUMNS,
            self.rows(
                "SELECT " + select_list(MERGE_COLUMNS) + " FROM " + IDENTITY_MERGES + " FINAL "  # noqa: S608 - constant names
                "WHERE retired_person_id IN {ids:Array(String)} "
                "ORDER BY merged_at DESC, merge_id LIMIT 1 BY retired_person_id",
                {"ids": list(person_ids)},
            ),
        )
        found = {m["retired_person_id"]: m | {"evidence": _evidence(m["evidence"])} for m in merges}
        missing = [p for p in person_ids if p not in found]
        if missing:  # an alias with no merge row (not expected): its merge id, no evidence
            for retired, surviving, merge_id, merged_at in self.rows(
                "SELECT retired_person_id, surviving_person_id, merge_id, merged_at "
                "FROM person_aliases FINAL WHERE retired_person_id IN {ids:Array(String)}",
                {"ids": missing},
            ):
                found[str(retired)] = {
                    "merge_id": str(merge_id),
                    "surviving_person_id": str(surviving),
                    "retired_person_id": str(retired),
                    "triggered_by_event_id": None,
                    "match_weight": None,
                    "evidence": [],
                    "merged_at": merged_at,
                }
        return found

    def others(
        self, ids: Sequence[str], disputed: Iterable[Key]
    ) -> tuple[list[dict[str, Any]], int]:
        """The person's records other than the disputed ones, latest first (at most
        ``OTHER_RECORDS``), and how many there are in all."""
        parameters = {"ids": list(ids), "keys": sorted(disputed), "limit": OTHER_RECORDS}
        apart = (
            "WHERE person_id IN {ids:Array(String)} "
            "AND (agency, event_id) NOT IN {keys:Array(Tuple(String, String))} "
        )
        shown = self._records(apart, parameters, "LIMIT {limit:UInt32}")
        total = self.rows(
            "SELECT uniqExact(agency, event_id) FROM " + RESOLVED_INTERACTIONS + " " + apart,  # noqa: S608 - constant names
            parameters,
        )
        return shown, int(total[0][0]) if total else 0

    def _records(
        self, where: str, parameters: dict[str, Any], limit: str = ""
    ) -> list[dict[str, Any]]:
        return named(RECORD_COLUMNS, self.rows(_RECORDS + where + _LATEST + limit, parameters))

    def correction_states(self, decisions: Iterable[dict[str, Any]]) -> dict[str, str]:
        """What became of the corrections these decisions published, by correction id:
        ``refused`` when the resolver could not apply one (its dead letter names it, as
        ``stream_processors.corrections`` words it), ``applied`` when a split's records
        (``identity_splits``, by correction) are stored; a correction not in the map has not
        shown its effect yet, or shows none that can be read (``different``)."""
        ids = sorted({d["correction_id"] for d in decisions if d.get("correction_id")})
        if not ids:
            return {}
        states = {
            str(row[0]): "applied"
            for row in self.rows(
                "SELECT DISTINCT correction_id FROM identity_splits "
                "WHERE correction_id IN {ids:Array(String)}",
                {"ids": ids},
            )
        }
        for (detail,) in self.rows(
            "SELECT detail FROM dead_letters WHERE reason = 'correction_not_applied' "
            "AND multiSearchAny(detail, {ids:Array(String)})",
            {"ids": ids},
        ):
            states.update({cid: "refused" for cid in ids if cid in str(detail)})
        return states

    # Deciding --------------------------------------------------------------------------------
    def decide(self, row: DisputeDecisionRow) -> None:
        with self.lock:
            self.client.insert(DISPUTE_DECISIONS, [row], column_names=_DECISION_COLUMNS)


def _of(belongs: dict[str, str], current: str) -> list[str]:
    return [person for person, now in belongs.items() if now == current]


def _current_first(ids: Iterable[str], current: str) -> list[str]:
    return sorted(set(ids) | {current}, key=lambda i: (i != current, i))


def _evidence(stored: str) -> list[dict[str, Any]]:
    """A merge's evidence as stored (JSON list of {field, level, weight}); [] when it
    cannot be read."""
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


def missing_sentence(missing: Sequence[str]) -> str:
    shown = ", ".join(missing[:SHOWN_MISSING])
    more = f" and {len(missing) - SHOWN_MISSING} more" if len(missing) > SHOWN_MISSING else ""
    return f"not records on this person's page: {shown}{more}"
