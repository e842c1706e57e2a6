"""A synthetic population in households, and the partner events about them, with ground truth.

The population has adults and children in households, twins, unrelated people who share a
name and date of birth, and people who move house during the year. Each event is one
agency's record of one person, written the way that agency writes it, then corrupted as
real data is: typos, nicknames, swapped names, date errors, address variants and missing
fields. The rates scale with a corruption level so quality can be measured at several.
"""

from __future__ import annotations

import csv
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mast_core.normalise.names import NICKNAMES_FILE
from producers.synthetic.events import SyntheticEvent, duty_desk, interaction_event, whom_to_call
from producers.synthetic.names import (
    EXTRA_GIVEN_FEMALE,
    EXTRA_GIVEN_MALE,
    FAMILY,
    FEMALE_GIVEN,
    MALE_GIVEN,
    STREET_TYPES,
    STREETS,
    SURNAME_ENDS,
    SURNAME_STARTS,
    TOWNS,
    zipf_weights,
)

CORRUPTION_LEVELS = {"none": 0.0, "low": 0.5, "default": 1.0, "high": 2.0}

AGENCY_EVENTS: dict[str, tuple[tuple[str, ...], str]] = {
    # agency: (event types, who it sees: any | adult | child)
    "POLICE": (("INCIDENT", "DOMESTIC_ABUSE_INCIDENT", "MISSING_EPISODE", "WELFARE_CHECK"), "any"),
    "FIRE": (("FIRE_ATTENDANCE", "SAFE_AND_WELL_VISIT"), "any"),
    "HEALTH": (("ED_ATTENDANCE", "ADMISSION", "GP_REFERRAL"), "any"),
    "CHILDREN_SOCIAL_CARE": (("REFERRAL", "CASE_OPENED", "CASE_CLOSED"), "child"),
    "ADULT_SOCIAL_CARE": (("REFERRAL", "CASE_OPENED", "ASSESSMENT"), "adult"),
    "EDUCATION": (("ABSENCE_CONCERN", "EXCLUSION"), "child"),
    "HOUSING": (("TENANCY_CONCERN", "ASB_REPORT"), "adult"),
    "PROBATION": (("SUPERVISION_CONTACT",), "adult"),
}
_AGENCY_WEIGHTS = {
    "POLICE": 30,
    "FIRE": 8,
    "HEALTH": 30,
    "CHILDREN_SOCIAL_CARE": 10,
    "ADULT_SOCIAL_CARE": 8,
    "EDUCATION": 6,
    "HOUSING": 5,
    "PROBATION": 3,
}
_SYSTEMS = {
    "POLICE": "Niche",
    "FIRE": "IRS",
    "HEALTH": "PAS",
    "CHILDREN_SOCIAL_CARE": "LCS",
    "ADULT_SOCIAL_CARE": "AIS",
    "EDUCATION": "SIMS",
    "HOUSING": "Orchard",
    "PROBATION": "nDelius",
}
_ABBREVIATE = {
    "road": "Rd",
    "street": "St",
    "avenue": "Ave",
    "lane": "Ln",
    "close": "Cl",
    "crescent": "Cres",
    "drive": "Dr",
    "grove": "Gr",
    "terrace": "Tce",
    "walk": "Wk",
    "gardens": "Gdns",
    "place": "Pl",
    "court": "Ct",
    "way": "Wy",
}
YEAR_START = datetime(2025, 11, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Address:
    address_id: str
    flat: int | None
    number: int
    street: str
    town: str
    postcode: str


@dataclass(slots=True)
class Person:
    person_id: str
    given: str
    middle: str | None
    family: str
    dob: date
    gender: str
    nhs: str
    household: int
    homes: list[tuple[datetime, Address]] = field(default_factory=list)
    """(from, address) in date order: a mover has two."""
    records: dict[str, str] = field(default_factory=dict)
    """Each agency's own reference for this person."""

    def address_at(self, when: datetime) -> Address:
        current = self.homes[0][1]
        for start, address in self.homes:
            if start <= when:
                current = address
        return current

    def is_child(self, when: datetime) -> bool:
        return (when.date() - self.dob).days < 18 * 365

    def reference_at(self, agency: str, rng: random.Random) -> str:
        """The agency's own reference for this person, made up the first time (one draw from
        ``rng`` on every call, whether or not the reference is new)."""
        return self.records.setdefault(agency, f"{agency[:3]}-{rng.randrange(10**7):07d}")


def _nickname_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    with NICKNAMES_FILE.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if not row or row[0].startswith("#"):
                continue
            for name in row:
                rows.setdefault(name, []).extend(n for n in row if n != name)
    return rows


def nhs_number(rng: random.Random) -> str:
    """A number that passes the NHS modulus-11 check (in the 9xx test range)."""
    while True:
        digits = [9] + [rng.randrange(10) for _ in range(8)]
        total = sum(d * (10 - i) for i, d in enumerate(digits))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)


