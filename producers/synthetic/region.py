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

The named scenarios (``SCENARIOS``) are the partnership's motivating cases (docs/partners.md,
"The synthetic region"), written as partners would record them in the JSON form of
docs/event-contract.md, with the links and alerts they must produce: tests check them end to
end and ``mast demo`` tells a practitioner where to look.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from producers.synthetic.population import Address, EventGenerator, Person

REGION_START = datetime(2025, 12, 1, tzinfo=UTC)
REGION_DAYS = 360
"""December 2025 to November 2026: the year before the demo's today."""

SYSTEMS = {
    "POLICE": "Niche RMS",
    "FIRE": "IRS",
    "HEALTH": "ED Symphony",
    "CHILDREN_SOCIAL_CARE": "Liquidlogic LCS",
    "ADULT_SOCIAL_CARE": "Mosaic",
    "EDUCATION": "SIMS",
    "HOUSING": "Orchard",
    "PROBATION": "nDelius",
}

_TEAMS = {
    "POLICE": ("Response", "Public Protection Unit", "Neighbourhood Team"),
    "FIRE": ("Blue Watch", "Red Watch", "Prevention Team"),
    "HEALTH": ("ED Safeguarding", "Community Nursing"),
    "CHILDREN_SOCIAL_CARE": ("Children in Need North", "Looked After Children", "MASH"),
    "ADULT_SOCIAL_CARE": ("Adults North", "Adults South", "Hospital Discharge"),
    "EDUCATION": ("Education Welfare",),
    "HOUSING": ("Tenancy Sustainment",),
    "PROBATION": ("Offender Management",),
}

_WORKERS = (
    "Sam Okafor",
    "Priya Shah",
    "Tom Beckett",
    "Aisha Rahman",
    "Lucy Evans",
    "Dan Whitmore",
    "Grace Mensah",
    "Owen Price",
    "Hannah Kaur",
    "Mark Doyle",
)


@dataclass(frozen=True)
class RegionEvent:
    event: dict[str, Any]
    person_id: str
    """Ground truth: the synthetic person the record is about."""
    address_id: str
    """Ground truth: the dwelling."""
    scenario: str | None = None


@dataclass(frozen=True)
class ExpectedAlert:
    rule_id: str
    subject: str
    """``address`` for the scenario's address, or the role of the person."""


@dataclass
class Scenario:
    name: str
    title: str
    story: str
    events: list[RegionEvent]
    roles: dict[str, str]
    """Role (``mother``, ``son``, …) to the ground-truth person id."""
    expected_alerts: list[ExpectedAlert]
    search: dict[str, str]
    """What a practitioner might type to find the scenario's first person."""
    address: str
    """The address as one line, for an address search."""


def _at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


class _Writer:
    """Builds events in the JSON form of docs/event-contract.md for a scenario, with stable
    references."""

    def __init__(self, scenario: str, home: Address) -> None:
        self.scenario = scenario
        self.home = home
        self.count = 0
        self.events: list[RegionEvent] = []

    def add(
        self,
        person: str,
        agency: str,
        event_type: str,
        when: datetime,
        subject: dict[str, Any],
        *,
        record: str | None = None,
        case_status: str | None = None,
        contact: tuple[str, str, str] = ("Duty desk", "", ""),
    ) -> None:
        self.count += 1
        address = subject.pop("address", None)
        if address is None:
            address = {
                "line1": f"{self.home.number} {self.home.street}",
                "town": self.home.town,
                "postcode": self.home.postcode,
            }
        name, team, phone = contact
        event = {
            "event_id": f"scn-{self.scenario}-{self.count:03d}",
            "agency": agency,
            "source_system": SYSTEMS[agency],
            "source_record_id": record,
            "event_type": event_type,
            "occurred_at": when.isoformat().replace("+00:00", "Z"),
            "subject": {**subject, "address": address},
            "case_status": case_status,
            "contact": {"name": name, "team": team or None, "phone": phone or None},
        }
        self.events.append(RegionEvent(event, person, self.home.address_id, self.scenario))


