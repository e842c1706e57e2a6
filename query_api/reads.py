"""What every read of the pipeline's tables shares: one client taken in turns (chDB is one
engine per process, shared with the sink), and merges followed from any person id to the
person it belongs to now and back to every id retired into it, or to the person it belonged
to at an earlier time (``as_at``: the alias versions the sink had stored by then)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.client import Client

from sinks.clickhouse.tables import PERSON_ALIAS_VERSIONS


def in_utc(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows with every time marked UTC: MAST's columns are all DateTime64(3, 'UTC'), but
    the client hands them back without a zone, and an API must not leave a reader guessing."""
    return [
        tuple(
            value.replace(tzinfo=UTC)
            if isinstance(value, datetime) and value.tzinfo is None
            else value
            for value in row
        )
        for row in rows
    ]


AS_AT = "{as_at:DateTime64(3, 'UTC')}"
"""The bound parameter of a read as at a time: rows whose ``stored_at`` is at or before it."""

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""The earliest time a read can be as at (DateTime64's range starts in 1900; nothing MAST
stored is older): an earlier time is read as this one, and finds nothing."""

_ALIASES_AS_AT = (
    "SELECT retired_person_id, argMax(surviving_person_id, (merged_at, stored_at)) AS held "
    "FROM " + PERSON_ALIAS_VERSIONS + " WHERE stored_at <= " + AS_AT + " "
)
"""Each id's alias version in force at a time: the latest by ``merged_at`` (as FINAL keeps)
among those stored by then, the later stored first among equals. Read from the append-only
``person_alias_versions`` (migration 0025), which keeps every version: ``person_aliases``
keeps only each id's latest once its parts merge, so after a merge and then its split the
merge's version would be gone from it."""


def to_the_millisecond(at: datetime) -> datetime:
    """A time as the tables keep it (DateTime64(3)): cut, never rounded, to the millisecond."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


class Reader:
    def __init__(self, client: Client, lock: threading.Lock | None = None) -> None:
        self.client = client
        self.lock = lock or threading.Lock()

    def rows(self, sql: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Values are always bound server-side ({name:Type}), never formatted into the SQL."""
        with self.lock:
            return in_utc(self.client.query(sql, parameters=parameters).result_rows)

    def data_time(self) -> datetime:
        """The time a page read now stands at: a millisecond before now, taken under the
        lock the sink stamps and inserts under (``SinkWriter._insert``). Every row stamped at
        or before it is therefore in, and every row inserted from now on is stamped after
        it, so a page read with ``as_at`` this time shows the same now and at any later
        time (until retention or a retraction deletes a row)."""
        with self.lock:
            now = datetime.now(UTC)
        return to_the_millisecond(now) - timedelta(milliseconds=1)

    def current_persons(
        self, person_ids: Sequence[str], as_at: datetime | None = None
    ) -> dict[str, str]:
        """Each retired id among these with the id it now belongs to (or belonged to at
        ``as_at``)."""
        if as_at is not None:
            rows = self.rows(
                _ALIASES_AS_AT
                + "AND retired_person_id IN {ids:Array(String)} GROUP BY retired_person_id",
                {"ids": list(person_ids), "as_at": as_at},
            )
        else:
            rows = self.rows(
                "SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL "
                "WHERE retired_person_id IN {ids:Array(String)}",
                {"ids": list(person_ids)},
            )
        return {str(row[0]): str(row[1]) for row in rows}

    def current_person(self, person_id: str, as_at: datetime | None = None) -> str:
        return self.current_persons([person_id], as_at).get(person_id, person_id)

    def owners(self, current: Sequence[str], as_at: datetime | None = None) -> dict[str, str]:
        """Every id that belongs to these current people (their own and those retired into
        them), each with the current id it belongs to; with ``as_at``, those that belonged
        to them at that time (of the ids ever pointed at them by then, those whose version
        in force then still did)."""
        if as_at is not None:
            rows = self.rows(
                "SELECT retired_person_id, held FROM ("  # noqa: S608 - constant names, bound values
                + _ALIASES_AS_AT
                + "AND retired_person_id IN (SELECT retired_person_id FROM "
                + PERSON_ALIAS_VERSIONS
                + " WHERE surviving_person_id IN {ids:Array(String)} AND stored_at <= "
                + AS_AT
                + ") GROUP BY retired_person_id) WHERE held IN {ids:Array(String)}",
                {"ids": list(current), "as_at": as_at},
            )
        else:
            rows = self.rows(
                "SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL "
                "WHERE surviving_person_id IN {ids:Array(String)}",
                {"ids": list(current)},
            )
        return {person: person for person in current} | {str(r[0]): str(r[1]) for r in rows}
