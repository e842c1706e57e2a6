"""Batched, idempotent writes of the pipeline's records to ClickHouse.

The sink reads Kafka at least once, so a batch may arrive again after a crash. Each table is
keyed so that a repeated row collapses (ReplacingMergeTree), and each insert carries a
deduplication token derived from the batch's keys, so an identical batch is not even stored
twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

import sinks.clickhouse.retractions as retractions
from mast_core.linkage.address_search import address_search_keys
from mast_core.normalise.addresses import normalise_address
from sinks.clickhouse.detaches import move_detached, with_detached
from sinks.clickhouse.tables import (
    ADDRESS_KEY_COLUMNS,
    ADDRESS_KEYS,
    ALERT_ACTION_COLUMNS,
    ALERT_ACTIONS,
    ALERT_COLUMNS,
    ALERT_VERSIONS,
    ALERTS,
    ALIAS_COLUMNS,
    DEAD_LETTER_COLUMNS,
    DEAD_LETTERS,
    IDENTITY_MERGES,
    IDENTITY_SPLITS,
    LINKAGE_PARAMETERS,
    MERGE_COLUMNS,
    PARAMETER_SET_COLUMNS,
    PERSON_ALIAS_VERSIONS,
    PERSON_ALIASES,
    PERSON_KEY_COLUMNS,
    PERSON_KEYS,
    POSSIBLE_MATCH_COLUMNS,
    POSSIBLE_MATCHES,
    RESOLVED_COLUMNS,
    RESOLVED_INTERACTIONS,
    SPLIT_COLUMNS,
    STORED_AT,
    WITHDRAWN,
    WITHDRAWN_BY,
    AddressKeyRow,
    AlertActionRow,
    AlertRow,
    AliasRow,
    DeadLetterRow,
    MergeRow,
    ParameterSetRow,
    PersonKeyRow,
    PossibleMatchRow,
    ResolvedRow,
    SplitRow,
)

__all__ = [  # the column lists stay importable from here for readers not yet moved to tables
    "ALERT_COLUMNS",
    "DEAD_LETTER_COLUMNS",
    "MERGE_COLUMNS",
    "PERSON_KEY_COLUMNS",
    "RESOLVED_COLUMNS",
    "SinkWriter",
    "batch_token",
]


def resolved_row(record: dict[str, Any]) -> ResolvedRow:
    """A resolved-interaction record (Avro) as its table row. ``event_time`` is when it
    happened, or when MAST received it if the partner did not say (``resolved_at`` is that
    received time, the same on every replay, so the sorting key is too)."""
    event = record["interaction"]
    subject = event["subject"]
    address = subject.get("address") or {}
    contact = event.get("contact") or {}
    occurred_at: datetime | None = event.get("occurred_at")
    return ResolvedRow(
        event_id=event["event_id"],
        person_id=record["person_id"],
        address_id=record.get("address_id") or "",
        agency=event["agency"],
        event_type=event.get("event_type") or "",
        event_time=occurred_at or record["resolved_at"],
        occurred_at=occurred_at,
        source_system=event.get("source_system"),
        source_record_id=event.get("source_record_id"),
        given_name=subject.get("given_name"),
        family_name=subject.get("family_name"),
        date_of_birth=subject.get("date_of_birth"),
        gender=subject.get("gender") or "U",
        address_line1=address.get("line1"),
        address_line2=address.get("line2"),
        town=address.get("town"),
        postcode=address.get("postcode"),
        uprn=address.get("uprn"),
        nhs_number=subject.get("nhs_number"),
        case_status=event.get("case_status"),
        contact_name=contact.get("name"),
        contact_team=contact.get("team"),
        contact_phone=contact.get("phone"),
        contact_email=contact.get("email"),
        match_weight=record.get("match_weight"),
        match_reason=record["match_reason"],
        resolved_at=record["resolved_at"],
        parameters_version=record.get("parameters_version") or "",
        match_contributions=_contributions(record.get("match_contributions")),
        sensitivity=event.get("sensitivity"),
    )


def _contributions(contributions: list[dict[str, Any]] | None) -> str:
    """As JSON; '' when the record did not say (written before schema v4), so that a reader
    tells "not known" from "none"."""
    return "" if contributions is None else json.dumps(contributions)


def person_key_row(key: str, row: ResolvedRow) -> PersonKeyRow:
    """The resolved row filed under one of its search keys."""
    return PersonKeyRow(
        key=key,
        person_id=row.person_id,
        event_id=row.event_id,
        event_time=row.event_time,
        agency=row.agency,
        source_system=row.source_system,
        source_record_id=row.source_record_id,
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        gender=row.gender,
        address_line1=row.address_line1,
        town=row.town,
        postcode=row.postcode,
        nhs_number=row.nhs_number,
        resolved_at=row.resolved_at,
    )


def address_key_rows(resolved_rows: Sequence[ResolvedRow]) -> list[AddressKeyRow]:
    """Each distinct written form of each resolved address under its search keys, with the
    latest time it was seen."""
    latest: dict[tuple[str, ...], AddressKeyRow] = {}
    for row in resolved_rows:
        if not row.address_id:
            continue
        line1, line2 = row.address_line1 or "", row.address_line2 or ""
        town, postcode = row.town or "", row.postcode or ""
        normalised = normalise_address(line1 or None, line2 or None, town or None, postcode or None)
        if normalised is None:
            continue
        for key in address_search_keys(normalised):
            identity = (key, row.address_id, line1, line2, town, postcode)
            kept = latest.get(identity)
            if kept is None or row.event_time > kept.last_seen:
                latest[identity] = AddressKeyRow(
                    key=key,
                    address_id=row.address_id,
                    line1=line1,
                    line2=line2,
                    town=town,
                    postcode=postcode,
                    last_seen=row.event_time,
                )
    return list(latest.values())


def merge_row(record: dict[str, Any]) -> MergeRow:
    return MergeRow(
        merge_id=record["merge_id"],
        surviving_person_id=record["surviving_person_id"],
        retired_person_id=record["retired_person_id"],
        triggered_by_event_id=record.get("triggered_by_event_id"),
        match_weight=record["match_weight"],
        evidence=json.dumps(record["evidence"]),
        merged_at=record["merged_at"],
    )


def split_row(record: dict[str, Any]) -> SplitRow:
    """A split as stored: a detach (no merge) names the records it moved in two arrays."""
    detached = record.get("detached") or []
    return SplitRow(
        **{c: record[c] for c in SPLIT_COLUMNS if not c.startswith("detached_")},
        detached_agencies=[r["agency"] for r in detached],
        detached_event_ids=[r["event_id"] for r in detached],
    )


def alert_row(record: dict[str, Any]) -> AlertRow:
    """The Avro alert record's fields are the table's columns, by the same names."""
    return AlertRow(**{column: record[column] for column in ALERT_COLUMNS if column != STORED_AT})


def stamped(rows: Sequence[tuple[Any, ...]], columns: Sequence[str]) -> Sequence[tuple[Any, ...]]:
    """Rows of a table with a ``stored_at`` column (``tables.STORED_AT``), those without one
    stamped with the time now, to the millisecond the column keeps. Called under the lock
    the API reads under, so a page read as at a time ``T`` (``query_api.records``) never
    counts a row stamped at or before ``T`` that was not yet in when it was read."""
    if STORED_AT not in columns:
        return rows
    position = list(columns).index(STORED_AT)
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    return [
        row if row[position] is not None else (*row[:position], now, *row[position + 1 :])
        for row in rows
    ]


def dead_letter_row(record: dict[str, Any]) -> DeadLetterRow:
    """The Avro dead-letter record's fields are the table's columns, by the same names."""
    return DeadLetterRow(**{column: record[column] for column in DEAD_LETTER_COLUMNS})


def parameter_set_row(record: dict[str, Any]) -> ParameterSetRow:
    """A decoded linkage-parameters message (``messaging.parameter_sets``) as its row."""
    return ParameterSetRow(**{column: record[column] for column in PARAMETER_SET_COLUMNS})


def alias_key(row: AliasRow) -> str:
    """One alias version, as its batch's token counts it: the id, where it points, and the
    merge (or split) and time that made it so. The same on every replay; two versions of
    one id (a merge, its split, the merge made again) differ."""
    return "|".join(
        (row.retired_person_id, row.surviving_person_id, row.merge_id, row.merged_at.isoformat())
    )


def alert_key(row: AlertRow) -> str:
    """One version of an alert, as its batch's token counts it: an alert raised again under
    its id with more evidence is a new version, not a replay of the first."""
    return "|".join(
        (
            row.alert_id,
            row.raised_at.isoformat(),
            row.window_end.isoformat(),
            json.dumps(row.counts_by_agency, sort_keys=True),
            ",".join(row.evidence_event_ids),
        )
    )


def batch_token(table: str, keys: Sequence[str]) -> str:
    """The same batch gives the same token, so ClickHouse stores it once."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(table.encode())
    for key in keys:
        digest.update(b"\x00" + key.encode())
    return digest.hexdigest()