def self_neglect() -> Scenario:
    """An older woman known to adult social care who declines support; her adult son lives
    with her; in April fire, police and health contacts rise sharply."""
    home = Address("SCN-A1", None, 27, "Kelvin Road", "Walsall", "WS2 8PL")
    w = _Writer("self-neglect", home)
    mother = "SCN-P-MARGARET"
    son = "SCN-P-GRAHAM"
    asc = ("Sam Okafor", "Adults North", "01922 650310")
    margaret = {"given_name": "Margaret", "family_name": "Hollins", "gender": "F"}
    dob = {"date_of_birth": "1951-06-14"}
    w.add(
        mother,
        "ADULT_SOCIAL_CARE",
        "CASE_OPENED",
        _at("2026-01-14"),
        {**margaret, **dob},
        record="ASC-204771",
        case_status="OPEN",
        contact=asc,
    )
    w.add(
        mother,
        "ADULT_SOCIAL_CARE",
        "SUPPORT_DECLINED",
        _at("2026-02-11", 14),
        {**margaret, **dob},
        record="ASC-204771",
        case_status="OPEN",
        contact=asc,
    )
    w.add(
        son,
        "POLICE",
        "INCIDENT",
        _at("2026-02-20", 23, 10),
        {
            "given_name": "Graham",
            "family_name": "HOLLINS",
            "date_of_birth": "22/09/1977",
            "gender": "M",
        },
        record="URN-5518820",
        contact=("PC 2291 Walker", "Response", "101"),
    )
    w.add(
        mother,
        "ADULT_SOCIAL_CARE",
        "REVIEW",
        _at("2026-03-18", 11),
        {**margaret, **dob},
        record="ASC-204771",
        case_status="OPEN",
        contact=asc,
    )
    w.add(
        mother,
        "FIRE",
        "SAFE_AND_WELL_VISIT",
        _at("2026-04-03", 15),
        {
            "given_name": "Peggy",
            "family_name": "Hollins",
            "address": {"line1": "27 Kelvin Rd", "town": "WALSALL", "postcode": "ws28pl"},
        },
        contact=("WM Ruth Adeyemi", "Prevention Team", "0121 380 6000"),
    )
    w.add(
        mother,
        "POLICE",
        "WELFARE_CHECK",
        _at("2026-04-09", 19, 40),
        {
            "given_name": "Margaret",
            "family_name": "HOLLINS",
            "date_of_birth": "14/06/1951",
            "gender": "F",
        },
        record="URN-5534102",
        contact=("PC 1187 Ahmed", "Neighbourhood Team", "101"),
    )
    w.add(
        mother,
        "HEALTH",
        "ED_ATTENDANCE",
        _at("2026-04-12", 2, 15),
        {
            "given_name": "Margaret",
            "family_name": "Hollins",
            "date_of_birth": "1951-06-14",
            "gender": "F",
            "nhs_number": "9434765870",
        },
        record="RWB-118230",
        contact=("Safeguarding nurse", "ED Safeguarding", "01922 721172"),
    )
    w.add(
        mother,
        "POLICE",
        "WELFARE_CHECK",
        _at("2026-04-19", 21, 5),
        {
            "given_name": "Maggie",
            "family_name": "Hollins",
            "date_of_birth": "14/06/1951",
            "gender": "F",
        },
        record="URN-5534102",
        contact=("PC 1187 Ahmed", "Neighbourhood Team", "101"),
    )
    w.add(
        mother,
        "HEALTH",
        "ED_ATTENDANCE",
        _at("2026-04-25", 16, 30),
        {
            "given_name": "Margaret",
            "family_name": "Hollins",
            "date_of_birth": "1951-06-14",
            "gender": "F",
            "nhs_number": "9434765870",
        },
        record="RWB-118230",
        contact=("Safeguarding nurse", "ED Safeguarding", "01922 721172"),
    )
    w.add(
        mother,
        "FIRE",
        "FIRE_ATTENDANCE",
        _at("2026-04-28", 20, 50),
        {
            "given_name": "Margaret",
            "family_name": "Hollins",
            "date_of_birth": "1951-06-14",
            "address": {"line1": "27 Kelvin Road", "town": "Walsall", "postcode": "WS2 8PL"},
        },
        contact=("WM Ruth Adeyemi", "Blue Watch", "0121 380 6000"),
    )
    w.add(
        son,
        "HEALTH",
        "ED_ATTENDANCE",
        _at("2026-05-06", 13),
        {
            "given_name": "Graham",
            "family_name": "Hollins",
            "date_of_birth": "1977-09-22",
            "gender": "M",
        },
        record="RWB-301877",
        contact=("Safeguarding nurse", "ED Safeguarding", "01922 721172"),
    )
    return Scenario(
        name="self-neglect",
        title="Self-neglect: an adult who declines support, and a sharp rise in April",
        story=(
            "Margaret Hollins (born 14/06/1951) is known to adult social care and declines "
            "support. Search her address to find a second person there (her son Graham), and "
            "open her page to see fire, police and health contacts rise in April 2026."
        ),
        events=w.events,
        roles={"mother": mother, "son": son},
        expected_alerts=[
            ExpectedAlert("multi_agency_contact", "mother"),
            ExpectedAlert("rising_contacts", "mother"),
        ],
        search={"given_name": "Maggie", "family_name": "Hollins", "date_of_birth": "14/6/1951"},
        address="27 Kelvin Road, Walsall WS2 8PL",
    )


