"""Search by person and by address, with the resolver's own normalisation.

By person: what a practitioner typed becomes a profile, exactly as a partner's record would;
its blocking keys find candidate records in ``person_keys`` (which holds the details scored,
so the wide interaction table is not read); each candidate is scored with the resolver's
Fellegi–Sunter weights; records are grouped by the person they belong to now (merges
applied) and ranked by the best weight, shown as a match confidence. "Known to" and the
count of records are of the records the query reached.

By address: the query is normalised as the address resolver normalises what partners send,
its keys (``mast_core.linkage.address_search``) find written forms in ``address_keys``, and
each address is ranked by how well its best written form fits.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from clickhouse_connect.driver.client import Client

from mast_core.events import InteractionEvent, trusted_event
from mast_core.linkage.address_search import address_search_keys, address_similarity
from mast_core.linkage.blocking import lookup_keys, surname_year_prefix
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.profile import Profile, build_profile, query_profile
from mast_core.linkage.scoring import Scorer
from mast_core.normalise.addresses import NormalisedAddress, normalise_address
from mast_core.normalise.postcodes import normalise_postcode
from query_api.reads import Reader

CANDIDATE_LIMIT = 2000
"""Written addresses an address search's keys may reach."""
RECORD_LIMIT = 20_000
"""Records a person search's keys may reach (the newest); a common name without a date of
birth reaches many, and the best are ranked from these."""
SEARCH_MIN_WEIGHT = 0.0
"""A person is offered when, on what was typed, they are more likely than not the one meant
(posterior odds of at least 1:1). Lower than the resolver's review threshold on purpose: a
family name and a postcode may fit several of a household, and each is shown with its
confidence rather than hidden."""
ADDRESS_THRESHOLD = 0.75
"""An address fits a query when the parts given score at least this (0 to 1): the house
next door (same street and postcode, another number) scores 0.7 and is not offered; the
right house with a postcode typo in the last letters scores 0.8 and is."""


@cache
def _default_parameters() -> Parameters:
    """Read once per process: every search scores with them."""
    return Parameters.default()


class NarrowQuery(ValueError):
    """The query names too little to find anyone by (a family name alone)."""


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


