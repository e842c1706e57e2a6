"""Retention of personal data in ClickHouse, by TTL from ``MAST_RETENTION_DAYS``.

Set at start rather than in a migration, so that changing the setting needs no new
migration; a table whose TTL already says so is left alone, because modifying a TTL
re-examines every part.
"""

from __future__ import annotations

import re

from clickhouse_connect.driver.client import Client

TTL_COLUMNS = {
    "resolved_interactions": "event_time",
    "address_interactions": "event_time",
    "person_keys": "event_time",
    "address_keys": "last_seen",
    "alerts": "raised_at",
    "dead_letters": "failed_at",
}
_CURRENT = re.compile(r"TTL .*toIntervalDay\((\d+)\)")


def current_ttl_days(client: Client, table: str) -> int | None:
    statement = str(client.command(f"SHOW CREATE TABLE {table}"))
    match = _CURRENT.search(statement.replace("\\n", " "))
    return int(match.group(1)) if match else None


def apply_retention(client: Client, days: int) -> list[str]:
    """Make every table's TTL ``days``; return the tables changed."""
    if days <= 0:
        raise ValueError("MAST_RETENTION_DAYS must be a positive number of days")
    changed = []
    for table, column in TTL_COLUMNS.items():
        if current_ttl_days(client, table) == days:
            continue
        client.command(
            f"ALTER TABLE {table} MODIFY TTL toDateTime({column}) + INTERVAL {int(days)} DAY"
        )
        changed.append(table)
    return changed
