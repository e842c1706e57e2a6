"""The resolution stage publishes its resolver's linkage parameter set whenever it changes:
with the first event, with the event after which a re-estimate put a new set in force, once
more at start-up from a restored state, and never twice for one set in a row; stamped with
the event's received time, so a replay publishes the same bytes. Pure: no Kafka (a recording
publisher stands in), no ClickHouse."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from mast_core.escalation import EscalationEngine
from mast_core.escalation.rules import load_rules
from mast_core.linkage.learning import LearningSchedule
from mast_core.linkage.parameters import Parameters
from mast_core.linkage.resolver import Resolver
from mast_core.seen_events import SeenEvents
from mast_core.settings import Settings
from messaging.parameter_sets import (
    UnreadableParameterSet,
    decode_parameter_set,
    encode_parameter_set,
    timestamp_ms,
)
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import LogClock, ResolutionStage
from tests.factories import accepted_batch, event_dict, person_event
from tests.unit.stream.recording import RecordingPublisher

RECEIVED = datetime(2026, 4, 3, 21, 0, 0, 123000, tzinfo=UTC)


def _shifted(parameters: Parameters, bits: float) -> Parameters:
    return dataclasses.replace(parameters, prior_weight=parameters.prior_weight + bits)


def _relearn_to(stage: ResolutionStage, parameters: Parameters) -> None:
    """What ``Resolver.relearn`` does to the set in force, without the learner."""
    stage.resolver.parameters = parameters
    stage.resolver.scorer.use(parameters)


def test_the_first_event_publishes_the_starting_set_and_an_unchanged_set_is_not_repeated():
    stage = ResolutionStage.fresh()
    first = stage.process(person_event(event_id="a"), RECEIVED)
    assert first is not None and first.parameters is not None
    shipped = Parameters.default()
    assert first.parameters == {
        "version": shipped.version,
        "published_at": RECEIVED,
        "parameters": shipped.to_dict(),
    }
    later = [
        stage.process(person_event(event_id=f"b-{n}"), RECEIVED + timedelta(seconds=n))
        for n in range(3)
    ]
    assert [output.parameters for output in later if output] == [None, None, None]


def test_a_changed_set_is_published_once_with_the_received_time_of_its_event():
    stage = ResolutionStage.fresh()
    stage.process(person_event(event_id="a"), RECEIVED)
    learnt = _shifted(stage.resolver.parameters, -1.5)
    _relearn_to(stage, learnt)
    changed_at = RECEIVED + timedelta(minutes=5)
    output = stage.process(person_event(event_id="b"), changed_at)
    assert output is not None and output.parameters is not None
    assert output.parameters["version"] == learnt.version != Parameters.default().version
    assert output.parameters["published_at"] == changed_at
    assert Parameters.from_dict(output.parameters["parameters"]).version == learnt.version
    after = stage.process(person_event(event_id="c"), changed_at + timedelta(minutes=1))
    assert after is not None and after.parameters is None
    # back to a set published before: it is in force again, so it is published again
    _relearn_to(stage, Parameters.default())
    again = stage.process(person_event(event_id="d"), changed_at + timedelta(minutes=2))
    assert again is not None and again.parameters is not None
    assert again.parameters["version"] == Parameters.default().version


def test_a_re_sent_event_publishes_nothing():
    stage = ResolutionStage.fresh()
    event = person_event(event_id="a")
    stage.process(event, RECEIVED)
    _relearn_to(stage, _shifted(stage.resolver.parameters, 2.0))
    assert stage.process(event, RECEIVED) is None  # the change waits for the next new event
    output = stage.process(person_event(event_id="b"), RECEIVED)
    assert output is not None and output.parameters is not None


def test_a_real_re_estimate_is_published_with_the_event_that_caused_it():
    clock, seen = LogClock(), SeenEvents()
    resolver = Resolver(learning=LearningSchedule(first_after=40, min_training_pairs=1))
    stage = ResolutionStage(resolver, EscalationEngine(load_rules(), clock, seen), clock, seen)
    people = [("Ann", "Kestrel", "1980-01-02"), ("Bob", "Ledger", "1975-03-04")]
    published: list[tuple[int, str]] = []
    in_force: list[tuple[int, str]] = []  # each set the resolver held, from the event it began
    for n in range(60):
        given, family, dob = people[n % 2]
        output = stage.process(
            person_event(given=given, family=family, dob=dob, event_id=f"s-{n}"),
            RECEIVED + timedelta(seconds=n),
        )
        assert output is not None
        if not in_force or in_force[-1][1] != resolver.parameters.version:
            in_force.append((n, resolver.parameters.version))
        if output.parameters is not None:
            assert output.parameters["published_at"] == RECEIVED + timedelta(seconds=n)
            published.append((n, output.parameters["version"]))
    assert resolver.stats.relearnt >= 1
    assert published[0] == (0, Parameters.default().version)
    assert published == in_force  # every change, with its event; nothing else
    assert len(published) >= 2  # the estimates here did move the set (the learner is seeded)


def test_the_restored_set_is_published_again_at_start_up_as_it_was(tmp_path):
    stage = ResolutionStage.fresh()
    assert stage.published_parameters() is None  # a fresh state waits for its first event
    first = stage.process(person_event(event_id="a"), RECEIVED)
    assert first is not None
    path = tmp_path / "stage.checkpoint"
    stage.save(path)
    restored = ResolutionStage.load(path)
    assert restored.published_parameters() == first.parameters
    nothing_new = restored.process(person_event(event_id="b"), RECEIVED + timedelta(hours=1))
    assert nothing_new is not None and nothing_new.parameters is None


def test_a_checkpoint_from_before_sets_were_published_publishes_with_its_next_event(tmp_path):
    stage = ResolutionStage.fresh()
    stage.process(person_event(event_id="a"), RECEIVED)
    del stage.published_version, stage.published_at  # as an older stage pickled itself
    path = tmp_path / "stage.checkpoint"
    stage.save(path)
    restored = ResolutionStage.load(path)
    assert restored.published_parameters() is None
    later = RECEIVED + timedelta(days=1)
    output = restored.process(person_event(event_id="b"), later)
    assert output is not None and output.parameters is not None
    assert output.parameters["published_at"] == later


def test_the_pipeline_puts_sets_on_their_topic_keyed_by_version(tmp_path):
    settings = Settings(environment="test", state_dir=tmp_path)
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    pipeline.announce_parameters()  # fresh: nothing to announce yet
    assert publisher.messages(settings.linkage_parameters_topic) == []
    received_s = RECEIVED.timestamp()
    pipeline.resolve(accepted_batch(event_dict(event_id="p-1")), 0, received_s)
    pipeline.resolve(accepted_batch(event_dict(event_id="p-2")), 1, received_s + 1)
    sent = publisher.messages(settings.linkage_parameters_topic)
    assert len(sent) == 1
    value, key, stamp = sent[0]
    version = Parameters.default().version
    assert key == version.encode()
    assert stamp == int(received_s * 1000)
    stored = decode_parameter_set(value)
    assert stored["version"] == version
    assert stored["published_at"] == RECEIVED
    assert Parameters.from_dict(json.loads(stored["body"])).version == version
    # a restart from this state announces the same message again
    assert pipeline.stage is not None
    path = tmp_path / "stage.checkpoint"
    pipeline.stage.save(path)
    restarted = RecordingPublisher()
    Pipeline(settings, ResolutionStage.load(path), restarted).announce_parameters()  # type: ignore[arg-type]
    assert restarted.messages(settings.linkage_parameters_topic) == sent


def test_the_wire_form_is_deterministic_and_refuses_what_is_not_a_set():
    parameters = Parameters.default()
    record = {
        "version": parameters.version,
        "published_at": RECEIVED,
        "parameters": parameters.to_dict(),
    }
    assert encode_parameter_set(record) == encode_parameter_set(dict(record))
    assert timestamp_ms(record) == 1_775_250_000_123
    assert b'"published_at":"2026-04-03T21:00:00.123Z"' in encode_parameter_set(record)
    for junk in (
        b"\xc3\x01 not json",
        b"[]",
        b'"text"',
        b"{}",
        b'{"version": "", "published_at": "2026-04-03T21:00:00Z", "parameters": {}}',
        b'{"version": "v1", "published_at": "2026-04-03T21:00:00", "parameters": {}}',
        b'{"version": "v1", "published_at": "yesterday", "parameters": {}}',
        b'{"version": "v1", "published_at": "2026-04-03T21:00:00Z", "parameters": []}',
    ):
        with pytest.raises(UnreadableParameterSet):
            decode_parameter_set(junk)
