"""The partnership's motivating cases, written as partners would record them in the JSON form
of docs/event-contract.md, with the links and alerts they must produce (docs/partners.md,
"The synthetic region"). The region generator mixes them into its background year; tests
check them end to end and ``mast demo`` tells a practitioner where to look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from producers.synthetic.agencies import SYSTEMS
from producers.synthetic.events import SyntheticEvent, interaction_event, whom_to_call
from producers.synthetic.population import Address


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
    events: list[SyntheticEvent]
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
    """Numbers a scenario's events (stable ids) and writes each at the scenario's home
    unless the record gives an address of its own."""

    def __init__(self, scenario: str, home: Address) -> None:
        self.scenario = scenario
        self.home = home
        self.events: list[SyntheticEvent] = []

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
        address = subject.pop("address", None)
        if address is None:
            address = {
                "line1": f"{self.home.number} {self.home.street}",
                "town": self.home.town,
                "postcode": self.home.postcode,
            }
        event = interaction_event(
            f"scn-{self.scenario}-{len(self.events) + 1:03d}",
            agency,
            SYSTEMS[agency],
            event_type,
            when,
            {**subject, "address": address},
            record=record,
            case_status=case_status,
            contact=whom_to_call(*contact),
        )
        self.events.append(SyntheticEvent(event, person, self.home.address_id, self.scenario))


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
    as_the_hospital_writes_her = {
        "given_name": "Margaret",
        "family_name": "Hollins",
        "date_of_birth": "1951-06-14",
        "gender": "F",
        "nhs_number": "9434765870",
    }
    hospital = ("Safeguarding nurse", "ED Safeguarding", "01922 721172")
    neighbourhood_police = ("PC 1187 Ahmed", "Neighbourhood Team", "101")
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
        contact=neighbourhood_police,
    )
    w.add(
        mother,
        "HEALTH",
        "ED_ATTENDANCE",
        _at("2026-04-12", 2, 15),
        dict(as_the_hospital_writes_her),
        record="RWB-118230",
        contact=hospital,
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
        contact=neighbourhood_police,
    )
    w.add(
        mother,
        "HEALTH",
        "ED_ATTENDANCE",
        _at("2026-04-25", 16, 30),
        dict(as_the_hospital_writes_her),
        record="RWB-118230",
        contact=hospital,
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
        contact=hospital,
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
