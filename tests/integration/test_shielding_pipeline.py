"""Shielding from a partner's mark, through the real pipeline: an event sent with a
``sensitivity`` (interaction schema v3) travels the broker, validation, resolution and the
sink into ClickHouse with its mark; the person it was linked to, with the earlier unmarked
record, is then shielded and so are both their addresses, as the API judges it
(``query_api.shielding``, run in a process of its own on the worker's stopped ClickHouse:
one engine per process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mast_core.events import parse_event
from mast_core.linkage.resolver import _identity_id
from producers.publisher import InteractionPublisher
from tests.factories import event_dict

pytestmark = pytest.mark.integration

_SHIELDED = """
import json, sys
from clickhouse_connect import get_client
from query_api.shielding import Shielding
client = get_client(dsn=sys.argv[1])
client.database = sys.argv[2]
people, addresses = json.loads(sys.argv[3]), json.loads(sys.argv[4])
shielding = Shielding(client)
found = shielding.people(people)
print(json.dumps({
    "people": {p: [h.agency for h in s.held_by] for p, s in found.items()},
    "owners": {p: list(s.owners) for p, s in found.items()},
    "addresses": sorted(shielding.addresses(addresses)),
}))
"""


def test_a_record_marked_sensitive_shields_its_person_and_their_addresses(
    pipeline_settings, worker
):
    settings = pipeline_settings
    worker.start()
    publisher = InteractionPublisher(settings)
    home = event_dict(event_id="s-home", agency="POLICE")
    refuge = event_dict(event_id="s-refuge", agency="HEALTH")
    refuge["subject"]["address"] = {
        "line1": "3 Linnet Row",
        "line2": None,
        "town": "Selly Oak",
        "postcode": "B29 6AA",
        "uprn": None,
    }
    refuge["sensitivity"] = "refuge"  # any case: the contract reads it upper-cased
    for n, event in enumerate((home, refuge), start=1):
        assert publisher.publish([parse_event(event)]).failed == []
        worker.wait_for(lambda s, n=n: s["counts"].get("resolved", 0) >= n, 90, f"event {n}")
    worker.wait_for(
        lambda s: s["counts"].get("sink_resolved_interactions", 0) >= 2, 60, "both stored"
    )
    assert worker.stop() == 0

    rows = worker.query(
        "SELECT DISTINCT event_id, person_id, address_id, sensitivity "
        "FROM resolved_interactions ORDER BY event_id"
    )
    held = {event_id: (person, address, mark) for event_id, person, address, mark in rows}
    person = _identity_id("P", parse_event(home).key)
    assert held["s-refuge"][0] == person == held["s-home"][0]  # one person
    assert (held["s-home"][2], held["s-refuge"][2]) == (None, "REFUGE")
    addresses = sorted({held["s-home"][1], held["s-refuge"][1]})
    assert len(addresses) == 2

    judged = subprocess.run(
        [
            sys.executable,
            "-c",
            _SHIELDED,
            settings.clickhouse_dsn,
            settings.clickhouse_database,
            json.dumps([person]),
            json.dumps(addresses),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(judged.stdout)
    assert found["people"] == {person: ["HEALTH", "POLICE"]}  # the marking agency first
    assert found["owners"] == {person: ["HEALTH"]}
    assert found["addresses"] == addresses  # the refuge, and the home she has a record at