class PopulationGenerator:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.nicknames = _nickname_rows()
        self._female = FEMALE_GIVEN + EXTRA_GIVEN_FEMALE
        self._male = MALE_GIVEN + EXTRA_GIVEN_MALE
        self._female_w = zipf_weights(len(self._female), 0.8)
        self._male_w = zipf_weights(len(self._male), 0.8)
        self._rare_family = [start + end for start in SURNAME_STARTS for end in SURNAME_ENDS]
        self._family_w = zipf_weights(len(FAMILY), 0.7)
        self._addresses: dict[tuple[str, str, int, int | None], Address] = {}
        self._streets = [
            (street, town, area, district)
            for town, area in TOWNS
            for district, street in self._street_names(town)
        ]
        self._person_count = 0

    def _street_names(self, town: str) -> list[tuple[int, str]]:
        """Twelve streets in each of twelve districts; no name twice in one town."""
        local = random.Random(town)
        names = [f"{name.title()} {kind.title()}" for name in STREETS for kind in STREET_TYPES]
        chosen = local.sample(names, 144)
        return [(1 + i // 12, street) for i, street in enumerate(chosen)]

    # Places -----------------------------------------------------------------------------------
    def address(self) -> Address:
        street, town, area, district = self.rng.choice(self._streets)
        number = self.rng.randint(1, 140)
        flat = self.rng.randint(1, 8) if self.rng.random() < 0.15 else None
        key = (town, street, number, flat)
        found = self._addresses.get(key)
        if found is not None:
            return found
        block = number // 12
        local = random.Random(f"{town}{street}{district}{block}")
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        inward = f"{local.randint(1, 9)}{local.choice(letters)}{local.choice(letters)}"
        found = Address(
            f"TA{len(self._addresses):07d}",
            flat,
            number,
            street,
            town,
            f"{area}{district} {inward}",
        )
        self._addresses[key] = found
        return found

    # People -----------------------------------------------------------------------------------
    def _given(self, gender: str) -> str:
        names, weights = (
            (self._female, self._female_w) if gender == "F" else (self._male, self._male_w)
        )
        return self.rng.choices(names, weights)[0].title()

    def _family(self) -> str:
        if self.rng.random() < 0.4:
            name = self.rng.choice(self._rare_family)
        else:
            name = self.rng.choices(FAMILY, self._family_w)[0]
        name = name.replace("oconnor", "O'Connor").replace("omalley", "O'Malley").title()
        if self.rng.random() < 0.04:
            name = f"{name}-{self.rng.choices(FAMILY, self._family_w)[0].title()}"
        return name

    def _person(
        self, household: int, family: str, born: date, home: Address, taken: set[str]
    ) -> Person:
        """``taken``: given names already in the household; parents rarely reuse one."""
        self._person_count += 1
        gender = self.rng.choice("FM")
        middle = self._given(gender) if self.rng.random() < 0.4 else None
        given = self._given(gender)
        while given in taken:
            given = self._given(gender)
        taken.add(given)
        return Person(
            f"T{self._person_count:08d}",
            given,
            middle,
            family,
            born,
            gender,
            nhs_number(self.rng),
            household,
            [(YEAR_START - timedelta(days=3650), home)],
        )

    def _birth(self, earliest: int, latest: int) -> date:
        start = date(earliest, 1, 1).toordinal()
        return date.fromordinal(self.rng.randint(start, date(latest, 12, 31).toordinal()))

    def household(self, number: int) -> list[Person]:
        home = self.address()
        family = self._family()
        taken: set[str] = set()
        adults = 1 if self.rng.random() < 0.35 else 2
        people = [self._person(number, family, self._birth(1940, 2004), home, taken)]
        if adults == 2:
            partner_family = family if self.rng.random() < 0.7 else self._family()
            born = people[0].dob + timedelta(days=self.rng.randint(-2500, 2500))
            people.append(self._person(number, partner_family, born, home, taken))
        if people[0].dob.year > 1965 and self.rng.random() < 0.55:
            children = self.rng.choice((1, 1, 2, 2, 3, 4))
            first_year = max(people[0].dob.year + 18, 2007)
            for _ in range(children):
                born = self._birth(first_year, 2025)
                people.append(self._person(number, family, born, home, taken))
            if self.rng.random() < 0.03:
                people.append(self._person(number, family, people[-1].dob, home, taken))
        return people

    def population(self, size: int) -> list[Person]:
        people: list[Person] = []
        household = 0
        while len(people) < size:
            people.extend(self.household(household))
            household += 1
        people = people[:size]
        for person in self.rng.sample(people, k=max(1, size // 200)):
            # an unrelated namesake: same name and date of birth, elsewhere
            twin = self._person(-1, person.family, person.dob, self.address(), set())
            twin.given, twin.gender = person.given, person.gender
            people.append(twin)
        for person in self.rng.sample(people, k=len(people) // 10):
            moved = YEAR_START + timedelta(days=self.rng.randint(30, 330))
            person.homes.append((moved, self.address()))
        return people


class EventGenerator:
    def __init__(self, corruption: str | float = "default", seed: int = 1) -> None:
        self.scale = (
            CORRUPTION_LEVELS[corruption] if isinstance(corruption, str) else float(corruption)
        )
        self.rng = random.Random(seed * 7919 + 17)
        self.population = PopulationGenerator(seed)
        self._event_number = 0

    def _chance(self, rate: float) -> bool:
        return self.rng.random() < rate * self.scale

    # Corruptions ------------------------------------------------------------------------------
    def _typo(self, word: str) -> str:
        if len(word) < 3:
            return word
        i = self.rng.randrange(1, len(word))
        kind = self.rng.randrange(4)
        letter = self.rng.choice(string.ascii_lowercase)
        if kind == 0:
            return word[:i] + word[i + 1 :]
        if kind == 1:
            return word[:i] + letter + word[i:]
        if kind == 2:
            return word[:i] + letter + word[i + 1 :]
        i = min(i, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    def _given(self, person: Person) -> str | None:
        if self._chance(0.01):
            return None
        name = person.given
        variants = self.nickname_variants(name)
        if variants and self._chance(0.08):
            return self.rng.choice(variants).title()
        if self._chance(0.03):
            return self._typo(name)
        if self._chance(0.02):
            return name[0]
        if person.middle and self._chance(0.02):
            return f"{name} {person.middle}"
        return name

    def nickname_variants(self, name: str) -> list[str]:
        return self.population.nicknames.get(name.lower(), [])

    def _family(self, person: Person) -> str | None:
        if self._chance(0.01):
            return None
        name = person.family
        if "-" in name and self._chance(0.3):
            return self.rng.choice(name.split("-"))
        if "'" in name and self._chance(0.3):
            return name.replace("'", "")
        if self._chance(0.03):
            return self._typo(name)
        return name

    def _dob(self, person: Person) -> str | None:
        if self._chance(0.05):
            return None
        dob = person.dob
        if dob.day <= 12 and self._chance(0.03):
            return f"{dob.year:04d}-{dob.day:02d}-{dob.month:02d}"
        if self._chance(0.03):
            digits = list(dob.strftime("%Y%m%d"))
            i = self.rng.randrange(2, 8)
            digits[i] = str(self.rng.randrange(10))
            text = "".join(digits)
            return f"{text[:4]}-{text[4:6]}-{text[6:]}"
        if self._chance(0.01):
            return (
                dob.replace(year=dob.year + self.rng.choice((-1, 1))).isoformat()
                if not (dob.month == 2 and dob.day == 29)
                else dob.isoformat()
            )
        if self._chance(0.1):
            return dob.strftime("%d/%m/%Y")
        return dob.isoformat()

    def _postcode(self, postcode: str) -> str | None:
        if self._chance(0.05):
            return None
        if self._chance(0.02):
            return postcode.replace(" ", "")[:-1]  # malformed: a character lost
        if self._chance(0.03):
            outward, inward = postcode.split(" ")
            return outward.replace("1", "I") + " " + inward.replace("0", "O")
        if self._chance(0.3):
            return postcode.replace(" ", "").lower()
        return postcode

    def _address(self, address: Address) -> dict[str, Any] | None:
        if self._chance(0.03):
            return None
        street = address.street
        if self._chance(0.3):
            name, kind = street.rsplit(" ", 1)
            street = f"{name} {_ABBREVIATE.get(kind.lower(), kind)}"
        if self._chance(0.02):
            street = self._typo(street)
        line1 = f"{address.number} {street}"
        line2 = None
        if address.flat is not None:
            style = self.rng.randrange(3)
            if style == 0:
                line1 = f"Flat {address.flat}, {line1}"
            elif style == 1:
                line1 = f"{address.flat}/{address.number} {street}"
            else:
                line1, line2 = f"Flat {address.flat}", line1
        if self._chance(0.2):
            line1 = line1.upper()
        town = None if self._chance(0.1) else address.town
        return {
            "line1": line1,
            "line2": line2,
            "town": town,
            "postcode": self._postcode(address.postcode),
            "uprn": None,
        }

    def subject(self, person: Person, home: Address, agency: str) -> dict[str, Any]:
        """The person as one agency writes them, with this generator's corruption."""
        given, family = self._given(person), self._family(person)
        if self._chance(0.015):
            given, family = family, given
        nhs = person.nhs if agency == "HEALTH" and not self._chance(0.1) else None
        gender = "U" if self._chance(0.1) else person.gender
        dob, address = self._dob(person), self._address(home)
        if not (given or family or dob or address or nhs):
            # a record with no personal detail at all is refused at the door (nothing to
            # link); a partner's record of an interaction names someone
            family = person.family
        return {
            "given_name": given,
            "family_name": family,
            "date_of_birth": dob,
            "gender": gender,
            "address": address,
            "nhs_number": nhs,
        }

    # Events -----------------------------------------------------------------------------------
    def event_for(self, person: Person, when: datetime) -> SyntheticEvent:
        child = person.is_child(when)
        agency = self._agency(child)
        types, _who = AGENCY_EVENTS[agency]
        reference = person.reference_at(agency, self.rng)
        self._event_number += 1
        home = person.address_at(when)
        subject = self.subject(person, home, agency)
        event = interaction_event(
            f"{agency[:3]}-{self._event_number:09d}",
            agency,
            _SYSTEMS[agency],
            self.rng.choice(types),
            when,
            subject,
            record=reference,
            contact={**whom_to_call(duty_desk(agency)), "email": None},
        )
        return SyntheticEvent(event, person.person_id, home.address_id)

    def _agency(self, child: bool) -> str:
        while True:
            agency = self.rng.choices(list(_AGENCY_WEIGHTS), list(_AGENCY_WEIGHTS.values()))[0]
            who = AGENCY_EVENTS[agency][1]
            if who == "any" or (who == "child") == child:
                return agency

    def generate(self, events: int, per_person: float = 5.0) -> Iterator[SyntheticEvent]:
        """Exactly ``events`` events in time order, people interleaved as a stream from many
        partners would be. Events are made lazily, so a million need little memory."""
        people = self.population.population(max(1, int(events / per_person)))
        counts = [1 + min(60, int(self.rng.expovariate(1 / (per_person - 1)))) for _ in people]
        scale = events / sum(counts)
        counts = [max(1, round(c * scale)) for c in counts]
        minutes = 365 * 24 * 60
        schedule = [
            (self.rng.randrange(minutes), index)
            for index, count in enumerate(counts)
            for _ in range(count)
        ]
        while len(schedule) < events:
            schedule.append((self.rng.randrange(minutes), self.rng.randrange(len(people))))
        self.rng.shuffle(schedule)
        del schedule[events:]
        schedule.sort()
        for minute, index in schedule:
            yield self.event_for(people[index], YEAR_START + timedelta(minutes=minute))
