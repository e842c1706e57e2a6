"""A steward's split through the real pipeline: the correction published on its topic is
appended to the accepted log by validation, applied by the resolver in order with the events,
stored by the sink, and the two people are apart again; a worker killed after it replays to
the same state, and a record that would join them again does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mast_core.avro import CORRECTION, IDENTITY_MERGE, codec
from mast_core.linkage.resolver import _identity_id
from messaging.clients import make_producer
from producers.publisher import InteractionPublisher
from tests.factories import bridge_trio, person_event
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration


def _resolved(worker, n: int, what: str) -> None:
    worker.wait_for(lambda s: s["counts"].get("resolved", 0) >= n, 90, what)


def test_a_split_decided_by_a_steward_parts_the_two_people(pipeline_settings, worker):
    settings = pipeline_settings
    worker.start()
    publisher = InteractionPublisher(settings)
    for n, event in enumerate(bridge_trio(), start=1):  # in order: the third bridges
        assert publisher.publish([event]).failed == []
        _resolved(worker, n, f"event {n}")
    worker.wait_for(lambda s: s["counts"].get("merges", 0) >= 1, 60, "the merge")
    (merge,) = [
        codec(IDENTITY_MERGE).decode(m.value())
        for m in read_topic(settings, settings.identity_merges_topic)
    ]
    correction = codec(CORRECTION).encode(
        {
            "correction_id": "C-e2e-1",
            "kind": "SPLIT",
            "person_id": merge["surviving_person_id"],
            "merge_ids": [merge["merge_id"]],
            "other_person_id": None,
            "dispute_id": "D-e2e-1",
            "decided_by_organisation": "PARTNERSHIP",
            "decided_at": datetime.now(UTC),
        }
    )
    producer = make_producer(settings)
    producer.produce(settings.corrections_topic, value=correction, key=b"C-e2e-1")
    assert producer.flush(30) == 0
    worker.wait_for(lambda s: s["counts"].get("sink_identity_splits", 0) >= 1, 90, "the split")

    again = person_event(agency="CHILDREN_SOCIAL_CARE", record="C-9", nhs="9434765919")
    assert publisher.publish([again]).failed == []
    _resolved(worker, 4, "the record after the split")
    worker.wait_for(
        lambda s: s["counts"].get("sink_resolved_interactions", 0) >= 4, 60, "it stored"
    )

    worker.kill()  # SIGKILL: the restart replays the log from its checkpoint
    worker.start()
    worker.wait_for(
        lambda s: bool(s["consumer_lag"]) and not any(s["consumer_lag"].values()),
        90,
        "the replay",
    )
    assert worker.stop() == 0

    people = dict(worker.query("SELECT event_id, person_id FROM identity_map"))
    surviving, retired = merge["surviving_person_id"], merge["retired_person_id"]
    assert people["b"] == retired  # the police record at the other address is apart again
    assert people["a"] == surviving and people["c"] == surviving
    assert people[again.event_id] in (surviving, retired)
    assert worker.query("SELECT count() FROM identity_splits FINAL") == [[1]]
    assert worker.query("SELECT count() FROM identity_merges FINAL") == [[1]]  # never again


def test_a_record_linked_directly_is_detached_by_a_split(pipeline_settings, worker):
    """A record that matched the person on arrival (no merge brought it) leaves for an
    identity of its own: its rows move in every table, the person keeps the rest, a record
    with its details follows it and never rejoins the person, and a replay after SIGKILL
    reaches the same state."""
    settings = pipeline_settings
    worker.start()
    publisher = InteractionPublisher(settings)
    first = person_event(given="Hester", family="Wrenfield", agency="HEALTH", event_id="h1")
    wrong = person_event(
        given="Hester",
        family="Wrenfield",
        agency="POLICE",
        event_id="p1",
        line1="40 Mill Lane",
        postcode="WS2 9PQ",
    )
    for n, event in enumerate((first, wrong), start=1):
        assert publisher.publish([event]).failed == []
        _resolved(worker, n, f"event {n}")
    worker.wait_for(
        lambda s: s["counts"].get("sink_resolved_interactions", 0) >= 2, 60, "both stored"
    )
    person = _identity_id("P", first.key)  # the id a record starting an identity gets
    correction = codec(CORRECTION).encode(
        {
            "correction_id": "C-e2e-detach",
            "kind": "SPLIT",
            "person_id": person,
            "merge_ids": [],
            "other_person_id": None,
            "records": [{"agency": "POLICE", "event_id": "p1"}],
            "dispute_id": "D-e2e-detach",
            "decided_by_organisation": "PARTNERSHIP",
            "decided_at": datetime.now(UTC),
        }
    )
    producer = make_producer(settings)
    producer.produce(settings.corrections_topic, value=correction, key=b"C-e2e-detach")
    assert producer.flush(30) == 0
    worker.wait_for(lambda s: s["counts"].get("sink_identity_splits", 0) >= 1, 90, "the detach")

    again = person_event(
        given="Hester",
        family="Wrenfield",
        agency="POLICE",
        event_id="p2",
        line1="40 Mill Lane",
        postcode="WS2 9PQ",
    )
    assert publisher.publish([again]).failed == []
    _resolved(worker, 3, "the record after the detach")
    worker.wait_for(
        lambda s: s["counts"].get("sink_resolved_interactions", 0) >= 3, 60, "it stored"
    )
    worker.kill()  # SIGKILL: the restart replays the log from its checkpoint
    worker.start()
    worker.wait_for(
        lambda s: bool(s["consumer_lag"]) and not any(s["consumer_lag"].values()),
        90,
        "the replay",
    )
    assert worker.stop() == 0

    rows = worker.query(
        "SELECT DISTINCT agency, event_id, person_id FROM resolved_interactions ORDER BY event_id"
    )
    held = {event_id: person_id for _agency, event_id, person_id in rows}
    assert len(rows) == 3  # one person per record: the old rows of p1 are gone
    assert held["h1"] == person
    assert held["p1"] != person and held["p2"] == held["p1"]
    for table in ("person_keys", "address_interactions"):
        owners = worker.query(f"SELECT DISTINCT person_id FROM {table} WHERE event_id = 'p1'")
        assert owners == [[held["p1"]]], table
    [[merge_id, surviving, restored, agencies, events]] = worker.query(
        "SELECT merge_id, surviving_person_id, restored_person_id, detached_agencies, "
        "detached_event_ids FROM identity_splits FINAL"
    )
    assert (merge_id, surviving, restored) == ("", person, held["p1"])
    assert (agencies, events) == (["POLICE"], ["p1"])
