"""What MAST holds and for how long (sensitive records issue, item 6): every table's
retention as ``sinks.clickhouse.retention`` states it, with how many rows it holds now, its
oldest row and when that goes; and how long each Kafka topic keeps messages. For managers,
admins and the data protection officer; audited as ``view_retention``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from messaging.topics import topic_specs
from query_api.answers import refusals
from query_api.audited import Trail, audit_of
from query_api.reads import Reader
from sinks.clickhouse.retention import RETENTION, Period, TableRetention, kept_days

router = APIRouter(prefix="/api/v1", tags=["retention"], responses=refusals(401))

MAY_SEE = ("manager", "admin", "dpo")
_DAY_MS = 24 * 60 * 60 * 1000


class TableHeld(BaseModel):
    table: str
    holds: str = Field(description="What the table holds, in words.")
    personal_data: bool = Field(
        description="Whether a row can identify a person (not only ids and counts)."
    )
    period: Period = Field(
        description="`personal` (MAST_RETENTION_DAYS), `audit` (MAST_AUDIT_RETENTION_DAYS), "
        "`fixed` (set where the table is made: `days` says how long) or `kept` (no row "
        "expires; `holds` says why)."
    )
    days: int | None = Field(description="How long a row is kept; null: kept.")
    counted_from: str | None = Field(description="The column each row's time is read from.")
    rows: int = Field(description="Rows held now (before ClickHouse's merges remove duplicates).")
    oldest: datetime | None = Field(description="The oldest row's time, if any row expires.")
    oldest_goes: datetime | None = Field(
        description="When the oldest row is due to go: ClickHouse removes expired rows at its "
        "next merge of the table after this."
    )


class TopicHeld(BaseModel):
    topic: str
    personal_data: bool = Field(
        description="Its messages carry partners' details, not only ids (the accepted log, "
        "kept for ever by default, is where personal data outlives MAST_RETENTION_DAYS)."
    )
    days: int | None = Field(description="How long Kafka keeps a message; null: for ever.")
    compacted: bool = Field(description="Kept per key: the latest message of each key stays.")


class Retention(BaseModel):
    tables: list[TableHeld]
    topics: list[TopicHeld]


def _held(reader: Reader, entry: TableRetention, days: int | None) -> TableHeld:
    column = entry.column if days is not None else None
    oldest_sql = f"min({column})" if column else "NULL"
    [(rows, oldest)] = reader.rows(f"SELECT count(), {oldest_sql} FROM {entry.table}", {})  # noqa: S608 - names from RETENTION
    oldest = oldest if rows else None
    return TableHeld(
        table=entry.table,
        holds=entry.holds,
        personal_data=entry.personal_data,
        period=entry.period,
        days=days,
        counted_from=column,
        rows=rows,
        oldest=oldest,
        oldest_goes=oldest + timedelta(days=days) if oldest and days else None,
    )


@router.get(
    "/retention",
    summary="What MAST holds, for how long, and when the oldest of it goes",
    description=(
        "Managers, admins and the data protection officer (403 for everyone else, audited). "
        "Every ClickHouse table with what it holds, whether that is personal data, its "
        "retention (set by MAST_RETENTION_DAYS and MAST_AUDIT_RETENTION_DAYS and enforced by "
        "TTL), how many rows it holds and when its oldest row is due to go; and how long "
        "each Kafka topic keeps messages. Audited as `view_retention`."
    ),
    responses=refusals(403, _403="Not a manager, admin or data protection officer (audited)."),
)
def view_retention(trail: Annotated[Trail, audit_of("view_retention")]) -> Retention:
    if trail.who.role not in MAY_SEE:
        trail.refuse(
            status.HTTP_403_FORBIDDEN,
            "managers, admins and the data protection officer see what MAST holds",
        )
    settings = trail.ctx.settings
    reader = Reader(trail.ctx.client, trail.ctx.lock)
    tables = [_held(reader, e, kept_days(e, settings)) for e in RETENTION]
    topics = [
        TopicHeld(
            topic=spec.name,
            personal_data=spec.personal_data,
            days=spec.retention_ms // _DAY_MS if spec.retention_ms > 0 else None,
            compacted=spec.compacted,
        )
        for spec in topic_specs(settings)
    ]
    trail.record()
    return Retention(tables=tables, topics=topics)
