"""A West Midlands-like region over one year: the synthetic population in households, what
each agency records about them, and three named cases that MAST exists to make visible.

Background patterns (per person per year, roughly what a safeguarding partnership shares):
hospital emergency attendances for anyone; police incidents, housing and probation contacts
for adults, and domestic abuse in a small share of households; Safe and Well visits from
the fire service for older people and the occasional dwelling fire; school attendance
concerns; children in need and looked-after children with monthly social-work contacts
(looked-after children live with foster carers and go missing now and then); older adults
with care packages reviewed monthly. Records carry each agency's own way of writing a
person, corrupted at the chosen level (typos, nicknames, dates, postcodes, addresses).

The named scenarios (producers/synthetic/scenarios.py) are mixed into the year.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from producers.synthetic.agencies import SYSTEMS, TEAMS, WORKERS
from producers.synthetic.events import SyntheticEvent, duty_desk, interaction_event, whom_to_call
from producers.synthetic.population import Address, EventGenerator, Person
from producers.synthetic.scenarios import SCENARIOS, Scenario

REGION_START = datetime(2025, 12, 1, tzinfo=UTC)
REGION_DAYS = 360
"""December 2025 to November 2026: the year before the demo's today."""


@dataclass
class _Plan:
    """Who has which standing relationship with an agency this year."""

    care_package: set[str] = field(default_factory=set)
    child_in_need: set[str] = field(default_factory=set)
    looked_after: dict[str, Address] = field(default_factory=dict)
    probation: set[str] = field(default_factory=set)
    abusive_households: set[int] = field(default_factory=set)
    social_tenants: set[int] = field(default_factory=set)


