"""The pipeline end to end on the real broker and ClickHouse (chDB): a worker process,
a scenario published as partners would, and what lands where."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mast_core.avro import ALERT, INTERACTION, codec
from mast_core.events import InteractionEvent, parse_event
from mast_core.linkage.parameters import Parameters
from mast_core.settings import Settings
from messaging.clients import make_producer
from messaging.dead_letters import decode_dead_letter
from producers.publisher import InteractionPublisher
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration


def _event(event_id: str, **fields: Any) -> InteractionEvent:
    subject = {
        "given_name": fields.pop("given", "Dawn"),
        "family_name": fields.pop("family", "Kestrel"),
        "date_of_birth": fields.pop("dob", "1988-09-30"),
        "gender": fields.pop("gender", "F"),
        "address": fields.pop(
            "address",
            {"line1": "4 Birch Road", "town": "Walsall", "postcode": "WS2 8QQ"},
        ),
        "nhs_number": fields.pop("nhs", None),
    }
    return parse_event(
        {
            "event_id": event_id,
            "agency": fields.pop("agency", "FIRE"),
            "source_system": fields.pop("system", "FireIncidents"),
            "source_record_id": fields.pop("record", None),
            "event_type": fields.pop("event_type", "FIRE_ATTENDANCE"),
            "occurred_at": fields.pop("at"),
            "subject": subject,
            "case_status": fields.pop("case_status", None),
            "contact": {"name": "Duty officer", "phone": "01922 000000"},
        }
    )


def _scenario(
    run: str,
) -> tuple[list[InteractionEvent], list[InteractionEvent], list[InteractionEvent]]:
    """Three waves: a child open to children's social care at an address with three fires in
    a month, the third arriving late and out of order; a pair of records for one woman that
    only a third record, arriving after both, links; re-sent events. (Partners' partitions
    interleave, so what must come later is published later.)"""
    child = _event(
        f"{run}-csc-1",
        agency="CHILDREN_SOCIAL_CARE",
        system="CareFirst",
        record="C-88",
        event_type="CASE_OPENED",
        case_status="OPEN",
        given="Tyler",
        family="Kestrel",
        dob="2015-05-01",
        gender="M",
        at="2026-03-01T09:00:00Z",
    )
    fire_2 = _event(f"{run}-fire-2", at="2026-04-10T22:00:00Z")
    fire_3 = _event(f"{run}-fire-3", at="2026-04-20T23:30:00Z")
    late_fire_1 = _event(f"{run}-fire-1", at="2026-04-05T20:00:00Z")
    margaret = dict(given="Margaret", family="Thornbury", gender="F")
    police_record = dict(
        agency="POLICE", system="Niche", record="P-7", event_type="INCIDENT", dob="1957-02-13"
    )
    elsewhere = {"line1": "12 Alder Street", "town": "Walsall", "postcode": "WS1 2AB"}
    merge_a = _event(
        f"{run}-a",
        agency="HEALTH",
        system="PAS",
        event_type="ED_ATTENDANCE",
        nhs="9434765919",
        dob=None,
        address=elsewhere,
        at="2026-04-03T10:00:00Z",
        **margaret,
    )
    merge_b = _event(
        f"{run}-b",
        address={"line1": "9 Elm Way", "town": "Dudley", "postcode": "DY9 9ZZ"},
        at="2026-04-04T10:00:00Z",
        **police_record,
        **margaret,
    )
    bridge = _event(
        f"{run}-c",
        nhs="9434765919",
        address=elsewhere,
        at="2026-04-06T10:00:00Z",
        **police_record,
        **margaret,
    )
    first = [child, fire_2, fire_3, merge_a, merge_b, fire_2]  # fire_2 twice
    second = [bridge]
    third = [late_fire_1, child, bridge]  # the late fire, and two re-sent events
    return first, second, third


def _publish_malformed(settings: Settings) -> None:
    producer = make_producer(settings)
    producer.produce(settings.interactions_topic, value=b"this is not avro", key=b"bad-1")
    too_long = _event("bad-too-long", at="2026-04-07T10:00:00Z").to_record()
    too_long["subject"]["given_name"] = "x" * 300
    producer.produce(
        settings.interactions_topic, value=codec(INTERACTION).encode(too_long), key=b"bad-2"
    )
    assert producer.flush(30) == 0


def test_a_scenario_lands_in_clickhouse_dead_letters_and_alerts(pipeline_settings, worker):
    settings = pipeline_settings
    run = uuid.uuid4().hex[:6]
    first, second, third = _scenario(run)
    unique = {event.event_id for event in first + second + third}
    worker.start()
    publisher = InteractionPublisher(settings)
    assert publisher.publish(first).failed == []
    _publish_malformed(settings)
    worker.wait_for(lambda s: s["counts"].get("resolved", 0) >= 5, 60, "the first wave")
    assert publisher.publish(second).failed == []
    worker.wait_for(lambda s: s["counts"].get("resolved", 0) >= 6, 60, "the bridging record")
    assert publisher.publish(third).failed == []
    status = worker.wait_for(
        lambda s: (
            s["counts"].get("resolved", 0) == len(unique)
            and s["counts"].get("duplicates", 0) == 3
            and s["counts"].get("sink_resolved_interactions", 0) >= len(unique)
            and s["counts"].get("sink_dead_letters", 0) == 2
            and s["counts"].get("sink_linkage_parameters", 0) >= 1
        ),
        60,
        "every event resolved and written",
    )
    assert status["counts"]["dead_letters"] == 2
    assert status["counts"]["merges"] == 1
    assert status["counts"]["parameter_sets"] == 1  # the starting set, with the first event

    # Dead letters: the raw bytes, the reason and where they came from.
    letters = [
        decode_dead_letter(m.value()) for m in read_topic(settings, settings.dead_letter_topic)
    ]
    assert sorted(letter["reason"] for letter in letters) == ["avro_decode", "invalid_event"]
    assert {letter["source_topic"] for letter in letters} == {settings.interactions_topic}
    assert all(letter["source_offset"] >= 0 for letter in letters)
    assert b"this is not avro" in [letter["raw"] for letter in letters]
    invalid = next(letter for letter in letters if letter["reason"] == "invalid_event")
    assert invalid["field"] == "subject.given_name"
    assert "x" * 20 not in invalid["detail"]  # names the field, never echoes the value

    # Alerts: the repeated fires where a child lives, judged when the late fire arrived.
    alerts = [codec(ALERT).decode(m.value()) for m in read_topic(settings, settings.alerts_topic)]
    fires = [a for a in alerts if a["rule_id"] == "repeat_fires_where_children_live"]
    assert len(fires) == 1, alerts
    fire_alert = fires[0]
    assert fire_alert["subject_kind"] == "ADDRESS"
    assert fire_alert["counts_by_agency"] == {"FIRE": 3}
    assert sorted(fire_alert["evidence_event_ids"]) == sorted(f"{run}-fire-{n}" for n in (1, 2, 3))
    assert fire_alert["severity"] == "HIGH"

    assert worker.stop() == 0

    # ClickHouse: each event once, the merge applied in the identity map, alerts and letters.
    rows = worker.query("SELECT count(), uniqExact(event_id) FROM resolved_interactions FINAL")
    assert rows == [[len(unique), len(unique)]]
    assert worker.query("SELECT count() FROM resolved_interactions") == [[len(unique)]]
    persons = worker.query(
        "SELECT event_id, person_id FROM identity_map "
        f"WHERE event_id IN ('{run}-a', '{run}-b', '{run}-c') ORDER BY event_id"
    )
    assert len(persons) == 3
    assert len({person for _event_id, person in persons}) == 1
    merges = worker.query(
        "SELECT surviving_person_id, retired_person_id FROM identity_merges FINAL"
    )
    assert len(merges) == 1
    assert merges[0][0] == persons[0][1]
    fire_rows = worker.query(
        "SELECT evidence_event_ids FROM alerts FINAL "
        "WHERE rule_id = 'repeat_fires_where_children_live'"
    )
    assert len(fire_rows) == 1
    address_rows = worker.query(
        "SELECT count(DISTINCT person_id) FROM address_interactions FINAL "
        f"WHERE address_id = (SELECT address_id FROM resolved_interactions "
        f"WHERE event_id = '{run}-csc-1')"
    )
    assert address_rows == [[2]]  # the child and the woman the fire service met
    assert worker.query("SELECT count() FROM dead_letters FINAL") == [[2]]
    # The linkage parameters in force (the shipped set: too few records to learn from), for
    # the API's person search; every interaction names the same version.
    shipped = Parameters.default().version
    assert worker.query("SELECT version FROM linkage_parameters FINAL") == [[shipped]]
    assert worker.query("SELECT DISTINCT parameters_version FROM resolved_interactions") == [
        [shipped]
    ]


def test_a_killed_worker_restarts_and_every_event_lands_exactly_once(pipeline_settings, worker):
    from producers.synthetic.population import EventGenerator

    settings = pipeline_settings
    events = [
        # every seventh without a time: its event time is the received time, which a replay
        # after the kill must stamp again exactly, or the sorting key differs and rows double
        parse_event({**item.event, "occurred_at": None} if number % 7 == 0 else item.event)
        for number, item in enumerate(EventGenerator(corruption="default", seed=7).generate(10_000))
    ]
    assert len({event.event_id for event in events}) == len(events)
    first, rest = events[:7000], events[7000:]
    worker.start()
    publisher = InteractionPublisher(settings)
    assert publisher.publish(first).failed == []
    worker.wait_for(
        lambda s: s["counts"].get("sink_resolved_interactions", 0) >= 1000, 120, "some progress"
    )
    worker.kill()  # SIGKILL mid-stream: no flush, no final checkpoint
    assert publisher.publish(rest).failed == []  # partners carry on while it is down
    worker.start()
    worker.wait_for(
        lambda s: (
            settings.accepted_interactions_topic in s["consumer_lag"]
            and settings.resolved_interactions_topic in s["consumer_lag"]
            and all(lag == 0 for lag in s["consumer_lag"].values())
        ),
        180,
        "the rest of the stream",
    )
    assert worker.stop() == 0
    rows = worker.query("SELECT count(), uniqExact(event_id) FROM resolved_interactions FINAL")
    assert rows == [[len(events), len(events)]]
    times = worker.query(
        "SELECT count() FROM (SELECT agency, event_id FROM resolved_interactions "
        "WHERE occurred_at IS NULL GROUP BY agency, event_id HAVING uniqExact(event_time) > 1)"
    )
    assert times == [[0]]  # a replayed event without a time kept its first event time
    published = {event.event_id for event in events}
    stored = {row[0] for row in worker.query("SELECT DISTINCT event_id FROM resolved_interactions")}
    assert stored == published


def test_a_bad_event_never_takes_its_neighbours_and_event_ids_belong_to_their_agency(
    pipeline_settings, worker
):
    """Found by the security review: an event from year 1 crashed resolution and the events
    after it were never stored; a police event with an id the fire service had used was
    answered "accepted" and never stored. Both through the real broker and ClickHouse."""
    from datetime import UTC, datetime

    settings = pipeline_settings
    run = uuid.uuid4().hex[:6]
    shared_id = f"{run}-1"
    fire = _event(shared_id, at="2026-04-05T20:00:00Z")
    police = _event(
        shared_id,
        agency="POLICE",
        system="Niche",
        event_type="DOMESTIC_ABUSE_INCIDENT",
        given="Lena",
        family="Marsh",
        at="2026-04-05T21:00:00Z",
    )
    neighbours = [_event(f"{run}-n{i}", at=f"2026-04-0{i + 6}T10:00:00Z") for i in range(3)]
    year_one = _event(f"{run}-bad", at="2026-04-06T09:00:00Z").to_record()
    year_one["occurred_at"] = datetime(1, 1, 1, tzinfo=UTC)  # "no date" in many systems
    blank = _event(f"{run}-blank", at="2026-04-06T09:30:00Z").to_record()
    blank["subject"] = {"gender": "U", "address": {"line1": None}}

    worker.start()
    publisher = InteractionPublisher(settings)
    producer = make_producer(settings)
    assert publisher.publish([fire]).failed == []
    for record in (year_one, blank):
        producer.produce(settings.interactions_topic, value=codec(INTERACTION).encode(record))
    assert producer.flush(30) == 0
    assert publisher.publish([*neighbours, police]).failed == []
    status = worker.wait_for(
        lambda s: (
            s["counts"].get("resolved", 0) == 5
            and s["counts"].get("sink_resolved_interactions", 0) >= 5
            and s["counts"].get("sink_dead_letters", 0) == 2
        ),
        60,
        "the good events resolved and the bad dead-lettered",
    )
    assert status["counts"].get("duplicates", 0) == 0
    letters = [
        decode_dead_letter(m.value()) for m in read_topic(settings, settings.dead_letter_topic)
    ]
    assert sorted(letter["field"] for letter in letters) == ["occurred_at", "subject"]

    # The partner corrects the date and sends the refused event again: it is stored.
    corrected = _event(f"{run}-bad", at="2026-04-06T09:00:00Z")
    assert publisher.publish([corrected]).failed == []
    worker.wait_for(
        lambda s: s["counts"].get("sink_resolved_interactions", 0) >= 6, 60, "the corrected event"
    )
    assert worker.stop() == 0

    stored = worker.query(
        "SELECT agency, event_type, family_name FROM resolved_interactions FINAL "
        f"WHERE event_id = '{shared_id}' ORDER BY agency"
    )
    assert stored == [
        ["FIRE", "FIRE_ATTENDANCE", "Kestrel"],
        ["POLICE", "DOMESTIC_ABUSE_INCIDENT", "Marsh"],
    ]
    ids = {row[0] for row in worker.query("SELECT DISTINCT event_id FROM resolved_interactions")}
    assert {f"{run}-n0", f"{run}-n1", f"{run}-n2", f"{run}-bad"} <= ids
    keys = worker.query(
        f"SELECT DISTINCT agency FROM person_keys WHERE event_id = '{shared_id}' ORDER BY agency"
    )
    assert keys == [["FIRE"], ["POLICE"]]
