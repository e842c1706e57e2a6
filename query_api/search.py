"""Search by person and by address, with the resolver's own normalisation.

By person: what a practitioner typed becomes a profile, exactly as a partner's record would;
its blocking keys find candidate records in ``person_keys`` (which holds the details scored,
so the wide interaction table is not read); each candidate is scored with the resolver's
Fellegi–Sunter weights, with the parameter set the pipeline has learnt (the newest in
``linkage_parameters``, ``LearntParameters``); records are grouped by the person they belong
to now (merges applied) and ranked by the best weight, shown as a match confidence. "Known
to" and the count of records are of the records the query reached.

By address: the query is normalised as the address resolver normalises what partners send,
its keys (``mast_core.linkage.address_search``) find written forms in ``address_keys``, and
each address is ranked by how well its best written form fits.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any, NamedTuple

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
from sinks.clickhouse.tables import (
    ADDRESS_KEYS,
    LINKAGE_PARAMETERS,
    PERSON_KEYS,
    select_list,
)

log = logging.getLogger(__name__)

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
    """The shipped parameters, read once per process: what search scores with until the
    pipeline has published a set."""
    return Parameters.default()


class LearntParameters:
    """The parameter set person search scores with: the newest the pipeline has published
    (``linkage_parameters``, by ``published_at``), read again at most every ``refresh_s``
    (``MAST_SEARCH_PARAMETERS_REFRESH_S``); the shipped parameters while the table is empty
    or when the newest set cannot be read. One per API process, shared by its requests."""

    def __init__(
        self,
        client: Client,
        lock: threading.Lock | None = None,
        refresh_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.lock = lock or threading.Lock()
        self.refresh_s = refresh_s
        self._clock = clock
        self._guard = threading.Lock()
        self._parameters: Parameters | None = None
        self._read_at = 0.0
        self._refused: set[str] = set()
        """Versions whose body could not be read, warned about once each."""

    def current(self) -> Parameters:
        with self._guard:
            now = self._clock()
            if self._parameters is None or now - self._read_at >= self.refresh_s:
                self._parameters = self._newest()
                self._read_at = now
            return self._parameters

    def _newest(self) -> Parameters:
        with self.lock:
            rows = self.client.query(
                "SELECT " + select_list(_PARAMETER_SET) + " FROM " + LINKAGE_PARAMETERS + " "  # noqa: S608 - constant names
                "ORDER BY published_at DESC, version DESC LIMIT 1"
            ).result_rows
        if not rows:
            return _default_parameters()
        newest = _ParameterSet._make(rows[0])
        try:
            return Parameters.from_dict(json.loads(newest.body))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            if newest.version not in self._refused:
                self._refused.add(newest.version)
                log.warning(
                    "linkage parameter set %s could not be read (%s): person search scores "
                    "with the shipped parameters",
                    newest.version,
                    type(exc).__name__,
                )
            return _default_parameters()


class _ParameterSet(NamedTuple):
    """What search reads of a ``linkage_parameters`` row (``ParameterSetRow``), by name."""

    version: str
    body: str


_PARAMETER_SET = _ParameterSet._fields


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


class Candidate(NamedTuple):
    """A record a person search reached: the columns of ``person_keys`` it reads, by name."""

    event_id: str
    person_id: str
    agency: str
    source_system: str | None
    source_record_id: str | None
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    gender: str
    address_line1: str | None
    town: str | None
    postcode: str | None
    nhs_number: str | None
    event_time: datetime


SCORED = (
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "address_line1",
    "town",
    "postcode",
    "nhs_number",
)
"""What is compared with a query: not the agency or the partner's reference."""
_scored = attrgetter(*SCORED)