class RegionGenerator:
    """The background population's year of events, with the named scenarios mixed in."""

    def __init__(self, people: int = 40_000, seed: int = 1, corruption: str = "low") -> None:
        self.people = people
        self.rng = random.Random(seed * 104_729 + 3)
        self.writer = EventGenerator(corruption=corruption, seed=seed)
        self._number = 0

    def scenarios(self) -> list[Scenario]:
        return [make() for make in SCENARIOS.values()]

    def generate(self) -> list[SyntheticEvent]:
        """Every event of the year, in the order they happened."""
        population = self.writer.population.population(self.people)
        plan = self._plan(population)
        events = [e for person in population for e in self._person_year(person, plan)]
        for scenario in self.scenarios():
            events.extend(scenario.events)
        events.sort(key=lambda e: (e.event["occurred_at"], e.event["event_id"]))
        return events

    # Who is known to whom -----------------------------------------------------------------
    def _plan(self, population: list[Person]) -> _Plan:
        plan = _Plan()
        carers = [p for p in population if 35 <= _age(p) <= 65]
        by_household: dict[int, list[Person]] = {}
        for person in population:
            by_household.setdefault(person.household, []).append(person)
        for person in population:
            age = _age(person)
            if (age >= 65 and self.rng.random() < 0.12) or (
                18 <= age < 65 and self.rng.random() < 0.01
            ):
                plan.care_package.add(person.person_id)
            if age < 18:
                chance = self.rng.random()
                if chance < 0.035:
                    plan.child_in_need.add(person.person_id)
                elif chance < 0.042 and carers:
                    plan.looked_after[person.person_id] = self.rng.choice(carers).homes[-1][1]
            if 18 <= age < 60 and self.rng.random() < 0.01:
                plan.probation.add(person.person_id)
        for number, members in by_household.items():
            adults = [p for p in members if _age(p) >= 18]
            if len(adults) >= 2 and self.rng.random() < 0.015:
                plan.abusive_households.add(number)
            if self.rng.random() < 0.25:
                plan.social_tenants.add(number)
        return plan

    # A person's year ----------------------------------------------------------------------
    def _person_year(self, person: Person, plan: _Plan) -> Iterator[SyntheticEvent]:
        age = _age(person)
        pid = person.person_id
        yield from self._random("HEALTH", "ED_ATTENDANCE", person, 0.25)
        if age >= 50:
            yield from self._spaced("HEALTH", "OUTPATIENT_APPOINTMENT", person, 2)
        if age < 5:
            yield from self._spaced("HEALTH", "HEALTH_VISITOR_CONTACT", person, 4)
        if age >= 18:
            yield from self._random("POLICE", "INCIDENT", person, 0.06)
            if person.household in plan.social_tenants:
                yield from self._spaced("HOUSING", "TENANCY_VISIT", person, 1)
                yield from self._random("HOUSING", "TENANCY_CONCERN", person, 0.1)
        if age >= 65:
            yield from self._random("FIRE", "SAFE_AND_WELL_VISIT", person, 0.15)
        if 5 <= age < 18:
            yield from self._spaced("EDUCATION", "ATTENDANCE_RETURN", person, 3)
            yield from self._random("EDUCATION", "ABSENCE_CONCERN", person, 0.05)
        if person.household in plan.abusive_households and age >= 18:
            yield from self._random("POLICE", "DOMESTIC_ABUSE_INCIDENT", person, 1.2, night=True)
        if self.rng.random() < 0.004:
            yield from self._at_days("FIRE", "FIRE_ATTENDANCE", person, [self._day()])
        if pid in plan.care_package:
            yield from self._case(person, "ADULT_SOCIAL_CARE", "REVIEW", "ASC")
        if pid in plan.child_in_need:
            yield from self._case(person, "CHILDREN_SOCIAL_CARE", "HOME_VISIT", "CIN")
        if pid in plan.looked_after:
            foster = plan.looked_after[pid]
            placed = self._day(limit=200)
            person.homes.append((REGION_START + timedelta(days=placed), foster))
            yield from self._case(person, "CHILDREN_SOCIAL_CARE", "STATUTORY_VISIT", "LAC", placed)
            yield from self._random("POLICE", "MISSING_EPISODE", person, 0.6, after=placed)
        if pid in plan.probation:
            start = self._day(limit=300)
            days = list(range(start, REGION_DAYS, 30))
            yield from self._at_days("PROBATION", "SUPERVISION_CONTACT", person, days)

    def _case(
        self, person: Person, agency: str, contact_type: str, prefix: str, opened: int | None = None
    ) -> Iterator[SyntheticEvent]:
        """A case opened this year (or earlier, then only its monthly contacts), sometimes
        closed before the year ends, with one allocated worker."""
        reference = f"{prefix}-{self.rng.randrange(10**6):06d}"
        worker = (self.rng.choice(WORKERS), self.rng.choice(TEAMS[agency]), _phone(self.rng))
        if opened is None:
            opened = self._day() if self.rng.random() < 0.4 else -self.rng.randrange(30, 400)
        closes = REGION_DAYS + 1
        if self.rng.random() < 0.3:
            closes = max(opened, 0) + self.rng.randrange(60, 240)
        if opened >= 0:
            yield self._event(person, agency, "CASE_OPENED", opened, reference, "OPEN", worker)
        day = opened + 28 + self.rng.randrange(5)
        while day < min(closes, REGION_DAYS):
            if day >= 0:
                yield self._event(person, agency, contact_type, day, reference, "OPEN", worker)
            day += 28 + self.rng.randrange(5)
        if closes < REGION_DAYS:
            yield self._event(person, agency, "CASE_CLOSED", closes, reference, "CLOSED", worker)

    def _random(
        self,
        agency: str,
        event_type: str,
        person: Person,
        per_year: float,
        *,
        night: bool = False,
        after: int = 0,
    ) -> Iterator[SyntheticEvent]:
        count = _poisson(self.rng, per_year * (REGION_DAYS - after) / REGION_DAYS)
        days = sorted(self._day(start=after) for _ in range(count))
        yield from self._at_days(agency, event_type, person, days, night=night)

    def _spaced(
        self, agency: str, event_type: str, person: Person, per_year: int
    ) -> Iterator[SyntheticEvent]:
        """Regular contacts (a term's attendance return, a clinic appointment): evenly
        spread, so that they never look like a rise."""
        gap = REGION_DAYS // per_year
        offset = self.rng.randrange(gap)
        days = [offset + i * gap + self.rng.randrange(-5, 6) for i in range(per_year)]
        yield from self._at_days(agency, event_type, person, [max(0, d) for d in days])

    def _at_days(
        self, agency: str, event_type: str, person: Person, days: list[int], night: bool = False
    ) -> Iterator[SyntheticEvent]:
        worker = (duty_desk(agency), TEAMS[agency][0], "")
        for day in days:
            yield self._event(person, agency, event_type, day, None, None, worker, night=night)

    def _event(
        self,
        person: Person,
        agency: str,
        event_type: str,
        day: int,
        reference: str | None,
        status: str | None,
        contact: tuple[str, str, str],
        night: bool = False,
    ) -> SyntheticEvent:
        self._number += 1
        hour = self.rng.choice((21, 22, 23, 0, 1)) if night else self.rng.randrange(8, 20)
        when = REGION_START + timedelta(days=day, hours=hour, minutes=self.rng.randrange(60))
        home = person.address_at(when)
        reference = reference or person.reference_at(agency, self.rng)
        event = interaction_event(
            f"reg-{agency[:3].lower()}-{self._number:08d}",
            agency,
            SYSTEMS[agency],
            event_type,
            when,
            self.writer.subject(person, home, agency),
            record=reference,
            case_status=status,
            contact=whom_to_call(*contact),
        )
        return SyntheticEvent(event, person.person_id, home.address_id)

    def _day(self, start: int = 0, limit: int = REGION_DAYS) -> int:
        return self.rng.randrange(start, max(start + 1, limit))


def _age(person: Person, on: date = date(2026, 6, 1)) -> int:
    return (on - person.dob).days // 365


def _phone(rng: random.Random) -> str:
    return f"0121 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the means here are small."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
