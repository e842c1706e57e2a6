"""A subject access report: everything MAST holds about one person and every access to it.

What the person is entitled to see is theirs alone, so the report reads only the person's
own ids (their current id and every id merged into it): their partner records of the
minimum dataset with why each is theirs, the merges among their own ids with their evidence,
the alerts about them (not an address's, which concern everyone living there, nor one
withdrawn because it relied on another person's records linked by mistake), and the audit
entries that named them, each as who, organisation, role, action, purpose and when, without
the other people an entry named or the free-text detail of its purpose (which may be about
someone else). In the person's copy the names of individual practitioners (the users who
looked, and the contacts on records) are replaced by their organisation, as the law allows.
"""

from __future__ import annotations

from typing import Any, Literal

from mast_core.linkage.explanation import explain_link, explain_record
from query_api.reads import Reader
from query_api.records import stored_contributions
from query_api.shielding import Shielding
from sinks.clickhouse.tables import (
    ALERT_ACTIONS,
    ALERT_COLUMNS,
    ALERTS,
    AUDIT_LOG,
    IDENTITY_MERGES,
    MERGE_COLUMNS,
    RESOLVED_INTERACTIONS,
    WITHDRAWN,
    named,
    select_list,
)

Copy = Literal["officer", "person"]
"""``officer``: for the data protection officer, as held; ``person``: the copy sent to the
person, practitioners' names replaced by their organisation."""

RECORD_COLUMNS: tuple[str, ...] = (
    "agency",
    "event_id",
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
    "uprn",
    "address_id",
    "nhs_number",
    "case_status",
    "contact_name",
    "contact_team",
    "contact_phone",
    "contact_email",
    "match_weight",
    "match_reason",
    "match_contributions",
    "person_id",
)
"""What the report reads of each record: the minimum dataset, the contact, and why it was
linked."""
ACCESS_COLUMNS: tuple[str, ...] = (
    "at",
    "username",
    "organisation",
    "role",
    "action",
    "outcome",
    "purpose",
)
"""What the report says of each access: never the other people an entry named, nor the
purpose's free-text detail."""

_RECORDS = (
    "SELECT " + select_list(RECORD_COLUMNS) + " FROM " + RESOLVED_INTERACTIONS + " "  # noqa: S608 - constant names
    "WHERE person_id IN {ids:Array(String)} "
    "ORDER BY event_time, agency, event_id, resolved_at DESC LIMIT 1 BY agency, event_id"
)
_MERGES = (
    "SELECT " + select_list(MERGE_COLUMNS) + " FROM " + IDENTITY_MERGES + " FINAL "  # noqa: S608 - constant names
    "WHERE retired_person_id IN {ids:Array(String)} AND surviving_person_id IN {ids:Array(String)} "
    "ORDER BY merged_at, merge_id"
)
_ALERTS = (
    "SELECT " + select_list(ALERT_COLUMNS) + " FROM " + ALERTS + " FINAL "  # noqa: S608 - constant names
    "WHERE subject_kind = 'PERSON' AND subject_id IN {ids:Array(String)} "
    "AND alert_id NOT IN (SELECT alert_id FROM " + ALERT_ACTIONS + " "
    "WHERE action = {withdrawn:String}) ORDER BY raised_at, alert_id"
)
_ACCESSES = (
    "SELECT " + select_list(ACCESS_COLUMNS) + " FROM " + AUDIT_LOG + " "  # noqa: S608 - constant names
    "WHERE hasAny(person_ids, {ids:Array(String)}) ORDER BY at, audit_id"
)


def _staff(name: str, organisation: str, copy: Copy) -> str:
    """A practitioner as the copy names them: in the person's copy, by organisation only."""
    return f"a member of staff of {organisation}" if copy == "person" else name


class SubjectAccess(Reader):
    def report(
        self, person_id: str, copy: Copy, *, show_shielded: bool = False
    ) -> dict[str, Any] | None:
        """The report, or None for an id no record was resolved to. Shielded addresses
        are withheld from the records (``query_api.shielding``) unless ``show_shielded``:
        the person is shielded and the officer broke the glass."""
        current = self.current_person(person_id)
        ids = sorted(self.owners([current]), key=lambda i: (i != current, i))
        records = named(RECORD_COLUMNS, self.rows(_RECORDS, {"ids": ids}))
        if not records:
            return None
        if not show_shielded:
            Shielding(self.client, self.lock).withhold(records)
        return {
            "person_id": current,
            "requested_id": person_id,
            "ids": ids,
            "made_for": copy,
            "records": [_record(r, current, copy) for r in records],
            "links": [_link(m) for m in named(MERGE_COLUMNS, self.rows(_MERGES, {"ids": ids}))],
            "alerts": [
                _alert(a)
                for a in named(
                    ALERT_COLUMNS, self.rows(_ALERTS, {"ids": ids, "withdrawn": WITHDRAWN})
                )
            ],
            "accesses": [
                _access(a, copy) for a in named(ACCESS_COLUMNS, self.rows(_ACCESSES, {"ids": ids}))
            ],
        }


