"""The three named scenarios end to end: a small region with the scenarios mixed in is
published as partners would publish it, a worker links and escalates it, and ClickHouse
holds the links and alerts each case exists to show."""

from __future__ import annotations

import pytest

from mast_core.events import parse_event
from producers.publisher import InteractionPublisher
from producers.synthetic.region import RegionGenerator
from producers.synthetic.scenarios import SCENARIOS

pytestmark = pytest.mark.integration


def test_the_named_scenarios_give_their_links_and_alerts(pipeline_settings, worker):
    events = RegionGenerator(people=1500, seed=9).generate()
    worker.start()
    assert (
        InteractionPublisher(pipeline_settings)
        .publish(parse_event(item.event) for item in events)
        .failed
        == []
    )
    worker.wait_for(
        lambda s: (
            s["counts"].get("sink_resolved_interactions", 0) >= len(events)
            # the lag is measured every few seconds, so it can be zero from before the last
            # alerts and merges were published: wait until the sink has written them all
            and s["counts"].get("sink_alerts", 0) >= s["counts"].get("alerts", 0)
            and s["counts"].get("sink_identity_merges", 0) >= s["counts"].get("merges", 0)
            and all(lag == 0 for lag in s["consumer_lag"].values())
        ),
        240,
        "the region linked and stored",
    )
    assert worker.stop() == 0

    for name, make in SCENARIOS.items():
        scenario = make()
        ids = ", ".join(f"'{item.event['event_id']}'" for item in scenario.events)
        rows = worker.query(
            f"SELECT event_id, person_id, address_id FROM identity_map WHERE event_id IN ({ids})"
        )
        assert len(rows) == len(scenario.events), name
        found = {event_id: (person, address) for event_id, person, address in rows}
        people: dict[str, set[str]] = {}
        for item in scenario.events:
            people.setdefault(item.person_id, set()).add(found[item.event["event_id"]][0])
        assert all(len(ids) == 1 for ids in people.values()), (name, people)
        assert len({next(iter(ids)) for ids in people.values()}) == len(scenario.roles), name
        addresses = {address for _person, address in found.values()}
        assert len(addresses) == 1, (name, addresses)
        address = addresses.pop()
        by_role = {role: next(iter(people[truth])) for role, truth in scenario.roles.items()}
        for expected in scenario.expected_alerts:
            kind, subject = (
                ("ADDRESS", address)
                if expected.subject == "address"
                else ("PERSON", by_role[expected.subject])
            )
            alerts = worker.query(
                "SELECT count() FROM alerts FINAL "
                f"WHERE rule_id = '{expected.rule_id}' AND subject_kind = '{kind}' "
                f"AND (subject_id = '{subject}' OR subject_id IN (SELECT retired_person_id "
                f"FROM person_aliases FINAL WHERE surviving_person_id = '{subject}'))"
            )
            assert alerts[0][0] >= 1, (name, expected)
