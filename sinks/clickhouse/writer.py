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
from datetime import datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from mast_core.linkage.address_search import address_search_keys
from mast_core.normalise.addresses import normalise_address

RESOLVED_COLUMNS = [
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
    "uprn",
    "nhs_number",
    "case_status",
    "contact_name",
    "contact_team",
    "contact_phone",
    "contact_email",
    "match_weight",
    "match_reason",
    "resolved_at",
    "parameters_version",
]
PERSON_KEY_COLUMNS = [
    "key",
    "person_id",
    "event_id",
    "event_time",
    "agency",
    "source_system",
    "source_record_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "address_line1",
    "town",
    "postcode",
    "nhs_number",
    "resolved_at",
]
_SEARCHED = [RESOLVED_COLUMNS.index(name) for name in PERSON_KEY_COLUMNS[1:]]
"""Where each of person_keys' columns after the key sits in a resolved row."""
ADDRESS_KEY_COLUMNS = ["key", "address_id", "line1", "line2", "town", "postcode", "last_seen"]
MERGE_COLUMNS = [
    "merge_id",
    "surviving_person_id",
    "retired_person_id",
    "triggered_by_event_id",
    "match_weight",
    "evidence",
    "merged_at",
]
ALIAS_COLUMNS = ["retired_person_id", "surviving_person_id", "merge_id", "merged_at"]
ALERT_COLUMNS = [
    "alert_id",
    "rule_id",
    "severity",
    "subject_kind",
    "subject_id",
    "window_start",
    "window_end",
    "counts_by_agency",
    "evidence_event_ids",
    "summary",
    "raised_at",
]
DEAD_LETTER_COLUMNS = [
    "source_topic",
    "source_partition",
    "source_offset",
    "reason",
    "field",
    "detail",
    "raw",
    "failed_at",
]


def resolved_row(record: dict[str, Any]) -> list[Any]:
    event = record["interaction"]
    subject = event["subject"]
    address = subject.get("address") or {}
    contact = event.get("contact") or {}
    occurred_at: datetime | None = event.get("occurred_at")
    return [
        event["event_id"],
        record["person_id"],
        record.get("address_id") or "",
        event["agency"],
        event.get("event_type") or "",
        occurred_at or record["resolved_at"],
        occurred_at,
        event.get("source_system"),
        event.get("source_record_id"),
        subject.get("given_name"),
        subject.get("family_name"),
        subject.get("date_of_birth"),
        subject.get("gender") or "U",
        address.get("line1"),
        address.get("line2"),
        address.get("town"),
        address.get("postcode"),
        address.get("uprn"),
        subject.get("nhs_number"),
        event.get("case_status"),
        contact.get("name"),
        contact.get("team"),
        contact.get("phone"),
        contact.get("email"),
        record.get("match_weight"),
        record["match_reason"],
        record["resolved_at"],
        record.get("parameters_version") or "",
    ]


def address_key_rows(resolved_rows: Sequence[list[Any]]) -> list[list[Any]]:
    """Each distinct written form of each resolved address under its search keys."""
    latest: dict[tuple[str, ...], list[Any]] = {}
    for row in resolved_rows:
        address_id = row[2]
        if not address_id:
            continue
        text = (row[13] or "", row[14] or "", row[15] or "", row[16] or "")
        normalised = normalise_address(*(part or None for part in text))
        if normalised is None:
            continue
        for key in address_search_keys(normalised):
            identity = (key, address_id, *text)
            kept = latest.get(identity)
            if kept is None or row[5] > kept[-1]:
                latest[identity] = [*identity, row[5]]
    return list(latest.values())


def merge_row(record: dict[str, Any]) -> list[Any]:
    return [
        record["merge_id"],
        record["surviving_person_id"],
        record["retired_person_id"],
        record.get("triggered_by_event_id"),
        record["match_weight"],
        json.dumps(record["evidence"]),
        record["merged_at"],
    ]


def alert_row(record: dict[str, Any]) -> list[Any]:
    return [record[column] for column in ALERT_COLUMNS]


def dead_letter_row(record: dict[str, Any]) -> list[Any]:
    return [record[column] for column in DEAD_LETTER_COLUMNS]


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
        self, table: str, rows: list[list[Any]], columns: list[str], keys: list[str]
    ) -> None:
        if not rows:
            return
        with self.lock:
            self.client.insert(
                table,
                rows,
                column_names=columns,
                settings={"insert_deduplication_token": batch_token(table, keys)},
            )

    def write_resolved(self, records: Sequence[dict[str, Any]]) -> int:
        rows = [resolved_row(record) for record in records]
        keys = [f"{row[3]}|{row[0]}|{row[1]}" for row in rows]  # agency, event, person
        self._insert("resolved_interactions", rows, RESOLVED_COLUMNS, keys)
        search_rows = [
            [key, *(row[i] for i in _SEARCHED)]
            for record, row in zip(records, rows, strict=True)
            for key in record.get("search_keys") or ()
        ]
        self._insert(
            "person_keys",
            search_rows,
            PERSON_KEY_COLUMNS,
            [f"{r[0]}|{r[4]}|{r[2]}" for r in search_rows],  # key, agency, event
        )
        address_rows = address_key_rows(rows)
        self._insert(
            "address_keys",
            address_rows,
            ADDRESS_KEY_COLUMNS,
            ["|".join(r[:6]) for r in address_rows],
        )
        return len(rows)

    def write_alerts(self, records: Sequence[dict[str, Any]]) -> int:
        rows = [alert_row(record) for record in records]
        self._insert("alerts", rows, ALERT_COLUMNS, [record["alert_id"] for record in records])
        return len(rows)

    def write_dead_letters(self, records: Sequence[dict[str, Any]]) -> int:
        rows = [dead_letter_row(record) for record in records]
        keys = [
            f"{r['source_topic']}|{r['source_partition']}|{r['source_offset']}" for r in records
        ]
        self._insert("dead_letters", rows, DEAD_LETTER_COLUMNS, keys)
        return len(rows)

    def write_merges(self, records: Sequence[dict[str, Any]]) -> int:
        """Store each merge and re-point every id that led to the retired one, so that one
        look-up gives any old id's current person."""
        if not records:
            return 0
        aliases = self._load_aliases()
        alias_rows: list[list[Any]] = []
        for record in records:
            retired, surviving = record["retired_person_id"], record["surviving_person_id"]
            surviving = aliases.get(surviving, surviving)
            followers = [old for old, now in aliases.items() if now == retired]
            for old in [*followers, retired]:
                aliases[old] = surviving
                alias_rows.append([old, surviving, record["merge_id"], record["merged_at"]])
        merge_ids = [record["merge_id"] for record in records]
        self._insert("identity_merges", [merge_row(r) for r in records], MERGE_COLUMNS, merge_ids)
        self._insert(
            "person_aliases", alias_rows, ALIAS_COLUMNS, [f"{r[0]}|{r[1]}" for r in alias_rows]
        )
        return len(records)

    def _load_aliases(self) -> dict[str, str]:
        if self._aliases is None:
            with self.lock:
                result = self.client.query(
                    "SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL"
                )
            self._aliases = {row[0]: row[1] for row in result.result_rows}
        return self._aliases
