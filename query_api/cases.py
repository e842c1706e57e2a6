"""Open cases: when each organisation held one for a person.

A case is a partner's record reference (agency and ``source_record_id``). It is open from
the earliest OPEN record after its last CLOSED one (or its first record) until the next
CLOSED record, by event time, across every id merged into the person: ``spans`` is that
rule, and ``query_api.records`` (a person page's open cases) and the readers here (the
unusual-access review, notifications to the lead agency) all go through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from query_api.reads import Reader
from sinks.clickhouse.tables import RESOLVED_INTERACTIONS

OPEN, CLOSED = "OPEN", "CLOSED"


@dataclass(frozen=True)
class Span:
    """One case open from ``opened`` until ``closed`` (None: open now)."""

    agency: str
    reference: str
    opened: datetime
    closed: datetime | None

    def open_at(self, at: datetime) -> bool:
        return self.opened <= at and (self.closed is None or at < self.closed)


def spans(statuses: Iterable[tuple[str, str, datetime, str]]) -> list[Span]:
    """The spans of each case from its records' ``(agency, reference, event time, status)``
    (OPEN or CLOSED; in any order). Records at the same time are read OPEN before CLOSED, so
    a case opened and closed at once is closed."""
    by_case: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
    for agency, reference, at, status in statuses:
        by_case.setdefault((agency, reference), []).append((at, status))
    found = []
    for (agency, reference), history in by_case.items():
        opened: datetime | None = None
        for at, status in sorted(history, key=lambda h: (h[0], h[1] != OPEN)):
            if status == OPEN and opened is None:
                opened = at
            elif status == CLOSED and opened is not None:
                found.append(Span(agency, reference, opened, at))
                opened = None
        if opened is not None:
            found.append(Span(agency, reference, opened, None))
    return sorted(found, key=lambda s: (s.opened, s.agency, s.reference))


_STATUSES = (
    "SELECT DISTINCT person_id, agency, source_record_id, event_time, case_status FROM "  # noqa: S608 - constant names
    + RESOLVED_INTERACTIONS
    + " WHERE person_id IN {ids:Array(String)} AND case_status IS NOT NULL"
)


def case_spans(reader: Reader, person_ids: Sequence[str]) -> dict[str, list[Span]]:
    """Each of these people's case spans (all ids merged into them read), by the id given."""
    if not person_ids:
        return {}
    current = reader.current_persons(sorted(set(person_ids)))
    people = sorted({current.get(p, p) for p in person_ids})
    owners = reader.owners(people)
    history: dict[str, list[tuple[str, str, datetime, str]]] = {}
    for person, agency, reference, at, status in reader.rows(_STATUSES, {"ids": sorted(owners)}):
        history.setdefault(owners[str(person)], []).append(
            (str(agency), str(reference or ""), at, str(status))
        )
    by_person = {person: spans(rows) for person, rows in history.items()}
    return {p: by_person.get(current.get(p, p), []) for p in person_ids}
