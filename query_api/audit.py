"""The audit log: every look-up, export and alert action, and every refusal that concerns a
person, appended to ClickHouse. Nothing in MAST updates or deletes it."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.client import Client

from query_api.reads import in_utc
from query_api.security import Principal

COLUMNS = [
    "audit_id",
    "at",
    "username",
    "organisation",
    "role",
    "action",
    "outcome",
    "purpose",
    "purpose_detail",
    "asked",
    "person_ids",
    "address_ids",
    "event_ids",
]


EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2299, 12, 30)
"""The days a filter can name: the column is a DateTime64, whose range ends at 1900 and
2299, and the log holds nothing from before MAST; a day outside is read as the nearest
within (the same entries), never sent to ClickHouse, which refuses it."""


def _within(day: date) -> date:
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


@dataclass
class Entry:
    action: str
    outcome: str = "shown"
    purpose: str = ""
    purpose_detail: str = ""
    asked: dict[str, Any] = field(default_factory=dict)
    person_ids: Sequence[str] = ()
    address_ids: Sequence[str] = ()
    event_ids: Sequence[str] = ()


class AuditLog:
    def __init__(self, client: Client, lock: threading.Lock | None = None) -> None:
        self.client = client
        self.lock = lock or threading.Lock()

    def record(self, who: Principal, entry: Entry) -> None:
        row = [
            uuid.uuid4(),
            datetime.now(UTC),
            who.username,
            who.organisation,
            who.role,
            entry.action,
            entry.outcome,
            entry.purpose,
            entry.purpose_detail,
            json.dumps(entry.asked, default=str, sort_keys=True),
            list(entry.person_ids),
            list(entry.address_ids),
            list(entry.event_ids),
        ]
        with self.lock:
            self.client.insert("audit_log", [row], column_names=COLUMNS)

    def search(
        self,
        organisation: str,
        *,
        username: str | None = None,
        person_id: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """One organisation's entries, newest first, filtered as a manager asks."""
        conditions = ["organisation = {org:String}"]
        parameters: dict[str, Any] = {"org": organisation, "limit": limit}
        if username:
            conditions.append("username = {user:String}")
            parameters["user"] = username
        if person_id:
            conditions.append("has(person_ids, {person:String})")
            parameters["person"] = person_id
        if since:
            conditions.append("at >= {since:DateTime64(3, 'UTC')}")
            parameters["since"] = datetime.combine(_within(since), datetime.min.time(), UTC)
        if until:
            conditions.append("at < {until:DateTime64(3, 'UTC')}")
            parameters["until"] = datetime.combine(
                _within(until), datetime.min.time(), UTC
            ) + timedelta(days=1)
        sql = (
            "SELECT toString(audit_id), at, username, organisation, role, action, outcome, "
            "purpose, purpose_detail, asked, person_ids, address_ids, event_ids "
            "FROM audit_log WHERE " + " AND ".join(conditions) + " "
            "ORDER BY at DESC LIMIT {limit:UInt32}"
        )
        with self.lock:
            rows = in_utc(self.client.query(sql, parameters=parameters).result_rows)
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]
