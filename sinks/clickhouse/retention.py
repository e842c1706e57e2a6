"""How long each ClickHouse table keeps what it holds: stated here, once, for every table,
enforced by TTL where rows expire, and read by the retention page (``GET /retention``) so
that managers and the data protection officer see what is held, for how long, and when it
goes.

TTLs are set at start rather than in a migration, so that changing a setting needs no new
migration; a table whose TTL already says so is left alone, because modifying a TTL
re-examines every part. ClickHouse removes expired rows when it next merges a table's
parts, so a row goes at most a merge after its time (``TTL`` in the ClickHouse manual).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from clickhouse_connect.driver.client import Client

from mast_core.settings import Settings

Period = Literal["personal", "audit", "fixed", "kept"]
"""``personal``: partners' records and what is derived from them, ``MAST_RETENTION_DAYS``;
``audit``: who looked at what and what they decided, ``MAST_AUDIT_RETENTION_DAYS``;
``fixed``: a TTL set where the table is created (sign-in attempts, the migration lock),
stated here; ``kept``: no row expires (ids, accounts, parameters: no partner's details),
said why in ``holds``."""


@dataclass(frozen=True)
class TableRetention:
    table: str
    holds: str
    """What the table holds, in words a data protection officer reads."""
    period: Period
    column: str | None = None
    """The time each row's retention counts from (None for ``kept``)."""
    personal_data: bool = True
    """Whether a row can identify a person (names, dates of birth, addresses, free text
    about them, or a member of staff by username), as opposed to ids and counts."""
    fixed_days: int | None = None
    """For a ``fixed`` period, its days, as the table's own definition sets them."""


RETENTION: tuple[TableRetention, ...] = (
    TableRetention(
        "resolved_interactions",
        "each partner record of the minimum dataset, the person it was linked to and why",
        "personal",
        "event_time",
    ),
    TableRetention(
        "address_interactions", "each record's address, for address pages", "personal", "event_time"
    ),
    TableRetention(
        "person_keys",
        "search keys of each record (names, dates of birth)",
        "personal",
        "event_time",
    ),
    TableRetention(
        "address_keys", "search keys of each address as written", "personal", "last_seen"
    ),
    TableRetention(
        "alerts", "escalation alerts with the records behind them", "personal", "raised_at"
    ),
    TableRetention(
        "alert_versions",
        "every version of each escalation alert, for pages as they stood",
        "personal",
        "raised_at",
    ),
    TableRetention(
        "alert_actions",
        "who acknowledged or assigned each alert",
        "personal",
        "at",
    ),
    TableRetention(
        "dead_letters", "input MAST could not take, with the reason", "personal", "failed_at"
    ),
    TableRetention(
        "audit_log",
        "every search, page view, export and decision: who, purpose, whom it concerned",
        "audit",
        "at",
    ),
    TableRetention(
        "disputes", "records marked as not the person, with the reason given", "audit", "raised_at"
    ),
    TableRetention(
        "dispute_decisions",
        "stewards' decisions on disputes, with their notes",
        "audit",
        "decided_at",
    ),
    TableRetention(
        "access_review_outcomes",
        "the data protection officer's outcomes of unusual-access findings, with notes",
        "audit",
        "reviewed_at",
    ),
    TableRetention(
        "break_glass",
        "each break-glass into a shielded record: who, why, when, until when",
        "audit",
        "granted_at",
    ),
    TableRetention(
        "break_glass_reviews",
        "the outcome of reviewing each break-glass, with the reviewer's note",
        "audit",
        "reviewed_at",
    ),
    TableRetention(
        "shields",
        "which person and address ids a steward or manager shielded or lifted, and why: kept, "
        "because a shield that expired would show a hidden address again",
        "kept",
    ),
    TableRetention(
        "notifications_seen",
        "which notifications each user has seen (ids only)",
        "audit",
        "seen_at",
    ),
    TableRetention(
        "login_attempts",
        "sign-in attempts (username, time, success), to slow down guessing (migration 0003)",
        "fixed",
        "at",
        fixed_days=30,
    ),
    TableRetention(
        "identity_merges",
        "each merge of two person ids with its evidence (ids and weights, no details): kept, "
        "so that every id ever shown still leads to its person",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "person_aliases",
        "which person id each retired id belongs to (ids only): kept, as merges",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "person_alias_versions",
        "every version of which person id each retired id belonged to, and when (ids only): "
        "kept, as merges, so a page can be shown as it stood at any time",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "identity_splits",
        "merges undone by a steward (ids only): kept, as merges",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "event_retractions",
        "partners' retractions of their records (ids only): kept, so that a record withdrawn "
        "is kept out if it is ever sent again",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "possible_matches",
        "records kept for a steward's review with the identity they may be (ids, weights and "
        "evidence, no details)",
        "personal",
        "found_at",
        personal_data=False,
    ),
    TableRetention(
        "users",
        "user accounts (username, role, organisation, display name, password hash): kept "
        "while the account exists; disabled, never deleted, so the audit names whom it means",
        "kept",
    ),
    TableRetention(
        "alerts_seen",
        "when each user last looked at the alerts list: kept while the account exists",
        "kept",
    ),
    TableRetention(
        "partner_keys",
        "partners' API keys (hashes) and the agency each may send for: kept while in use",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "linkage_parameters",
        "the matching parameters learnt from the data, by version (no personal data): kept, "
        "so each link names the version that made it",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "schema_migrations",
        "which database migrations have been applied: kept",
        "kept",
        personal_data=False,
    ),
    TableRetention(
        "schema_migrations_lock",
        "which process is migrating the database, while it does (host and process id; "
        "sinks/clickhouse/migration_lock.py)",
        "fixed",
        "written_at",
        personal_data=False,
        fixed_days=7,
    ),
)
"""Every table MAST creates, and how long it keeps its rows (the one place this is said)."""

_BY_TABLE = {entry.table: entry for entry in RETENTION}
_CURRENT = re.compile(r"TTL toDateTime\((\w+)\) \+ toIntervalDay\((\d+)\)")


def retention_of(table: str) -> TableRetention:
    return _BY_TABLE[table]


def kept_days(entry: TableRetention, settings: Settings) -> int | None:
    """How many days the table keeps a row under these settings (None: kept)."""
    return {
        "personal": settings.retention_days,
        "audit": settings.audit_retention_days,
        "fixed": entry.fixed_days,
        "kept": None,
    }[entry.period]


def current_ttl(client: Client, table: str) -> tuple[str, int] | None:
    """The column and days of a table's TTL, if it has one."""
    statement = str(client.command(f"SHOW CREATE TABLE {table}"))
    match = _CURRENT.search(statement.replace("\\n", " "))
    return (match.group(1), int(match.group(2))) if match else None


def current_ttl_days(client: Client, table: str) -> int | None:
    ttl = current_ttl(client, table)
    return ttl[1] if ttl else None


def apply_retention(client: Client, settings: Settings) -> list[str]:
    """Make every expiring table's TTL what the settings say; return the tables changed."""
    for name, days in (
        ("MAST_RETENTION_DAYS", settings.retention_days),
        ("MAST_AUDIT_RETENTION_DAYS", settings.audit_retention_days),
    ):
        if days <= 0:
            raise ValueError(f"{name} must be a positive number of days")
    changed = []
    for entry in RETENTION:
        kept_for = kept_days(entry, settings)
        if entry.period == "fixed" or kept_for is None or entry.column is None:
            continue  # a fixed TTL is the table's own
        if current_ttl(client, entry.table) == (entry.column, kept_for):
            continue
        client.command(
            f"ALTER TABLE {entry.table} MODIFY TTL toDateTime({entry.column}) + "
            f"INTERVAL {int(kept_for)} DAY"
        )
        changed.append(entry.table)
    return changed
