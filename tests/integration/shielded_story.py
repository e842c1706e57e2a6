"""A small world with a shielded person in it, stored through the real sink writer into the
real engine (chDB), for the shielding tests.

Sarah left home for a refuge: health's record of her there is marked ``REFUGE``; the police
still hold a record of her at the old family home, where Ben, her former partner, lives. Her
son Tom lives with her at the refuge (children's social care, not marked). Carl lives
elsewhere, and is not shielded. Alerts are about Sarah, the refuge and Carl. So:

- Sarah is shielded (a partner's mark); the refuge and the family home are shielded
  addresses, because she has a record at each;
- Tom and Ben are not shielded, but neither's page may show the address they share with her;
- Carl's page and address are as usual.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.client import Client

from mast_core.events import parse_event
from mast_core.linkage.blocking import filed_keys
from mast_core.linkage.estimation import profiles_from_events
from sinks.clickhouse.writer import SinkWriter
from tests.factories import alert_row, letters

REFUGE_TEAM, REFUGE_PHONE = "Refuge Liaison", "0121 555 0199"
SARAH_BORN = "1988-06-14"


@dataclass(frozen=True)
class Place:
    address_id: str
    line1: str
    town: str
    postcode: str


@dataclass(frozen=True)
class ShieldedStory:
    run: str
    family: str
    sarah: str
    sarah_old: str
    tom: str
    ben: str
    carl: str
    refuge: Place
    home: Place
    elsewhere: Place
    alerts: dict[str, str]
    events: dict[str, str]

    def hidden_addresses(self) -> list[str]:
        """The shielded addresses' lines and postcodes (as stored and without the space)."""
        texts = []
        for place in (self.refuge, self.home):
            texts += [place.line1, place.postcode, place.postcode.replace(" ", "")]
        return texts

    def hidden_text(self) -> list[str]:
        """What must never appear about Sarah or her addresses without break-glass: the
        shielded addresses, her family name and date of birth, and the name of her
        co-resident at the refuge."""
        return [*self.hidden_addresses(), self.family, SARAH_BORN, "Tomasz"]


def _record(
    run: str,
    name: str,
    agency: str,
    person: str,
    given: str,
    family: str,
    born: str,
    place: Place,
    day: int,
    *,
    sensitivity: str | None = None,
    team: str = "Duty",
    phone: str = "01902 555 0100",
) -> dict[str, Any]:
    at = datetime(2026, 3, 2, 10, tzinfo=UTC) + timedelta(days=day)
    interaction = {
        "event_id": f"{run}-{name}",
        "agency": agency,
        "source_system": f"{agency.title()} records",
        "source_record_id": f"{agency[:3]}-{name}",
        "event_type": "INCIDENT",
        "occurred_at": at,
        "subject": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "gender": "F",
            "address": {
                "line1": place.line1,
                "line2": None,
                "town": place.town,
                "postcode": place.postcode,
                "uprn": None,
            },
            "nhs_number": None,
        },
        "case_status": None,  # not open: an open case's views would notify later tests' users
        "contact": {"name": "Jo Bloggs", "team": team, "phone": phone, "email": "d@x"},
        "sensitivity": sensitivity,
    }
    [profile] = profiles_from_events([parse_event(interaction)])
    return {
        "interaction": interaction,
        "person_id": person,
        "address_id": place.address_id,
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": at,
        "search_keys": filed_keys(profile),
    }


def _postcode(run: str, n: int) -> str:
    """A postcode of this run's own (two letters from the run), so searches find only it."""
    allowed = "ABDEFGHJLNPQRSTUWXYZ"  # the letters an inward code may use
    tail = "".join(allowed[int(c, 16) % len(allowed)] for c in run[:2])
    return f"B{n} {n % 10}{tail}"


def write_story(clickhouse: Client) -> ShieldedStory:
    run = uuid.uuid4().hex[:8]
    family = "Marchbank" + letters(run)
    refuge = Place(
        f"AR{run}",
        f"{int(run[:4], 16) % 90 + 10} Linnet Refuge Row",
        "Selly Oak",
        _postcode(run, 29),
    )
    home = Place(f"AH{run}", "4 Quarry Lane", "Halesowen", _postcode(run, 63))
    elsewhere = Place(f"AE{run}", "9 Orchard Way", "Dudley", _postcode(run, 71))
    sarah, sarah_old, tom = f"P{run}s", f"P{run}o", f"P{run}t"
    ben, carl = f"P{run}b", f"P{run}c"
    records = [
        _record(
            run,
            "s1",
            "HEALTH",
            sarah,
            "Sarah",
            family,
            SARAH_BORN,
            refuge,
            10,
            sensitivity="REFUGE",
            team=REFUGE_TEAM,
            phone=REFUGE_PHONE,
        ),
        _record(run, "s0", "POLICE", sarah_old, "Sarah", family, SARAH_BORN, home, 0),
        _record(run, "t1", "CHILDREN_SOCIAL_CARE", tom, "Tomasz", family, "2016-01-09", refuge, 11),
        _record(
            run, "b1", "POLICE", ben, "Benedict", "Crowle" + letters(run), "1985-02-02", home, 2
        ),
        _record(
            run, "c1", "FIRE", carl, "Carl", "Feeney" + letters(run), "1979-11-30", elsewhere, 3
        ),
    ]
    writer = SinkWriter(clickhouse)
    writer.write_resolved(records)
    writer.write_merges(
        [
            {
                "merge_id": f"M{run}",
                "surviving_person_id": sarah,
                "retired_person_id": sarah_old,
                "triggered_by_event_id": f"{run}-s1",
                "match_weight": 14.0,
                "evidence": [{"field": "date_of_birth", "level": "exact", "weight": 9.0}],
                "merged_at": datetime.now(UTC),
            }
        ]
    )
    alerts = {
        "sarah": alert_row("sarah_rule", sarah, {"HEALTH": 2}, evidence=[f"{run}-s1"]),
        "refuge": alert_row(
            "refuge_rule", refuge.address_id, {"HEALTH": 1}, kind="ADDRESS", evidence=[f"{run}-s1"]
        ),
        "carl": alert_row("carl_rule", carl, {"FIRE": 2}, evidence=[f"{run}-c1"]),
    }
    writer.write_alerts(list(alerts.values()))
    return ShieldedStory(
        run=run,
        family=family,
        sarah=sarah,
        sarah_old=sarah_old,
        tom=tom,
        ben=ben,
        carl=carl,
        refuge=refuge,
        home=home,
        elsewhere=elsewhere,
        alerts={name: alert["alert_id"] for name, alert in alerts.items()},
        events={
            r["interaction"]["event_id"].split("-")[1]: r["interaction"]["event_id"]
            for r in records
        },
    )
