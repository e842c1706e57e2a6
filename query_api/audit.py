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
from sinks.clickhouse.tables import AUDIT_LOG, AuditRow, select_list

COLUMNS: tuple[str, ...] = AuditRow._fields
"""An audit entry's fields, the ``audit_log`` table's columns (and the CSV export's)."""


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
        row = AuditRow(
            audit_id=uuid.uuid4(),
            at=datetime.now(UTC),
            username=who.username,
            organisation=who.organisation,
            role=who.role,
            action=entry.action,
            outcome=entry.outcome,
            purpose=entry.purpose,
            purpose_detail=entry.purpose_detail,
            asked=json.dumps(entry.asked, default=str, sort_keys=True),
            person_ids=list(entry.person_ids),
            address_ids=list(entry.address_ids),
            event_ids=list(entry.event_ids),
        )
        with self.lock:
            self.client.insert(AUDIT_LOG, [row], column_names=COLUMNS)

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
            "SELECT " + select_list(COLUMNS) + " FROM " + AUDIT_LOG + " "  # noqa: S608 - constant names, bound values
            "WHERE " + " AND ".join(conditions) + " ORDER BY at DESC LIMIT {limit:UInt32}"
        )
        with self.lock:
            rows = in_utc(self.client.query(sql, parameters=parameters).result_rows)
        return [
            {**row._asdict(), "audit_id": str(row.audit_id)}
            for row in (AuditRow._make(values) for values in rows)
        ]
