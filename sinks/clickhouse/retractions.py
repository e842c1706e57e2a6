"""Partners' retractions in ClickHouse: the withdrawn record's rows leave every table that
holds its details, the alerts it was evidence for are withdrawn, and the retraction is kept,
ids only, as the audit that it happened and as the tombstone that keeps the rows out.

Deletions are mutations (``ALTER TABLE … DELETE``, waited for), which rewrite the parts that
held the rows, rather than lightweight deletes, which only mask them: the details do not stay
on disk beyond ClickHouse's removal of the old parts. A mutation's text is kept in
``system.mutations``, so it names ids only (agency, event id, address id, and a hash of an
address's written form), never a detail.

The sink reads its topics at least once and in no order between them, so a resolved record
can arrive after its retraction (a batch read again after a crash, or a slower partition):
``without_retracted`` drops such records before they are stored, and ``withdraw_late_alerts``
withdraws an alert stored after the retraction of an event it counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sinks.clickhouse.tables import (
    ALERT_ACTION_COLUMNS,
    ALERT_ACTIONS,
    DETAIL_TABLES_BY_EVENT,
    EVENT_RETRACTIONS,
    RETRACTION_COLUMNS,
    WITHDRAWN,
    WITHDRAWN_BY,
    AlertActionRow,
    AlertRow,
    RetractionRow,
)

if TYPE_CHECKING:
    from sinks.clickhouse.writer import SinkWriter

_WRITTEN_FORM = (
    "cityHash64(coalesce(address_line1, ''), coalesce(address_line2, ''), coalesce(town, ''), "
    "coalesce(postcode, ''))"
)
"""A hash of the way a resolved row wrote its address, as ``address_keys`` files it (empty
for null): names the written form in a mutation without writing it out."""
_KEYS_FORM = "cityHash64(line1, line2, town, postcode)"
_SYNC = {"mutations_sync": 2}


def retraction_row(record: dict[str, Any]) -> RetractionRow:
    return RetractionRow(
        retraction_id=record["retraction_id"],
        agency=record["agency"],
        retracted_event_id=record["retracted_event_id"],
        retracting_event_id=record["retracting_event_id"],
        kind=record["kind"],
        person_id=record.get("person_id") or "",
        merge_ids_undone=list(record.get("merge_ids_undone") or ()),
        retracted_at=record["retracted_at"],
    )


def write_retractions(writer: SinkWriter, records: Sequence[dict[str, Any]]) -> int:
    """Store the retractions (first: a record arriving meanwhile is then kept out), then
    delete each withdrawn record's rows and withdraw the alerts it was evidence for. Safe to
    repeat: a retraction read again deletes nothing more and withdraws nothing twice."""
    rows = [retraction_row(record) for record in records]
    writer._insert(
        EVENT_RETRACTIONS,
        rows,
        RETRACTION_COLUMNS,
        [f"{row.agency}|{row.retracted_event_id}" for row in rows],
    )
    for row in rows:
        subjects = _delete_rows(writer, row)
        _withdraw_alerts(writer, row, subjects)
    return len(rows)


def _delete_rows(writer: SinkWriter, row: RetractionRow) -> set[str]:
    """Delete the record's rows; returns the ids it was filed under (person and address),
    for the alerts it may have counted in."""
    target = {"agency": row.agency, "event_id": row.retracted_event_id}
    where = "agency = {agency:String} AND event_id = {event_id:String}"
    client = writer.client
    with writer.lock:
        held = client.query(
            f"SELECT DISTINCT person_id, address_id, {_WRITTEN_FORM} FROM resolved_interactions "  # noqa: S608 - constant expressions, values bound
            f"WHERE {where}",
            parameters=target,
        ).result_rows
        for table in event_tables(writer):
            client.command(f"ALTER TABLE {table} DELETE WHERE {where}", target, settings=_SYNC)
        for _person, address_id, form in held:
            if not address_id:
                continue
            form_where = "address_id = {address_id:String} AND {form:UInt64} = "
            shared = client.query(
                f"SELECT count() FROM resolved_interactions WHERE {form_where}{_WRITTEN_FORM}",  # noqa: S608 - constant expressions, values bound
                parameters={"address_id": address_id, "form": form},
            ).result_rows[0][0]
            if not shared:  # no other record wrote the address this way: its search keys go
                client.command(
                    f"ALTER TABLE address_keys DELETE WHERE {form_where}{_KEYS_FORM}",
                    {"address_id": address_id, "form": form},
                    settings=_SYNC,
                )
    subjects = {str(person) for person, _a, _f in held} | {
        str(address) for _p, address, _f in held if address
    }
    if row.person_id:
        subjects.add(row.person_id)
    return subjects


def event_tables(writer: SinkWriter) -> list[str]:
    """Every table of MAST's database with a row per event, keyed by ``agency`` and
    ``event_id`` (``DETAIL_TABLES_BY_EVENT`` and any added since, such as the stewards'
    possible matches), but the retractions themselves: found from ``system.columns`` (called
    under the writer's lock), so a table added later is not forgotten."""
    found = writer.client.query(
        "SELECT table FROM system.columns WHERE database = currentDatabase() "
        "AND name IN ('agency', 'event_id') AND table != {own:String} AND table IN ("
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine NOT IN ('View', 'MaterializedView')) "
        "GROUP BY table HAVING count() = 2 ORDER BY table",
        parameters={"own": EVENT_RETRACTIONS},
    ).result_rows
    tables = [str(row[0]) for row in found]
    missing = set(DETAIL_TABLES_BY_EVENT) - set(tables)
    if missing:  # the migrations' tables: never absent once they have run
        raise RuntimeError(f"tables keyed by event are missing: {sorted(missing)}")
    return tables


