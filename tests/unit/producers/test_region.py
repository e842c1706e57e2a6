"""The regional scenarios through the real resolver and escalation engine, mixed into a
background region: each named case gives the links and alerts it exists to show, and the
background raises alerts at a believable rate."""

from __future__ import annotations

from collections import Counter

import pytest

from mast_core.events import parse_event
from producers.synthetic.region import RegionGenerator
from producers.synthetic.scenarios import SCENARIOS
from stream_processors.resolution import ResolutionStage


@pytest.fixture(scope="module")
def region():
    generator = RegionGenerator(people=3000, seed=5)
    events = generator.generate()
    stage = ResolutionStage.fresh()
    resolved: dict[str, dict] = {}
    alerts: list[dict] = []
    for item in events:
        output = stage.process(parse_event(item.event))
        assert output is not None
        resolved[item.event["event_id"]] = output.resolved
        alerts.extend(output.alerts)
    # merges retire ids: follow them to the person each record belongs to now
    current = stage.resolver.person_of
    return events, resolved, alerts, current


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_gives_its_links(region, name):
    _events, resolved, _alerts, current = region
    scenario = SCENARIOS[name]()
    people: dict[str, set[str]] = {}
    addresses: set[str] = set()
    for item in scenario.events:
        outcome = resolved[item.event["event_id"]]
        people.setdefault(item.person_id, set()).add(current(outcome["person_id"]))
        addresses.add(outcome["address_id"])
    # every role's records are one person, and no two roles are the same person
    assert all(len(ids) == 1 for ids in people.values()), people
    assert len({next(iter(ids)) for ids in people.values()}) == len(scenario.roles)
    # one household: every record resolves to the same address, however it was written
    assert len(addresses) == 1, addresses


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_raises_its_alerts(region, name):
    _events, resolved, alerts, current = region
    scenario = SCENARIOS[name]()
    first = {item.person_id: item.event["event_id"] for item in reversed(scenario.events)}
    address = resolved[scenario.events[0].event["event_id"]]["address_id"]
    for expected in scenario.expected_alerts:
        if expected.subject == "address":
            kind, subject = "ADDRESS", address
        else:
            person = resolved[first[scenario.roles[expected.subject]]]["person_id"]
            kind, subject = "PERSON", current(person)
        raised = [
            a
            for a in alerts
            if a["rule_id"] == expected.rule_id
            and a["subject_kind"] == kind
            and (
                (kind == "ADDRESS" and a["subject_id"] == subject)
                or (kind == "PERSON" and current(a["subject_id"]) == subject)
            )
        ]
        assert raised, f"{name}: no {expected.rule_id} on {expected.subject}"


def test_the_background_is_believable(region):
    events, _resolved, alerts, _current = region
    background = [e for e in events if e.scenario is None]
    agencies = Counter(e.event["agency"] for e in background)
    assert set(agencies) == {
        "POLICE",
        "FIRE",
        "HEALTH",
        "CHILDREN_SOCIAL_CARE",
        "ADULT_SOCIAL_CARE",
        "EDUCATION",
        "HOUSING",
        "PROBATION",
    }
    people = len({e.person_id for e in background})
    # alerts are exceptions, not noise: at most a few per hundred people a year
    assert len(alerts) < 0.05 * people, Counter(a["rule_id"] for a in alerts)
    times = [e.event["occurred_at"] for e in events]
    assert times == sorted(times)
    assert all(parse_event(e.event) for e in events[:500])
