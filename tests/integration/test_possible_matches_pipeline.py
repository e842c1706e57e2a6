"""Possible matches through the real worker (broker and its embedded ClickHouse): the
resolution stage publishes the record kept for review, the sink stores it, and a steward's
CONFIRM_MATCH on the corrections topic is applied in order with the events as an ordinary
explained merge, stored like any merge; a replay after a kill makes it once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mast_core.avro import CORRECTION, POSSIBLE_MATCH, codec
from messaging.clients import make_producer
from producers.publisher import InteractionPublisher
from query_api.corrections import match_correction
from tests.correction_cases import possible_match_case
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration


def test_a_confirmed_possible_match_becomes_one_person(pipeline_settings, worker):
    settings = pipeline_settings
    worker.start()
    publisher = InteractionPublisher(settings)
    for n, event in enumerate(possible_match_case(), start=1):
        assert publisher.publish([event]).failed == []
        worker.wait_for(lambda s, n=n: s["counts"].get("resolved", 0) >= n, 90, f"event {n}")
    worker.wait_for(
        lambda s: s["counts"].get("sink_possible_matches", 0) >= 1, 60, "the possible match"
    )
    (possible,) = [
        codec(POSSIBLE_MATCH).decode(m.value())
        for m in read_topic(settings, settings.possible_matches_topic)
    ]
    correction = match_correction(
        possible["possible_id"],
        "merge",
        possible["person_id"],
        possible["candidate_person_id"],
        "PARTNERSHIP",
        datetime.now(UTC),
    )
    producer = make_producer(settings)
    producer.produce(
        settings.corrections_topic,
        value=codec(CORRECTION).encode(correction),
        key=possible["person_id"].encode(),
    )
    assert producer.flush(30) == 0
    worker.wait_for(lambda s: s["counts"].get("sink_identity_merges", 0) >= 1, 90, "the merge")
    worker.kill()  # SIGKILL: the restart replays the log from its checkpoint
    worker.start()
    worker.wait_for(
        lambda s: bool(s["consumer_lag"]) and not any(s["consumer_lag"].values()),
        90,
        "the replay",
    )
    assert worker.stop() == 0

    people = dict(worker.query("SELECT event_id, person_id FROM identity_map"))
    assert people["pm-1"] == people["pm-2"] == possible["candidate_person_id"]
    merges = worker.query(
        "SELECT surviving_person_id, retired_person_id, triggered_by_event_id, evidence "
        "FROM identity_merges FINAL"
    )
    assert len(merges) == 1
    surviving, retired, trigger, evidence = merges[0]
    assert (surviving, retired) == (possible["candidate_person_id"], possible["person_id"])
    assert trigger is None and "date_of_birth" in evidence
    stored = worker.query("SELECT possible_id, event_id, match_weight FROM possible_matches FINAL")
    assert stored == [[possible["possible_id"], "pm-2", possible["match_weight"]]]