class SinkWriter:
    """Writes each kind of record; safe to share between threads (chDB is one engine per
    process, so the sink and the API take turns on one client)."""

    def __init__(self, client: Client, lock: threading.Lock | None = None) -> None:
        self.client = client
        self.lock = lock or threading.Lock()
        self._aliases: dict[str, str] | None = None

    def _insert(
        self,
        table: str,
        rows: Sequence[tuple[Any, ...]],
        columns: Sequence[str],
        keys: list[str],
    ) -> None:
        """Insert rows whose fields are ``columns``, in that order (a row type's
        ``_fields``)."""
        if not rows:
            return
        with self.lock:
            rows = stamped(rows, columns)
            self.client.insert(
                table,
                rows,
                column_names=list(columns),
                settings={"insert_deduplication_token": batch_token(table, keys)},
            )

    def _insert_versioned(
        self,
        tables: tuple[str, str],
        rows: Sequence[tuple[Any, ...]],
        columns: Sequence[str],
        keys: list[str],
    ) -> None:
        """Insert rows into a table that keeps each key's latest version (read with FINAL)
        and into its append-only table of every version (read as at a time), both under one
        hold of the lock and stamped once: a read never finds a version in one and not the
        other, and both say the same ``stored_at``. Each insert carries its own table's
        token, so a batch read again adds nothing to either."""
        if not rows:
            return
        with self.lock:
            rows = stamped(rows, columns)
            for table in tables:
                self.client.insert(
                    table,
                    rows,
                    column_names=list(columns),
                    settings={"insert_deduplication_token": batch_token(table, keys)},
                )

    def write_resolved(self, records: Sequence[dict[str, Any]]) -> int:
        records = retractions.without_retracted(self, records)  # read again, or late
        records = with_detached(self, records)  # likewise, after a steward's detach
        rows = [resolved_row(record) for record in records]
        self._insert(
            RESOLVED_INTERACTIONS,
            rows,
            RESOLVED_COLUMNS,
            [f"{row.agency}|{row.event_id}|{row.person_id}" for row in rows],
        )
        search_rows = [
            person_key_row(key, row)
            for record, row in zip(records, rows, strict=True)
            for key in record.get("search_keys") or ()
        ]
        self._insert(
            PERSON_KEYS,
            search_rows,
            PERSON_KEY_COLUMNS,
            [f"{r.key}|{r.agency}|{r.event_id}" for r in search_rows],
        )
        address_rows = address_key_rows(rows)
        self._insert(
            ADDRESS_KEYS,
            address_rows,
            ADDRESS_KEY_COLUMNS,
            [
                "|".join((r.key, r.address_id, r.line1, r.line2, r.town, r.postcode))
                for r in address_rows
            ],
        )
        return len(rows)

    def write_alerts(self, records: Sequence[dict[str, Any]]) -> int:
        rows = [alert_row(record) for record in records]
        self._insert_versioned(
            (ALERTS, ALERT_VERSIONS), rows, ALERT_COLUMNS, [alert_key(row) for row in rows]
        )
        retractions.withdraw_late_alerts(self, rows)
        return len(rows)

    def write_retractions(self, records: Sequence[dict[str, Any]]) -> int:
        """Partners' retractions: each withdrawn record's rows deleted wherever they hold its
        details, the alerts it was evidence for withdrawn, and the retraction kept, ids only
        (``sinks.clickhouse.retractions``)."""
        return retractions.write_retractions(self, records)

    def write_dead_letters(self, records: Sequence[dict[str, Any]]) -> int:
        rows = [dead_letter_row(record) for record in records]
        keys = [f"{r.source_topic}|{r.source_partition}|{r.source_offset}" for r in rows]
        self._insert(DEAD_LETTERS, rows, DEAD_LETTER_COLUMNS, keys)
        return len(rows)

    def write_parameter_sets(self, records: Sequence[dict[str, Any]]) -> int:
        rows = [parameter_set_row(record) for record in records]
        keys = [f"{row.version}|{row.published_at.isoformat()}" for row in rows]
        self._insert(LINKAGE_PARAMETERS, rows, PARAMETER_SET_COLUMNS, keys)
        return len(rows)

    def write_possible_matches(self, records: Sequence[dict[str, Any]]) -> int:
        """Store the records kept for review beside the identity each may be (the
        stewards' queue reads them); a repeat collapses on ``possible_id``."""
        rows = [
            PossibleMatchRow(
                **{c: record[c] for c in POSSIBLE_MATCH_COLUMNS if c != "evidence"},
                evidence=json.dumps(record.get("evidence") or []),
            )
            for record in records
        ]
        self._insert(
            POSSIBLE_MATCHES, rows, POSSIBLE_MATCH_COLUMNS, [row.possible_id for row in rows]
        )
        return len(rows)

    def write_merges(self, records: Sequence[dict[str, Any]]) -> int:
        """Store each merge and re-point every id that led to the retired one, so that one
        look-up gives any old id's current person."""
        if not records:
            return 0
        aliases = self._load_aliases()
        alias_rows: list[AliasRow] = []
        for record in records:
            retired, surviving = record["retired_person_id"], record["surviving_person_id"]
            surviving = aliases.get(surviving, surviving)
            followers = [old for old, now in aliases.items() if now == retired]
            for old in [*followers, retired]:
                aliases[old] = surviving
                alias_rows.append(
                    AliasRow(
                        retired_person_id=old,
                        surviving_person_id=surviving,
                        merge_id=record["merge_id"],
                        merged_at=record["merged_at"],
                    )
                )
        rows = [merge_row(record) for record in records]
        self._insert(IDENTITY_MERGES, rows, MERGE_COLUMNS, [row.merge_id for row in rows])
        self._insert_versioned(
            (PERSON_ALIASES, PERSON_ALIAS_VERSIONS),
            alias_rows,
            ALIAS_COLUMNS,
            [alias_key(r) for r in alias_rows],
        )
        return len(records)

    def write_splits(self, records: Sequence[dict[str, Any]]) -> int:
        """Store each split and re-point the ids it concerns. Which ids belong to whom after a
        split depends on every merge around it (an id merged into the restored one before
        the merge goes back with it; one merged into the survivor stays), so the map is
        worked out again from every merge not undone, in the order they were made, and a
        row is written for each id whose person changed, versioned at the split's time:
        the rows before it stay, superseded."""
        if not records:
            return 0
        rows = [split_row(record) for record in records]
        self._insert(IDENTITY_SPLITS, rows, SPLIT_COLUMNS, [row.split_id for row in rows])
        move_detached(self, rows)
        with self.lock:
            merges = self.client.query(
                "SELECT merge_id, surviving_person_id, retired_person_id FROM identity_merges "
                "FINAL WHERE merge_id NOT IN (SELECT merge_id FROM identity_splits FINAL) "
                "ORDER BY merged_at, merge_id"
            ).result_rows
        undone = {row.merge_id for row in rows}
        replayed: dict[str, tuple[str, str]] = {}
        """Old id → (its person now, the merge that made it so)."""
        for merge_id, surviving, retired in merges:
            if merge_id in undone:
                continue
            surviving = replayed.get(surviving, (surviving, ""))[0]
            followers = [old for old, (now, _m) in replayed.items() if now == retired]
            for old in [*followers, retired]:
                replayed[old] = (surviving, merge_id)
        aliases = self._load_aliases()
        at = max(row.split_at for row in rows)
        last_split = {row.restored_person_id: row.split_id for row in rows}
        changed: list[AliasRow] = []
        for old, was in sorted(aliases.items()):
            now, merge_id = replayed.get(old, (old, last_split.get(old, "")))
            if now != was:
                changed.append(AliasRow(old, now, merge_id or rows[-1].split_id, at))
                aliases[old] = now
        self._insert_versioned(
            (PERSON_ALIASES, PERSON_ALIAS_VERSIONS),
            changed,
            ALIAS_COLUMNS,
            [alias_key(r) for r in changed],
        )
        self._withdraw_alerts(rows, aliases)
        return len(records)

    def _withdraw_alerts(self, splits: Sequence[SplitRow], aliases: dict[str, str]) -> None:
        """A person alert whose evidence now belongs to more than one person relied on the
        link a split undid: it is withdrawn (an ``alert_actions`` row by MAST, at the
        split's time), so that it leaves the open alerts and says why."""
        people = {s.surviving_person_id for s in splits} | {s.restored_person_id for s in splits}
        ids = sorted(people | {old for old, now in aliases.items() if now in people})
        with self.lock:
            alerts = self.client.query(
                "SELECT alert_id, evidence_event_ids FROM alerts FINAL "
                "WHERE subject_kind = 'PERSON' AND subject_id IN {ids:Array(String)}",
                parameters={"ids": ids},
            ).result_rows
            done = {
                str(row[0])
                for row in self.client.query(
                    "SELECT DISTINCT alert_id FROM alert_actions WHERE action = {w:String} "
                    "AND alert_id IN {ids:Array(String)}",
                    parameters={"w": WITHDRAWN, "ids": [str(a[0]) for a in alerts]},
                ).result_rows
            }  # alert_actions is append-only: a split written again must not add rows
            alerts = [(alert_id, events) for alert_id, events in alerts if alert_id not in done]
            evidence = sorted({e for _alert, events in alerts for e in events})
            held = (
                self.client.query(
                    "SELECT DISTINCT event_id, person_id FROM resolved_interactions "
                    "WHERE event_id IN {events:Array(String)}",
                    parameters={"events": evidence},
                ).result_rows
                if evidence
                else []
            )
        holders: dict[str, set[str]] = {}
        for event_id, person_id in held:
            holders.setdefault(str(event_id), set()).add(
                aliases.get(str(person_id)) or str(person_id)
            )
        split = max(splits, key=lambda s: s.split_at)
        withdrawn = [
            AlertActionRow(alert_id, split.split_at, WITHDRAWN_BY, "", WITHDRAWN, split.split_id)
            for alert_id, events in alerts
            if len(set().union(*(holders.get(e, set()) for e in events))) > 1
        ]
        self._insert(
            ALERT_ACTIONS,
            withdrawn,
            ALERT_ACTION_COLUMNS,
            [f"{row.alert_id}|{row.assignee}" for row in withdrawn],
        )

    def _load_aliases(self) -> dict[str, str]:
        if self._aliases is None:
            with self.lock:
                result = self.client.query(
                    "SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL"
                )
            self._aliases = {
                row["retired_person_id"]: row["surviving_person_id"]
                for row in result.named_results()
            }
        return self._aliases