class PersonSearch(Reader):
    def __init__(
        self,
        client: Client,
        lock: threading.Lock | None = None,
        parameters: Parameters | LearntParameters | None = None,
    ) -> None:
        """``parameters``: a fixed set, or where to find the newest learnt set (an API
        process shares one ``LearntParameters``); None reads the newest now."""
        super().__init__(client, lock)
        if not isinstance(parameters, Parameters):
            parameters = (parameters or LearntParameters(client, self.lock)).current()
        self.parameters = parameters
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
        records = [
            Candidate._make(row)
            for row in self.rows(
                "SELECT " + select_list(Candidate._fields) + " FROM " + PERSON_KEYS + " "  # noqa: S608 - constant names, bound values
                "WHERE key IN {keys:Array(String)} "
                "OR ({prefix:String} != '' AND startsWith(key, {prefix:String})) "
                "ORDER BY event_time DESC LIMIT {limit:UInt32}",
                {"keys": keys, "prefix": prefix, "limit": RECORD_LIMIT},
            )
        ]
        if not records:
            return []
        current = self.current_persons(sorted({record.person_id for record in records}))
        seen: set[tuple[str, str]] = set()
        scored: dict[tuple[Any, ...], float] = {}
        best: dict[str, PersonMatch] = {}
        for record in records:  # newest first: a person is shown as most recently recorded
            if (record.agency, record.event_id) in seen:  # one record under several keys
                continue
            seen.add((record.agency, record.event_id))
            details = _scored(record)
            weight = scored.get(details)
            if weight is None:  # a person's records mostly repeat the same details
                profile = build_profile(_record(record), None, normalise_postcode(record.postcode))
                weight = scored[details] = self.scorer.score(wanted, profile).weight
            person = current.get(record.person_id, record.person_id)
            match = best.get(person)
            if match is None:
                match = best[person] = PersonMatch(
                    person_id=person,
                    confidence=0.0,
                    match_weight=weight,
                    given_name=record.given_name,
                    family_name=record.family_name,
                    date_of_birth=record.date_of_birth,
                    postcode=record.postcode,
                    town=record.town,
                )
            elif weight > match.match_weight:
                match.match_weight = weight
            if record.agency not in match.agencies:
                match.agencies.append(record.agency)
            match.records += 1
            match.event_ids.append(record.event_id)
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


def _record(record: Candidate) -> InteractionEvent:
    return trusted_event(
        {
            "event_id": record.event_id,
            "agency": record.agency,
            "source_system": record.source_system,
            "source_record_id": record.source_record_id,
            "subject": {
                "given_name": record.given_name,
                "family_name": record.family_name,
                "date_of_birth": record.date_of_birth,
                "gender": record.gender,
                "address": {
                    "line1": record.address_line1,
                    "town": record.town,
                    "postcode": record.postcode,
                },
                "nhs_number": record.nhs_number,
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


class WrittenAddress(NamedTuple):
    """One written form of an address, as an address search reads ``address_keys``."""

    address_id: str
    line1: str
    line2: str
    town: str
    postcode: str


class Resident(NamedTuple):
    """A person at an address as ``address_interactions`` sums them up: their latest name and
    date of birth there, and their number of events."""

    address_id: str
    person_id: str
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    events: int


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
        forms = [
            WrittenAddress._make(row)
            for row in self.rows(
                "SELECT " + select_list(WrittenAddress._fields) + " FROM " + ADDRESS_KEYS + " "  # noqa: S608 - constant names, bound values
                "FINAL WHERE key IN {keys:Array(String)} LIMIT {limit:UInt32}",
                {"keys": keys, "limit": CANDIDATE_LIMIT},
            )
        ]
        best: dict[str, AddressMatch] = {}
        for form in forms:
            stored = normalise_address(
                form.line1 or None, form.line2 or None, form.town or None, form.postcode or None
            )
            if stored is None:
                continue
            score = address_similarity(wanted, stored)
            match = best.get(form.address_id)
            if score < ADDRESS_THRESHOLD:
                continue
            if (
                match is None
                or score > match.confidence
                or (
                    score == match.confidence
                    and _tidiness(form.line1, form.postcode)
                    > _tidiness(match.line1, match.postcode)
                )
            ):
                best[form.address_id] = AddressMatch(
                    address_id=form.address_id,
                    confidence=score,
                    line1=form.line1,
                    line2=form.line2,
                    town=form.town,
                    postcode=form.postcode,
                )
        ranked = sorted(best.values(), key=lambda m: (-m.confidence, m.postcode, m.line1))[:limit]
        self._add_people(ranked)
        return ranked

    def _add_people(self, matches: list[AddressMatch]) -> None:
        if not matches:
            return
        ids = [m.address_id for m in matches]
        residents = [
            Resident._make(row)
            for row in self.rows(
                "SELECT address_id, person_id, argMax(given_name, event_time), "
                "argMax(family_name, event_time), argMax(date_of_birth, event_time), "
                "uniqExact(agency, event_id) FROM address_interactions "
                "WHERE address_id IN {ids:Array(String)} GROUP BY address_id, person_id",
                {"ids": ids},
            )
        ]
        current = self.current_persons(sorted({r.person_id for r in residents}))
        by_id = {m.address_id: m for m in matches}
        for resident in residents:
            match = by_id[resident.address_id]
            match.events += int(resident.events)
            person = current.get(resident.person_id, resident.person_id)
            entry = next((p for p in match.people if p["person_id"] == person), None)
            if entry is None:
                entry = {
                    "person_id": person,
                    "given_name": resident.given_name,
                    "family_name": resident.family_name,
                    "date_of_birth": resident.date_of_birth,
                    "events": 0,
                }
                match.people.append(entry)
            entry["events"] += int(resident.events)
        for match in matches:
            match.people.sort(key=lambda p: -p["events"])
