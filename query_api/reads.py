"""What every read of the pipeline's tables shares: one client taken in turns (chDB is one
engine per process, shared with the sink), and merges followed from any person id to the
person it belongs to now and back to every id retired into it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client


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


class Reader:
    def __init__(self, client: Client, lock: threading.Lock | None = None) -> None:
        self.client = client
        self.lock = lock or threading.Lock()

    def rows(self, sql: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Values are always bound server-side ({name:Type}), never formatted into the SQL."""
        with self.lock:
            return in_utc(self.client.query(sql, parameters=parameters).result_rows)

    def current_persons(self, person_ids: Sequence[str]) -> dict[str, str]:
        """Each retired id among these with the id it now belongs to."""
        rows = self.rows(
            "SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL "
            "WHERE retired_person_id IN {ids:Array(String)}",
            {"ids": list(person_ids)},
        )
        return {str(row[0]): str(row[1]) for row in rows}

    def current_person(self, person_id: str) -> str:
        return self.current_persons([person_id]).get(person_id, person_id)

    def owners(self, current: Sequence[str]) -> dict[str, str]:
        """Every id that belongs to these current people (their own and those retired into
        them), each with the current id it belongs to."""
        rows = self.rows(
            "SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL "
            "WHERE surviving_person_id IN {ids:Array(String)}",
            {"ids": list(current)},
        )
        return {person: person for person in current} | {str(r[0]): str(r[1]) for r in rows}