def _withdraw_alerts(writer: SinkWriter, row: RetractionRow, subjects: set[str]) -> None:
    """Alerts that counted the withdrawn event are withdrawn (an ``alert_actions`` row by
    MAST at the retraction's time, naming the retraction), as a split's are: they leave the
    open alerts and say why. Escalation no longer counts the event from then on."""
    aliases = writer._load_aliases()
    people = {aliases.get(s, s) for s in subjects}
    ids = sorted(subjects | people | {old for old, now in aliases.items() if now in people})
    with writer.lock:
        alerts = writer.client.query(
            "SELECT DISTINCT alert_id FROM alerts FINAL WHERE has(evidence_event_ids, {e:String}) "
            "AND subject_id IN {ids:Array(String)}",
            parameters={"e": row.retracted_event_id, "ids": ids},
        ).result_rows
    _withdraw(writer, [str(a[0]) for a in alerts], row)


def _withdraw(writer: SinkWriter, alert_ids: list[str], row: RetractionRow) -> None:
    if not alert_ids:
        return
    with writer.lock:
        done = {
            str(found[0])
            for found in writer.client.query(
                "SELECT DISTINCT alert_id FROM alert_actions WHERE action = {w:String} "
                "AND alert_id IN {ids:Array(String)}",
                parameters={"w": WITHDRAWN, "ids": alert_ids},
            ).result_rows
        }  # alert_actions is append-only: a retraction read again must not add rows
    withdrawn = [
        AlertActionRow(alert_id, row.retracted_at, WITHDRAWN_BY, "", WITHDRAWN, row.retraction_id)
        for alert_id in alert_ids
        if alert_id not in done
    ]
    writer._insert(
        ALERT_ACTIONS,
        withdrawn,
        ALERT_ACTION_COLUMNS,
        [f"{r.alert_id}|{r.assignee}" for r in withdrawn],
    )


def without_retracted(
    writer: SinkWriter, records: Sequence[dict[str, Any]]
) -> Sequence[dict[str, Any]]:
    """The resolved records whose events have not been retracted."""
    if not records:
        return records
    ids = sorted({r["interaction"]["event_id"] for r in records})
    with writer.lock:
        gone = {
            (str(agency), str(event_id))
            for agency, event_id in writer.client.query(
                "SELECT agency, retracted_event_id FROM event_retractions "
                "WHERE retracted_event_id IN {ids:Array(String)}",
                parameters={"ids": ids},
            ).result_rows
        }
    if not gone:
        return records
    return [
        r for r in records if (r["interaction"]["agency"], r["interaction"]["event_id"]) not in gone
    ]


def withdraw_late_alerts(writer: SinkWriter, alerts: Sequence[AlertRow]) -> None:
    """An alert stored after the retraction of an event it counted (the two topics are read
    in no order between them) is withdrawn as if it had been there."""
    evidence = sorted({e for alert in alerts for e in alert.evidence_event_ids})
    if not evidence:
        return
    with writer.lock:
        found = writer.client.query(
            f"SELECT {', '.join(RETRACTION_COLUMNS)} FROM event_retractions FINAL "  # noqa: S608 - constant columns
            "WHERE retracted_event_id IN {ids:Array(String)}",
            parameters={"ids": evidence},
        ).result_rows
    if not found:
        return
    aliases = writer._load_aliases()
    for retraction in (RetractionRow(*values) for values in found):
        person = aliases.get(retraction.person_id, retraction.person_id)
        hit = [
            alert.alert_id
            for alert in alerts
            if retraction.retracted_event_id in alert.evidence_event_ids
            and (
                alert.subject_kind != "PERSON"
                or aliases.get(alert.subject_id, alert.subject_id) == person
            )
        ]
        _withdraw(writer, hit, retraction)