def fires_where_children_live() -> Scenario:
    """Four small fires in three weeks at a foster home where two looked-after children
    live; children's social care records the placement but not the fires."""
    home = Address("SCN-A2", None, 3, "Alder Grove", "Dudley", "DY2 7QJ")
    w = _Writer("foster-fires", home)
    carer = "SCN-P-COLIN"
    carer2 = "SCN-P-JANET"
    children = {"kayden": "SCN-P-KAYDEN", "mia": "SCN-P-MIA"}
    lac = ("Priya Shah", "Looked After Children", "01384 815000")
    for role, given, born in (("kayden", "Kayden", "2015-03-09"), ("mia", "Mia", "2017-11-30")):
        subject = {"given_name": given, "family_name": "Shaw", "date_of_birth": born}
        w.add(
            children[role],
            "CHILDREN_SOCIAL_CARE",
            "CASE_OPENED",
            _at("2026-05-06", 12),
            dict(subject),
            record=f"LAC-{born[:4]}{given[0]}",
            case_status="OPEN",
            contact=lac,
        )
        for month in ("06", "07", "08", "10"):
            w.add(
                children[role],
                "CHILDREN_SOCIAL_CARE",
                "STATUTORY_VISIT",
                _at(f"2026-{month}-12", 16),
                dict(subject),
                record=f"LAC-{born[:4]}{given[0]}",
                case_status="OPEN",
                contact=lac,
            )
    w.add(
        carer2,
        "HEALTH",
        "GP_REFERRAL",
        _at("2026-06-02", 9),
        {
            "given_name": "Janet",
            "family_name": "Pryce",
            "date_of_birth": "1968-01-25",
            "gender": "F",
            "nhs_number": "9434765889",
        },
        record="GP-44120",
    )
    fire = ("WM Dev Sharma", "Red Watch", "0121 380 6000")
    for day, line1, postcode in (
        ("2026-09-02", "3 Alder Grove", "DY2 7QJ"),
        ("2026-09-09", "3 ALDER GR", "dy27qj"),
        ("2026-09-17", "3 Alder Grove", "DY2 7QJ"),
        ("2026-09-24", "3 Alder Gv", "DY2 7QJ"),
    ):
        w.add(
            carer,
            "FIRE",
            "FIRE_ATTENDANCE",
            _at(day, 18, 30),
            {
                "given_name": "Colin",
                "family_name": "Pryce",
                "address": {"line1": line1, "town": "Dudley", "postcode": postcode},
            },
            contact=fire,
        )
    return Scenario(
        name="foster-fires",
        title="Small fires at a foster home: looked-after children live there",
        story=(
            "Four small fires at 3 Alder Grove, Dudley in September 2026. Children's social "
            "care placed Kayden and Mia Shaw there in May and knew nothing of the fires."
        ),
        events=w.events,
        roles={"carer": carer, "carer2": carer2, **children},
        expected_alerts=[ExpectedAlert("repeat_fires_where_children_live", "address")],
        search={"given_name": "Kayden", "family_name": "Shaw", "date_of_birth": "09/03/2015"},
        address="3 Alder Grove, Dudley DY2 7QJ",
    )


