"""What a person page and an address page show: the minimum dataset, the contact to call, a
timeline by agency by month, open cases and alerts; on a person page, why each record is
theirs (``mast_core.linkage.explanation``), and their merge history. Never case notes: MAST
holds none.

A record replayed after a crash is shown once: interactions are read with ``LIMIT 1 BY
agency, event_id`` rather than FINAL, which would merge every part of every partition a person
touches (measured: 40 ms against 14 ms for one person at 10M interactions). Reads follow
merges: a person is their current id and every id retired into it.

A page read ``as_at`` a time (issue 13, "as at" pages) reads only rows the sink had stored
by then (``stored_at``, migrations 0020 and 0021): the interactions, the alias versions in force (so
the identity as it stood, before a later merge or split) and each alert's latest version,
but those withdrawn by then. Alias and alert versions are read from the append-only tables
of every version (``person_alias_versions``, ``alert_versions``, migration 0025): the
current tables keep only each key's latest once their parts merge.
The API reads every page so, as at the moment of the read (``Reader.data_time``), and records
that time in the audit: the same read later gives the same page, field for field, unless a
row was deleted since (retention, or a partner's retraction, which removes the record from
every page, past ones included).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from mast_core.linkage.explanation import Explanation, explain_link, explain_record
from mast_core.linkage.scoring import Contribution
from query_api.cases import spans
from query_api.reads import AS_AT, Reader
from query_api.shielding import Shielding
from sinks.clickhouse.tables import (
    ALERT_ACTIONS,
    ALERT_COLUMNS,
    ALERT_VERSIONS,
    ALERTS,
    IDENTITY_MERGES,
    IDENTITY_SPLITS,
    MERGE_COLUMNS,
    RESOLVED_INTERACTIONS,
    SPLIT_COLUMNS,
    WITHDRAWN,
    named,
    select_list,
)

INTERACTION_LIMIT = 1000

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "person_id",
    "address_id",
    "agency",
    "event_type",
    "event_time",
    "occurred_at",
    "source_system",
    "source_record_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "case_status",
    "contact_name",
    "contact_team",
    "contact_phone",
    "contact_email",
)
"""The columns of ``resolved_interactions`` a page reads (``ResolvedRow``'s names), each
row read back by these names."""
WHY_COLUMNS: tuple[str, ...] = ("match_weight", "match_reason", "match_contributions")
"""What the person page reads besides, to say why each record belongs to the person."""
PERSON_EVENT_COLUMNS = EVENT_COLUMNS + WHY_COLUMNS
_PERSON_EVENTS = (
    "SELECT " + select_list(PERSON_EVENT_COLUMNS) + " FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
    "WHERE person_id IN {ids:Array(String)} "
)
_EVENTS = "SELECT " + select_list(EVENT_COLUMNS) + " FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
_OF_PEOPLE = _EVENTS + "WHERE person_id IN {ids:Array(String)} "
_PEOPLE_AT = (
    "SELECT DISTINCT person_id FROM address_interactions "
    "WHERE address_id IN {addresses:Array(String)}"
)
_LATEST_FIRST = "ORDER BY event_time DESC, resolved_at DESC, agency, event_id "
"""Ties broken by the record, so that two reads of the same rows list them in one order."""
_ONCE = "LIMIT 1 BY agency, event_id "
"""A record replayed after a crash, once (the latest resolution of it)."""


def _latest_and_evidence(subject: str) -> str:
    """Of each subject's rows (``subject`` the column: a person or an address), each
    agency's latest and each event among ``evidence``: enough for the latest record overall
    and the evidence's contacts, in a handful of rows whatever the subject's history."""
    return (
        f"LIMIT 1 BY {subject}, agency, if(has({{evidence:Array(String)}}, event_id), event_id, '')"
    )


def _stored(as_at: datetime | None) -> str:
    """The condition of a read as at a time (nothing for a read of everything)."""
    return "" if as_at is None else "AND stored_at <= " + AS_AT + " "


def _at(as_at: datetime | None) -> dict[str, Any]:
    return {} if as_at is None else {"as_at": as_at}


class Records(Reader):
    # Person -----------------------------------------------------------------------------------
    def person(
        self, person_id: str, as_at: datetime | None = None, *, show_shielded: bool = False
    ) -> dict[str, Any] | None:
        """The page of a person (None when no record was resolved to the id by ``as_at``).
        Addresses that are shielded now (``query_api.shielding``) are taken off their
        records before anything is built from them, so no part of the page shows one,
        unless ``show_shielded`` (the person is shielded and the caller broke the glass)."""
        current = self.current_person(person_id, as_at)
        ids = sorted(self.owners([current], as_at), key=lambda i: (i != current, i))
        events = self._events(
            _PERSON_EVENTS + _stored(as_at) + _LATEST_FIRST + _ONCE + "LIMIT {limit:UInt32}",
            {"ids": ids, "limit": INTERACTION_LIMIT, **_at(as_at)},
            PERSON_EVENT_COLUMNS,
        )
        if not events:
            return None
        withheld = 0 if show_shielded else Shielding(self.client, self.lock).withhold(events)
        for event in events:
            event["why"] = _why(event, merged_later=event["person_id"] != current)
        if len(events) < INTERACTION_LIMIT:
            timeline = _timeline(events)
        else:  # the page lists the latest; the timeline still counts every interaction
            timeline = [
                {"month": m, "agency": a, "count": int(n)}
                for m, a, n in self.rows(
                    "SELECT formatDateTime(toStartOfMonth(event_time), '%Y-%m'), agency, "  # noqa: S608 - constant names, bound values
                    "uniqExact(agency, event_id) FROM resolved_interactions "
                    "WHERE person_id IN {ids:Array(String)} "
                    + _stored(as_at)
                    + "GROUP BY 1, 2 ORDER BY 1, 2",
                    {"ids": ids, **_at(as_at)},
                )
            ]
        addresses = sorted({e["address_id"] for e in events if e["address_id"]})
        return {
            "person_id": current,
            "requested_id": person_id,
            "merged_ids": ids[1:],
            "details": _details(events[0]),
            "records": _records_by_agency(events),
            "addresses": _addresses(events),
            "timeline": timeline,
            "interactions": [{**_interaction(e), "why": e["why"]} for e in events],
            "open_cases": _open_cases(events),
            "alerts": self.alerts(ids, addresses, as_at),
            "withheld_addresses": withheld,
        }

    def history(self, person_id: str) -> dict[str, Any] | None:
        """The merges this person's identity took part in, latest first: every merge that
        retired one of their ids or kept one (chains followed), each with its evidence in
        words and the event that triggered it. None for an id no record was resolved to."""
        current = self.current_person(person_id)
        ids = sorted(self.owners([current]), key=lambda i: (i != current, i))
        held = self.rows(
            "SELECT 1 FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
            "WHERE person_id IN {ids:Array(String)} LIMIT 1",
            {"ids": ids},
        )
        if not held:
            return None
        merges = named(
            MERGE_COLUMNS,
            self.rows(
                "SELECT " + select_list(MERGE_COLUMNS) + " FROM " + IDENTITY_MERGES + " FINAL "  # noqa: S608 - constant names
                "WHERE retired_person_id IN {ids:Array(String)} "
                "OR surviving_person_id IN {ids:Array(String)} "
                "ORDER BY merged_at DESC, merge_id",
                {"ids": ids},
            ),
        )
        triggers = sorted({m["triggered_by_event_id"] for m in merges} - {None})
        agencies: dict[str, set[str]] = {}
        if triggers:
            for agency, event_id in self.rows(
                "SELECT DISTINCT agency, event_id FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
                "WHERE person_id IN {ids:Array(String)} AND event_id IN {events:Array(String)}",
                {"ids": ids, "events": triggers},
            ):
                agencies.setdefault(str(event_id), set()).add(str(agency))
        splits = named(
            SPLIT_COLUMNS,
            self.rows(
                "SELECT " + select_list(SPLIT_COLUMNS) + " FROM " + IDENTITY_SPLITS + " FINAL "  # noqa: S608 - constant names
                "WHERE restored_person_id IN {ids:Array(String)} "
                "OR surviving_person_id IN {ids:Array(String)}",
                {"ids": ids},
            ),
        )
        entries = [_merge_entry(m, agencies) for m in merges] + [
            {"kind": "split", "at": split.pop("split_at"), **split} for split in splits
        ]
        return {
            "person_id": current,
            "requested_id": person_id,
            "merged_ids": ids[1:],
            "entries": sorted(entries, key=lambda e: e["at"], reverse=True),
        }

    # Address ----------------------------------------------------------------------------------
    def address(self, address_id: str, as_at: datetime | None = None) -> dict[str, Any] | None:
        at_address = self.rows(_PEOPLE_AT, {"addresses": [address_id]})
        if not at_address:
            return None
        events = self._events(
            _OF_PEOPLE
            + "AND address_id = {id:String} "
            + _stored(as_at)
            + _LATEST_FIRST
            + _ONCE
            + "LIMIT {limit:UInt32}",
            {
                "ids": [str(r[0]) for r in at_address],
                "id": address_id,
                "limit": INTERACTION_LIMIT,
                **_at(as_at),
            },
        )
        if not events:  # nothing stored there yet at that time
            return None
        current = self.current_persons([str(r[0]) for r in at_address], as_at)
        people: dict[str, dict[str, Any]] = {}
        for event in events:
            person = current.get(event["person_id"], event["person_id"])
            entry = people.setdefault(
                person, {"person_id": person, **_details(event), "agencies": [], "events": 0}
            )
            if event["agency"] not in entry["agencies"]:
                entry["agencies"].append(event["agency"])
            entry["events"] += 1
        first = events[0]
        return {
            "address_id": address_id,
            "address": _address(first),
            "people": sorted(people.values(), key=lambda p: -p["events"]),
            "timeline": _timeline(events),
            "interactions": [
                {**_interaction(e), "person_id": current.get(e["person_id"], e["person_id"])}
                for e in events
            ],
            "alerts": self.alerts([], [address_id], as_at),
        }

    # Alerts -----------------------------------------------------------------------------------
    def alerts(
        self,
        person_ids: Sequence[str],
        address_ids: Sequence[str],
        as_at: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Alerts about any of these people or addresses, newest first, but those withdrawn
        (a split or a partner's retraction separated their evidence: an ``alert_actions``
        row, ``WITHDRAWN``), as the alerts list counts them no longer open. ``as_at`` a
        time, each alert's latest version stored by then (an alert is raised again under
        its id as its period's counts grow), from the versions table, which keeps them all
        (migration 0025), but those withdrawn by then (the withdrawal stored by then)."""
        if not person_ids and not address_ids:
            return []
        subjects = (
            "((subject_kind = 'PERSON' AND subject_id IN {people:Array(String)}) "
            "OR (subject_kind = 'ADDRESS' AND subject_id IN {addresses:Array(String)})) "
        )
        parameters: dict[str, Any] = {
            "people": list(person_ids),
            "addresses": list(address_ids),
            "withdrawn": WITHDRAWN,
        }
        if as_at is not None:
            return named(
                ALERT_COLUMNS,
                self.rows(
                    "SELECT " + select_list(ALERT_COLUMNS) + " FROM " + ALERT_VERSIONS + " "  # noqa: S608 - constant names, bound values
                    "WHERE " + subjects + "AND stored_at <= " + AS_AT + " "
                    "AND alert_id NOT IN (SELECT alert_id FROM " + ALERT_ACTIONS + " "
                    "WHERE action = {withdrawn:String} AND coalesce(stored_at, at) <= "
                    + AS_AT
                    + ") ORDER BY raised_at DESC, stored_at DESC, alert_id LIMIT 1 BY alert_id "
                    "LIMIT 200",
                    {**parameters, "as_at": as_at},
                ),
            )
        rows = self.rows(
            "SELECT " + select_list(ALERT_COLUMNS) + " FROM " + ALERTS + " FINAL "  # noqa: S608 - constant names, bound values
            "WHERE " + subjects + "AND alert_id NOT IN (SELECT alert_id FROM " + ALERT_ACTIONS + " "
            "WHERE action = {withdrawn:String}) ORDER BY raised_at DESC, alert_id LIMIT 200",
            parameters,
        )
        return named(ALERT_COLUMNS, rows)

    def about_alerts(self, alerts: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """What a list of alerts shows of each beyond its own fields, by alert id: a PERSON
        alert's ``subject_person`` as the person page shows them (the person the id belongs
        to now, with the details of their latest record), an ADDRESS alert's
        ``subject_address`` as the address page shows it, and ``contacts``, by agency, the
        contact of that agency's latest event among the alert's evidence. One read of
        interactions per kind of subject (and the two of merges) whatever the number of
        alerts. Nothing here is audited: the caller records the list as one look-up."""
        persons = sorted({a["subject_id"] for a in alerts if a["subject_kind"] == "PERSON"})
        addresses = sorted({a["subject_id"] for a in alerts if a["subject_kind"] == "ADDRESS"})
        evidence = sorted({e for a in alerts for e in a["evidence_event_ids"]})
        now = self.current_persons(persons) if persons else {}
        belongs = self.owners(sorted({now.get(p, p) for p in persons})) if persons else {}
        by_person = self._subjects(
            belongs,
            _OF_PEOPLE + _LATEST_FIRST + _latest_and_evidence("person_id"),
            {"ids": sorted(belongs), "evidence": evidence},
            lambda event: belongs.get(event["person_id"], event["person_id"]),
        )
        by_address = self._subjects(
            addresses,
            _EVENTS + "WHERE person_id IN (" + _PEOPLE_AT + ") "
            "AND address_id IN {addresses:Array(String)} "
            + _LATEST_FIRST
            + _latest_and_evidence("address_id"),
            {"addresses": addresses, "evidence": evidence},
            lambda event: str(event["address_id"]),
        )
        shielding = Shielding(self.client, self.lock)
        hidden = {*shielding.people(sorted(belongs)), *shielding.addresses(addresses)}
        about: dict[str, dict[str, Any]] = {}
        for alert in alerts:
            person = alert["subject_kind"] == "PERSON"
            subject = now.get(alert["subject_id"], alert["subject_id"])
            events = (by_person if person else by_address).get(subject, [])
            shown = _details if person else _address
            contacts: dict[str, dict[str, Any]] = {}
            for event in events:  # latest first
                if (
                    event["event_id"] in alert["evidence_event_ids"]
                    and event["agency"] in alert["counts_by_agency"]
                ):
                    contacts.setdefault(event["agency"], _interaction(event)["contact"])
            about[alert["alert_id"]] = {
                "subject_person" if person else "subject_address": (
                    shown(events[0]) if events and subject not in hidden else None
                ),
                "contacts": contacts,
                "shielded": subject in hidden,
            }
        return about

    def _subjects(
        self,
        subjects: Collection[str],
        sql: str,
        parameters: dict[str, Any],
        subject_of: Callable[[dict[str, Any]], str],
    ) -> dict[str, list[dict[str, Any]]]:
        """The rows of ``sql`` by the subject each belongs to, latest first, each record
        once; nothing read when there is no subject."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        seen: set[tuple[str, str]] = set()
        for event in self._events(sql, parameters) if subjects else []:
            if (event["agency"], event["event_id"]) not in seen:
                seen.add((event["agency"], event["event_id"]))
                grouped.setdefault(subject_of(event), []).append(event)
        return grouped

    def _events(
        self, sql: str, parameters: dict[str, Any], columns: Sequence[str] = EVENT_COLUMNS
    ) -> list[dict[str, Any]]:
        return named(columns, self.rows(sql, parameters))


def stored_contributions(stored: str) -> list[Contribution] | None:
    """A JSON list of {field, level, weight} as stored; None for '' (not known: stored
    before the contributions were)."""
    if not stored:
        return None
    return [Contribution(c["field"], c["level"], float(c["weight"])) for c in json.loads(stored)]


def _why_of(explanation: Explanation) -> dict[str, Any]:
    return {
        "sentence": explanation.sentence,
        "strength": explanation.strength,
        "match_weight": explanation.match_weight,
        "contributions": [
            {"field": w.field, "level": w.level, "words": w.words, "weight": w.weight}
            for w in explanation.contributions
        ],
    }


def _why(event: dict[str, Any], *, merged_later: bool) -> dict[str, Any]:
    """Why a record belongs to the person, from what the resolver stored with it."""
    return _why_of(
        explain_record(
            stored_contributions(event["match_contributions"]),
            event["match_weight"],
            event["match_reason"],
            merged_later=merged_later,
        )
    )


def _merge_entry(merge: dict[str, Any], agencies: dict[str, set[str]]) -> dict[str, Any]:
    """A merge as the history shows it. The triggering event's agency is known when the
    event is one of this person's records (as it is when a record matched both); a merge
    made when records kept apart were judged again names the event being resolved then,
    which may be anyone's: its agency is not shown."""
    event_id = merge["triggered_by_event_id"]
    found = agencies.get(event_id or "", set())
    evidence = stored_contributions(merge["evidence"]) or []
    return {
        "kind": "merge",
        "merge_id": merge["merge_id"],
        "at": merge["merged_at"],
        "surviving_person_id": merge["surviving_person_id"],
        "retired_person_id": merge["retired_person_id"],
        "triggered_by": (
            None
            if event_id is None
            else {"agency": next(iter(found)) if len(found) == 1 else None, "event_id": event_id}
        ),
        "why": _why_of(explain_link(evidence, float(merge["match_weight"]))),
    }


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "given_name": event["given_name"],
        "family_name": event["family_name"],
        "date_of_birth": event["date_of_birth"],
        "gender": event["gender"],
    }


def _address(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "line1": event["address_line1"],
        "line2": event["address_line2"],
        "town": event["town"],
        "postcode": event["postcode"],
    }


def _timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], int] = {}
    for event in events:
        key = (event["event_time"].strftime("%Y-%m"), event["agency"])
        counts[key] = counts.get(key, 0) + 1
    return [{"month": m, "agency": a, "count": n} for (m, a), n in sorted(counts.items())]


