"""Search by person with the resolver's own normalisation, blocking and scoring.

What a practitioner typed becomes a profile, exactly as a partner's record would; its
blocking keys find candidate records in ``person_keys``; each candidate is scored with the
resolver's Fellegi–Sunter weights; records are grouped by the person they belong to now
(merges applied) and ranked by the best weight, shown as a match confidence.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clickhouse_connect.driver.client import Client

from mast_core.events import InteractionEvent, parse_event, trusted_event
from mast_core.linkage.blocking import blocking_keys, name_only_key
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.profile import Profile, build_profile
from mast_core.linkage.scoring import Scorer
from mast_core.normalise.postcodes import normalise_postcode

CANDIDATE_LIMIT = 2000


@dataclass(frozen=True)
class PersonQuery:
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: str | None = None
    postcode: str | None = None


@dataclass
class PersonMatch:
    person_id: str
    confidence: float
    match_weight: float
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    postcode: str | None
    town: str | None
    agencies: list[str] = field(default_factory=list)
    records: int = 0
    event_ids: list[str] = field(default_factory=list)


def confidence(weight: float) -> float:
    """The posterior probability of a match from a Fellegi–Sunter weight (log2 odds)."""
    if weight > 60:
        return 1.0
    odds = 2.0**weight
    return round(odds / (1.0 + odds), 4)


class PersonSearch:
    def __init__(
        self,
        client: Client,
        lock: threading.Lock | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        self.client = client
        self.lock = lock or threading.Lock()
        self.parameters = parameters or Parameters.default()
        self.scorer = Scorer(self.parameters)

    def profile(self, query: PersonQuery) -> Profile:
        """Raises InvalidEvent (naming the field) for input that could not be a person."""
        event = parse_event(
            {
                "event_id": "search",
                "agency": "OTHER",
                "subject": {
                    "given_name": query.given_name,
                    "family_name": query.family_name,
                    "date_of_birth": query.date_of_birth,
                    "address": {"postcode": query.postcode} if query.postcode else None,
                },
            }
        )
        return build_profile(event, None, normalise_postcode(query.postcode))

    def search(self, query: PersonQuery, limit: int = 20) -> list[PersonMatch]:
        wanted = self.profile(query)
        keys = [*blocking_keys(wanted)]
        name_key = name_only_key(wanted)
        if name_key:
            keys.append(name_key)
        if not keys:
            return []
        candidates = self._query(
            "SELECT DISTINCT person_id, event_id FROM person_keys "
            "WHERE key IN {keys:Array(String)} LIMIT {limit:UInt32}",
            {"keys": keys, "limit": CANDIDATE_LIMIT},
        )
        if not candidates:
            return []
        persons = sorted({row[0] for row in candidates})
        events = sorted({row[1] for row in candidates})
        records = self._query(
            "SELECT event_id, person_id, agency, source_system, source_record_id, "
            "given_name, family_name, date_of_birth, gender, address_line1, town, postcode, "
            "nhs_number, event_time "
            "FROM resolved_interactions FINAL "
            "WHERE person_id IN {persons:Array(String)} AND event_id IN {events:Array(String)}",
            {"persons": persons, "events": events},
        )
        current = self.current_persons(persons)
        best: dict[str, PersonMatch] = {}
        for row in records:
            record = _record(row)
            record_profile = build_profile(record, None, normalise_postcode(row[11]))
            weight = self.scorer.score(wanted, record_profile).weight
            person = current.get(row[1], row[1])
            match = best.get(person)
            if match is None or weight > match.match_weight:
                previous = match
                match = PersonMatch(
                    person_id=person,
                    confidence=confidence(weight),
                    match_weight=round(weight, 2),
                    given_name=row[5],
                    family_name=row[6],
                    date_of_birth=row[7],
                    postcode=row[11],
                    town=row[10],
                )
                if previous is not None:
                    match.agencies, match.records = previous.agencies, previous.records
                    match.event_ids = previous.event_ids
                best[person] = match
            if row[2] not in match.agencies:
                match.agencies.append(row[2])
            match.records += 1
            match.event_ids.append(row[0])
        threshold = self.parameters.review_threshold
        ranked = sorted(
            (m for m in best.values() if m.match_weight >= threshold),
            key=lambda m: -m.match_weight,
        )
        return ranked[:limit]

    def current_persons(self, person_ids: Sequence[str]) -> dict[str, str]:
        """Each retired id among these with the id it now belongs to."""
        rows = self._query(
            "SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL "
            "WHERE retired_person_id IN {ids:Array(String)}",
            {"ids": list(person_ids)},
        )
        return {row[0]: row[1] for row in rows}

    def _query(self, sql: str, parameters: dict[str, Any]) -> list[Sequence[Any]]:
        with self.lock:
            return list(self.client.query(sql, parameters=parameters).result_rows)


def _record(row: Sequence[Any]) -> InteractionEvent:
    return trusted_event(
        {
            "event_id": row[0],
            "agency": row[2],
            "source_system": row[3],
            "source_record_id": row[4],
            "subject": {
                "given_name": row[5],
                "family_name": row[6],
                "date_of_birth": row[7],
                "gender": row[8],
                "address": {"line1": row[9], "town": row[10], "postcode": row[11]},
                "nhs_number": row[12],
            },
        }
    )
