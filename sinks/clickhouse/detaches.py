"""Records a steward detached from a person, in ClickHouse: each record's rows move from the
person to the new identity the resolver gave it (``mast_core.linkage.detach``), in every
table that files a record under its person (``DETAIL_TABLES_BY_EVENT``).

``person_id`` is in those tables' sort keys, so a row cannot be updated in place: each is
copied under the new id (stamped ``stored_at`` now, where the table has it: a page as it
stood before the detach does not show the record as the new identity's), then the old rows
are deleted by a mutation that is waited for and names ids only. Both steps select by
agency, event id and ``person_id`` other than the new one, so a detach written again (the
sink reads at least once) copies and deletes nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sinks.clickhouse.tables import (
    DETAIL_TABLES_BY_EVENT,
    RESOLVED_INTERACTIONS,
    SHIELDS,
    WITHDRAWN_BY,
    ShieldRow,
    SplitRow,
)

if TYPE_CHECKING:
    from sinks.clickhouse.writer import SinkWriter

_SYNC = {"mutations_sync": 2}
_STAMPED = (RESOLVED_INTERACTIONS,)
"""The tables of ``DETAIL_TABLES_BY_EVENT`` with a ``stored_at`` (migration 0020)."""
_FED_BY_VIEW = ("address_interactions",)
"""Filled by a materialized view from ``resolved_interactions`` (migration 0010): the copy
into that table makes its rows; only the old ones are deleted here."""
_WHERE = "agency = {agency:String} AND event_id = {event_id:String} AND person_id != {to:String}"


def move_detached(writer: SinkWriter, splits: Sequence[SplitRow]) -> int:
    """Move the rows of every record the detaches among ``splits`` name; how many records."""
    moved = 0
    client = writer.client
    for split in splits:
        if split.merge_id or not split.detached_event_ids:
            continue  # a merge undone: the aliases say who is whom
        for agency, event_id in zip(split.detached_agencies, split.detached_event_ids, strict=True):
            target = {"agency": agency, "event_id": event_id, "to": split.restored_person_id}
            with writer.lock:
                for table in DETAIL_TABLES_BY_EVENT:
                    if table in _FED_BY_VIEW:
                        client.command(
                            f"ALTER TABLE {table} DELETE WHERE {_WHERE}", target, settings=_SYNC
                        )
                        continue
                    replaced = "{to:String} AS person_id" + (
                        ", now64(3) AS stored_at" if table in _STAMPED else ""
                    )
                    # the rows chosen in a subquery: in the outer SELECT, ``person_id`` in a
                    # WHERE would name the replaced value (ClickHouse lets aliases shadow)
                    client.command(
                        f"INSERT INTO {table} SELECT * REPLACE ({replaced}) FROM "  # noqa: S608 - constant names, values bound
                        f"(SELECT * FROM {table} WHERE {_WHERE})",
                        target,
                    )
                    client.command(
                        f"ALTER TABLE {table} DELETE WHERE {_WHERE}", target, settings=_SYNC
                    )
            moved += 1
        _carry_shields(writer, split)
    return moved


def _carry_shields(writer: SinkWriter, split: SplitRow) -> None:
    """A person shielded by hand stays shielded in what is detached from them: the new
    identity is shielded too (by ``MAST``, for the organisation whose shield it carries),
    until a steward or that organisation lifts it. Erring so, a record that was hidden does
    not become visible because a steward said it is someone else's. A partner's own mark
    (``sensitivity``) goes with its record by itself."""
    aliases = writer._load_aliases()
    ids = sorted(
        {split.surviving_person_id}
        | {old for old, now in aliases.items() if now == split.surviving_person_id}
    )
    with writer.lock:
        found = writer.client.query(
            "SELECT argMax(organisation, at) FROM shields WHERE subject_kind = 'PERSON' "
            "AND subject_id IN {ids:Array(String)} GROUP BY subject_id "
            "HAVING argMax(action, at) = 'shield'",
            parameters={"ids": ids},
        ).result_rows
    if not found:
        return
    rows = [
        ShieldRow(
            "PERSON",
            split.restored_person_id,
            "shield",
            f"carried over: records detached from a person shielded by hand ({split.split_id})",
            WITHDRAWN_BY,
            organisation,
            split.split_at,
        )
        for organisation in sorted({str(row[0]) for row in found})
    ]
    writer._insert(
        SHIELDS, rows, ShieldRow._fields, [f"{r.subject_id}|{r.organisation}" for r in rows]
    )


def with_detached(
    writer: SinkWriter, records: Sequence[dict[str, Any]]
) -> Sequence[dict[str, Any]]:
    """Resolved records as they stand after any detach of their events: a resolution made
    before its event was detached, read again after (a redelivery, or the resolution stage
    replaying from a checkpoint taken before the correction), is stored under the identity
    the record was detached to, not back under the person. A resolution made after the
    detach (the resolver's own, later word) is stored as it is. The latest detach wins."""
    if not records:
        return records
    ids = sorted({r["interaction"]["event_id"] for r in records})
    with writer.lock:
        found = writer.client.query(
            "SELECT agency, event_id, argMax(restored_person_id, split_at), max(split_at) "
            "FROM (SELECT arrayJoin(arrayZip(detached_agencies, detached_event_ids)) AS "
            "detached, detached.1 AS agency, detached.2 AS event_id, restored_person_id, "
            "split_at FROM identity_splits WHERE merge_id = '' "
            "AND hasAny(detached_event_ids, {ids:Array(String)})) GROUP BY agency, event_id",
            parameters={"ids": ids},
        ).result_rows
    moved = {(str(a), str(e)): (str(to), _utc(at)) for a, e, to, at in found}
    if not moved:
        return records
    out = []
    for record in records:
        key = (record["interaction"]["agency"], record["interaction"]["event_id"])
        to, at = moved.get(key, ("", None))
        if at is not None and _utc(record["resolved_at"]) <= at:
            record = {**record, "person_id": to}
        out.append(record)
    return out


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