def _record(row: dict[str, Any], current: str, copy: Copy) -> dict[str, Any]:
    why = explain_record(
        stored_contributions(row["match_contributions"]),
        row["match_weight"],
        row["match_reason"],
        merged_later=row["person_id"] != current,
    )
    contact = row["contact_name"] and _staff(row["contact_name"], row["agency"], copy)
    return {
        "agency": row["agency"],
        "event_id": row["event_id"],
        "source_system": row["source_system"],
        "source_record_id": row["source_record_id"],
        "event_type": row["event_type"] or None,
        "occurred_at": row["occurred_at"] or row["event_time"],
        "given_name": row["given_name"],
        "family_name": row["family_name"],
        "date_of_birth": row["date_of_birth"],
        "gender": row["gender"],
        "address": {
            "line1": row["address_line1"],
            "line2": row["address_line2"],
            "town": row["town"],
            "postcode": row["postcode"],
            "uprn": row["uprn"],
        },
        "nhs_number": row["nhs_number"],
        "case_status": row["case_status"],
        "contact": {
            "name": contact,
            "team": row["contact_team"],
            "phone": row["contact_phone"],
            "email": None if copy == "person" else row["contact_email"],
        },
        "linked_because": why.sentence,
    }


def _link(merge: dict[str, Any]) -> dict[str, Any]:
    contributions = stored_contributions(merge["evidence"]) or []
    return {
        "merge_id": merge["merge_id"],
        "at": merge["merged_at"],
        "because": explain_link(contributions, float(merge["match_weight"])).sentence,
    }


def _alert(alert: dict[str, Any]) -> dict[str, Any]:
    return {
        "alert_id": alert["alert_id"],
        "rule_id": alert["rule_id"],
        "severity": alert["severity"],
        "summary": alert["summary"],
        "window_start": alert["window_start"],
        "window_end": alert["window_end"],
        "raised_at": alert["raised_at"],
    }


def _access(row: dict[str, Any], copy: Copy) -> dict[str, Any]:
    return {
        "at": row["at"],
        "who": _staff(row["username"], row["organisation"], copy),
        "organisation": row["organisation"],
        "role": row["role"],
        "action": row["action"],
        "outcome": row["outcome"],
        "purpose": row["purpose"],
    }


CSV_COLUMNS: tuple[str, ...] = ("section", "at", "organisation", "who", "what", "detail")


def csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as one table: a row per record, link, alert and access."""
    rows: list[dict[str, Any]] = []
    for r in report["records"]:
        address = ", ".join(v for k, v in r["address"].items() if v and k != "uprn")
        detail = "; ".join(
            part
            for part in (
                " ".join(n for n in (r["given_name"], r["family_name"]) if n),
                f"born {r['date_of_birth']}" if r["date_of_birth"] else "",
                address,
                f"case {r['case_status']}" if r["case_status"] else "",
                r["linked_because"],
            )
            if part
        )
        rows.append(
            {
                "section": "record",
                "at": r["occurred_at"],
                "organisation": r["agency"],
                "who": r["contact"]["name"] or r["contact"]["team"] or "",
                "what": r["event_type"] or "",
                "detail": detail,
            }
        )
    rows.extend(
        {
            "section": "link",
            "at": link["at"],
            "organisation": "",
            "who": "",
            "what": "merge",
            "detail": link["because"],
        }
        for link in report["links"]
    )
    rows.extend(
        {
            "section": "alert",
            "at": a["raised_at"],
            "organisation": "",
            "who": "",
            "what": a["rule_id"],
            "detail": a["summary"],
        }
        for a in report["alerts"]
    )
    rows.extend(
        {
            "section": "access",
            "at": a["at"],
            "organisation": a["organisation"],
            "who": a["who"],
            "what": a["action"],
            "detail": f"{a['outcome']}; purpose {a['purpose'] or 'none'}",
        }
        for a in report["accesses"]
    )
    return rows