def _interaction(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event["event_id"],
        "person_id": event["person_id"],
        "occurred_at": event["occurred_at"],
        "agency": event["agency"],
        "event_type": event["event_type"] or None,
        "case_status": event["case_status"],
        "address_id": event["address_id"] or None,
        "contact": {
            "name": event["contact_name"],
            "team": event["contact_team"],
            "phone": event["contact_phone"],
            "email": event["contact_email"],
        },
    }


def _records_by_agency(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per partner record (agency, system, reference): how that agency knows them."""
    records: dict[tuple[str, str, str], dict[str, Any]] = {}
    for event in events:  # newest first
        key = (event["agency"], event["source_system"] or "", event["source_record_id"] or "")
        record = records.get(key)
        if record is None:
            records[key] = record = {
                "agency": event["agency"],
                "source_system": event["source_system"],
                "source_record_id": event["source_record_id"],
                **_details(event),
                "postcode": event["postcode"],
                "last_seen": event["event_time"],
                "first_seen": event["event_time"],
                "events": 0,
                "contact": _interaction(event)["contact"],
            }
        record["first_seen"] = event["event_time"]
        record["why"] = event["why"]  # the earliest's: how this partner record was linked
        record["events"] += 1
    return sorted(records.values(), key=lambda r: (r["agency"], str(r["source_record_id"])))


def _addresses(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["address_id"] and event["address_id"] not in seen:
            seen[event["address_id"]] = {
                "address_id": event["address_id"],
                "line1": event["address_line1"],
                "town": event["town"],
                "postcode": event["postcode"],
                "last_seen": event["event_time"],
            }
    return list(seen.values())


def _open_cases(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cases open now (``query_api.cases.spans``: the latest status OPEN), each with when it
    was opened (the earliest OPEN since the last CLOSED) and its latest record's contact."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    statuses = []
    for event in events:
        if event["case_status"]:
            key = (event["agency"], event["source_record_id"] or "")
            statuses.append((*key, event["event_time"], event["case_status"]))
            if key not in latest or event["event_time"] > latest[key]["event_time"]:
                latest[key] = event
    return [
        {
            "agency": span.agency,
            "source_record_id": span.reference or None,
            "open_since": span.opened,
            "contact": _interaction(latest[(span.agency, span.reference)])["contact"],
        }
        for span in spans(statuses)
        if span.closed is None
    ]