class PersonSearch(Reader):
    def __init__(
        self,
        client: Client,
        lock: threading.Lock | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        super().__init__(client, lock)
        self.parameters = parameters or _default_parameters()
        self.scorer = Scorer(self.parameters)

    def profile(self, query: PersonQuery) -> Profile:
        """Raises InvalidEvent (naming the field) for input that could not be a person."""
        return query_profile(
            query.given_name, query.family_name, query.date_of_birth, query.postcode
        )

    def search(self, query: PersonQuery, limit: int = 20) -> list[PersonMatch]:
        wanted = self.profile(query)
        narrow, wide = lookup_keys(wanted)
        keys = [*narrow, *wide]
        prefix = surname_year_prefix(wanted) or ""
        if not keys and not prefix:
            raise NarrowQuery(
                "give a date of birth or a postcode with the family name, or both names"
            )
        records = self.rows(
            "SELECT event_id, person_id, agency, source_system, source_record_id, "
            "given_name, family_name, date_of_birth, gender, address_line1, town, postcode, "
            "nhs_number, event_time FROM person_keys WHERE key IN {keys:Array(String)} "
            "OR ({prefix:String} != '' AND startsWith(key, {prefix:String})) "
            "ORDER BY event_time DESC LIMIT {limit:UInt32}",
            {"keys": keys, "prefix": prefix, "limit": RECORD_LIMIT},
        )
        if not records:
            return []
        current = self.current_persons(sorted({str(row[1]) for row in records}))
        seen: set[tuple[str, str]] = set()
        scored: dict[tuple[Any, ...], float] = {}
        best: dict[str, PersonMatch] = {}
        for row in records:  # newest first: a person is shown as most recently recorded
            if (row[2], row[0]) in seen:  # one record under several of the query's keys
                continue
            seen.add((row[2], row[0]))
            fields = tuple(row[5:13])  # what is compared with a query: not agency or reference
            weight = scored.get(fields)
            if weight is None:  # a person's records mostly repeat the same details
                profile = build_profile(_record(row), None, normalise_postcode(row[11]))
                weight = scored[fields] = self.scorer.score(wanted, profile).weight
            person = current.get(row[1], row[1])
            match = best.get(person)
            if match is None:
                match = best[person] = PersonMatch(
                    person, 0.0, weight, row[5], row[6], row[7], row[11], row[10]
                )
            elif weight > match.match_weight:
                match.match_weight = weight
            if row[2] not in match.agencies:
                match.agencies.append(row[2])
            match.records += 1
            match.event_ids.append(row[0])
        ranked = sorted(
            (m for m in best.values() if m.match_weight >= SEARCH_MIN_WEIGHT),
            key=lambda m: -m.match_weight,
        )[:limit]
        for match in ranked:
            match.confidence = confidence(match.match_weight)
            match.match_weight = round(match.match_weight, 2)
            match.agencies.sort()
        return ranked


def _tidiness(line1: str, postcode: str) -> int:
    """Of the ways one address was written, show the tidiest: a well-formed postcode, and
    not in capitals."""
    parsed = normalise_postcode(postcode) if postcode else None
    return (parsed is not None and parsed.text == postcode) + (not line1.isupper())


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


@dataclass(frozen=True)
class AddressQuery:
    address: str | None = None
    """Free text: "12 Oak Rd", "Flat 2, 7 Mill Lane", "Rose Cottage"."""
    town: str | None = None
    postcode: str | None = None


@dataclass
class AddressMatch:
    address_id: str
    confidence: float
    line1: str
    line2: str
    town: str
    postcode: str
    people: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0


class AddressSearch(Reader):
    """Addresses by what was typed, ranked by how well their written forms fit, each with
    the people linked to it (merges applied) and its number of events."""

    @staticmethod
    def normalise(query: AddressQuery) -> NormalisedAddress | None:
        return normalise_address(query.address or None, None, query.town or None, query.postcode)

    def search(self, query: AddressQuery, limit: int = 20) -> list[AddressMatch]:
        wanted = self.normalise(query)
        keys = address_search_keys(wanted) if wanted is not None else []
        if wanted is None or not keys:
            return []
        rows = self.rows(
            "SELECT address_id, line1, line2, town, postcode FROM address_keys FINAL "
            "WHERE key IN {keys:Array(String)} LIMIT {limit:UInt32}",
            {"keys": keys, "limit": CANDIDATE_LIMIT},
        )
        best: dict[str, AddressMatch] = {}
        for address_id, line1, line2, town, postcode in rows:
            stored = normalise_address(line1 or None, line2 or None, town or None, postcode or None)
            if stored is None:
                continue
            score = address_similarity(wanted, stored)
            match = best.get(address_id)
            if score < ADDRESS_THRESHOLD:
                continue
            if (
                match is None
                or score > match.confidence
                or (
                    score == match.confidence
                    and _tidiness(line1, postcode) > _tidiness(match.line1, match.postcode)
                )
            ):
                best[address_id] = AddressMatch(address_id, score, line1, line2, town, postcode)
        ranked = sorted(best.values(), key=lambda m: (-m.confidence, m.postcode, m.line1))[:limit]
        self._add_people(ranked)
        return ranked

    def _add_people(self, matches: list[AddressMatch]) -> None:
        if not matches:
            return
        ids = [m.address_id for m in matches]
        rows = self.rows(
            "SELECT address_id, person_id, argMax(given_name, event_time), "
            "argMax(family_name, event_time), argMax(date_of_birth, event_time), "
            "uniqExact(agency, event_id) FROM address_interactions "
            "WHERE address_id IN {ids:Array(String)} GROUP BY address_id, person_id",
            {"ids": ids},
        )
        current = self.current_persons(sorted({str(row[1]) for row in rows}))
        by_id = {m.address_id: m for m in matches}
        for address_id, person_id, given, family, dob, count in rows:
            match = by_id[address_id]
            match.events += int(count)
            person = current.get(person_id, person_id)
            entry = next((p for p in match.people if p["person_id"] == person), None)
            if entry is None:
                entry = {
                    "person_id": person,
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": dob,
                    "events": 0,
                }
                match.people.append(entry)
            entry["events"] += int(count)
        for match in matches:
            match.people.sort(key=lambda p: -p["events"])