def domestic_abuse_children_open() -> Scenario:
    """Police called to a domestic-abuse incident at an address where two children are open
    to children's social care."""
    home = Address("SCN-A3", None, 41, "Victoria Terrace", "West Bromwich", "B70 9PN")
    w = _Writer("da-children", home)
    mother, partner = "SCN-P-LEANNE", "SCN-P-DARREN"
    kids = {"tyler": "SCN-P-TYLER", "ruby": "SCN-P-RUBY"}
    cin = ("Grace Mensah", "Children in Need North", "0121 569 3100")
    for role, given, born, gender in (
        ("tyler", "Tyler", "2018-07-21", "M"),
        ("ruby", "Ruby", "2021-02-03", "F"),
    ):
        subject = {
            "given_name": given,
            "family_name": "Corbett",
            "date_of_birth": born,
            "gender": gender,
        }
        reference = f"CIN-{born[:4]}{given[0]}"
        w.add(
            kids[role],
            "CHILDREN_SOCIAL_CARE",
            "CASE_OPENED",
            _at("2026-03-02", 11),
            dict(subject),
            record=reference,
            case_status="OPEN",
            contact=cin,
        )
        for month in ("04", "05", "06", "07", "08", "09"):
            w.add(
                kids[role],
                "CHILDREN_SOCIAL_CARE",
                "HOME_VISIT",
                _at(f"2026-{month}-08", 15),
                dict(subject),
                record=reference,
                case_status="OPEN",
                contact=cin,
            )
    w.add(
        kids["tyler"],
        "EDUCATION",
        "ABSENCE_CONCERN",
        _at("2026-06-15", 9),
        {"given_name": "Tyler", "family_name": "Corbett", "date_of_birth": "21/07/2018"},
        contact=("Education welfare officer", "Education Welfare", "0121 569 8000"),
    )
    w.add(
        mother,
        "HEALTH",
        "ED_ATTENDANCE",
        _at("2026-08-30", 1, 20),
        {
            "given_name": "Leanne",
            "family_name": "Corbett",
            "date_of_birth": "1994-12-05",
            "gender": "F",
        },
        record="SWB-772001",
    )
    police = ("DC 4410 Morgan", "Public Protection Unit", "101")
    w.add(
        mother,
        "POLICE",
        "DOMESTIC_ABUSE_INCIDENT",
        _at("2026-10-17", 23, 40),
        {
            "given_name": "Leanne",
            "family_name": "CORBETT",
            "date_of_birth": "05/12/1994",
            "gender": "F",
        },
        record="URN-6120044",
        contact=police,
    )
    w.add(
        partner,
        "POLICE",
        "DOMESTIC_ABUSE_INCIDENT",
        _at("2026-10-17", 23, 40),
        {
            "given_name": "Darren",
            "family_name": "FITCH",
            "date_of_birth": "11/04/1991",
            "gender": "M",
        },
        record="URN-6120051",
        contact=police,
    )
    return Scenario(
        name="da-children",
        title="Domestic abuse where two children are open to children's social care",
        story=(
            "Police attend a domestic-abuse call at 41 Victoria Terrace, West Bromwich on "
            "17 October 2026. Tyler and Ruby Corbett, who live there, are open to children's "
            "social care."
        ),
        events=w.events,
        roles={"mother": mother, "partner": partner, **kids},
        expected_alerts=[ExpectedAlert("domestic_abuse_where_child_lives", "address")],
        search={"given_name": "Leanne", "family_name": "Corbett", "date_of_birth": "5/12/1994"},
        address="41 Victoria Terrace, West Bromwich B70 9PN",
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "self-neglect": self_neglect,
    "foster-fires": fires_where_children_live,
    "da-children": domestic_abuse_children_open,
}


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

    def generate(self) -> list[RegionEvent]:
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
    def _person_year(self, person: Person, plan: _Plan) -> Iterator[RegionEvent]:
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
    ) -> Iterator[RegionEvent]:
        """A case opened this year (or earlier, then only its monthly contacts), sometimes
        closed before the year ends, with one allocated worker."""
        reference = f"{prefix}-{self.rng.randrange(10**6):06d}"
        worker = (self.rng.choice(_WORKERS), self.rng.choice(_TEAMS[agency]), _phone(self.rng))
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
    ) -> Iterator[RegionEvent]:
        count = _poisson(self.rng, per_year * (REGION_DAYS - after) / REGION_DAYS)
        days = sorted(self._day(start=after) for _ in range(count))
        yield from self._at_days(agency, event_type, person, days, night=night)

    def _spaced(
        self, agency: str, event_type: str, person: Person, per_year: int
    ) -> Iterator[RegionEvent]:
        """Regular contacts (a term's attendance return, a clinic appointment): evenly
        spread, so that they never look like a rise."""
        gap = REGION_DAYS // per_year
        offset = self.rng.randrange(gap)
        days = [offset + i * gap + self.rng.randrange(-5, 6) for i in range(per_year)]
        yield from self._at_days(agency, event_type, person, [max(0, d) for d in days])

    def _at_days(
        self, agency: str, event_type: str, person: Person, days: list[int], night: bool = False
    ) -> Iterator[RegionEvent]:
        worker = (f"{agency.title().replace('_', ' ')} duty desk", _TEAMS[agency][0], "")
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
    ) -> RegionEvent:
        self._number += 1
        hour = self.rng.choice((21, 22, 23, 0, 1)) if night else self.rng.randrange(8, 20)
        when = REGION_START + timedelta(days=day, hours=hour, minutes=self.rng.randrange(60))
        home = person.address_at(when)
        reference = reference or person.records.setdefault(
            agency, f"{agency[:3]}-{self.rng.randrange(10**7):07d}"
        )
        event = {
            "event_id": f"reg-{agency[:3].lower()}-{self._number:08d}",
            "agency": agency,
            "source_system": SYSTEMS[agency],
            "source_record_id": reference,
            "event_type": event_type,
            "occurred_at": when.isoformat().replace("+00:00", "Z"),
            "subject": self.writer.subject(person, home, agency),
            "case_status": status,
            "contact": {
                "name": contact[0],
                "team": contact[1] or None,
                "phone": contact[2] or None,
            },
        }
        return RegionEvent(event, person.person_id, home.address_id)

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
