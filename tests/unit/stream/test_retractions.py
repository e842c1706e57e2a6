"""Partners' retractions in the pipeline without Kafka: resolution applies a retraction in
order with the events, publishes the retraction (ids only) and the splits of the merges the
record bridged; a correction's own record is resolved as an event; a retraction sent again
changes nothing; one naming an unknown event, or another agency's, is a dead letter and the
stage goes on; a replay of the same log from a checkpoint publishes the same records."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mast_core.avro import (
    ACCEPTED_BATCH,
    EVENT_RETRACTION,
    IDENTITY_MERGE,
    IDENTITY_SPLIT,
    RESOLVED_INTERACTION,
    codec,
)
from mast_core.events import InteractionEvent, encode_interaction, parse_event
from mast_core.settings import Settings
from messaging.dead_letters import decode_dead_letter
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import ResolutionStage
from tests.factories import bridge_trio, person_event
from tests.unit.stream.recording import RecordingPublisher

RECEIVED = 1_775_250_000.0


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(environment="test", state_dir=tmp_path)


def _batch(*events: InteractionEvent) -> bytes:
    return codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(e) for e in events]})


def _retraction(event_id: str, agency: str, target: str, **subject: Any) -> InteractionEvent:
    return parse_event(
        {"event_id": event_id, "agency": agency, "retracts_event_id": target, "subject": subject}
    )


def _on(publisher: RecordingPublisher, topic: str, record: str) -> list[dict[str, Any]]:
    return [codec(record).decode(value) for value in publisher.on(topic)]


def _log() -> list[bytes]:
    a, b, c = bridge_trio()
    mistaken = person_event(given="Mabyn", family="Ashdown", agency="FIRE", event_id="f1")
    return [
        _batch(a, b, c, mistaken),
        _batch(
            _retraction("c-x", "POLICE", "c"),  # the bridge withdrawn
            _retraction(
                "f1-c",
                "FIRE",
                "f1",
                given_name="Mabel",
                family_name="Ashdown",
                date_of_birth="1957-02-13",
            ),
            _retraction("u-x", "HOUSING", "never-sent"),
            _retraction("p-x", "POLICE", "a"),  # health's event: the police cannot name it
            _retraction("c-x", "POLICE", "c"),  # sent again
        ),
    ]


def test_a_retraction_undoes_the_bridge_and_a_correction_replaces_its_record(settings):
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    for offset, message in enumerate(_log()):
        pipeline.resolve(message, offset, RECEIVED + offset)

    (merge,) = _on(publisher, settings.identity_merges_topic, IDENTITY_MERGE)
    retractions = _on(publisher, settings.retractions_topic, EVENT_RETRACTION)
    assert [(r["agency"], r["retracted_event_id"], r["kind"]) for r in retractions] == [
        ("POLICE", "c", "WITHDRAWN"),
        ("FIRE", "f1", "CORRECTED"),
    ]
    assert retractions[0]["merge_ids_undone"] == [merge["merge_id"]]
    (split,) = _on(publisher, settings.identity_splits_topic, IDENTITY_SPLIT)
    assert split["merge_id"] == merge["merge_id"]
    assert split["correction_id"] == retractions[0]["retraction_id"]
    assert json.dumps(retractions, default=str).count("Mabyn") == 0  # ids only
    resolved = _on(publisher, settings.resolved_interactions_topic, RESOLVED_INTERACTION)
    corrected = resolved[-1]
    assert corrected["interaction"]["event_id"] == "f1-c"
    assert corrected["interaction"]["retracts_event_id"] == "f1"
    assert corrected["interaction"]["subject"]["given_name"] == "Mabel"
    letters = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert [d["reason"] for d in letters] == ["retraction_not_applied"] * 2
    stage = pipeline.stage
    assert stage is not None
    resolver = stage.resolver
    assert resolver.person_of(merge["retired_person_id"]) == merge["retired_person_id"]
    assert stage.duplicates == 1  # the retraction sent again


def test_a_replay_from_a_checkpoint_publishes_the_same_records(settings, tmp_path):
    log = _log()
    first = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), first)  # type: ignore[arg-type]
    pipeline.resolve(log[0], 0, RECEIVED)
    stage = pipeline.stage
    assert stage is not None
    stage.save(tmp_path / "checkpoint")
    pipeline.resolve(log[1], 1, RECEIVED + 1)

    again = RecordingPublisher()  # a worker restarted from the checkpoint
    restarted = Pipeline(settings, ResolutionStage.load(tmp_path / "checkpoint"), again)  # type: ignore[arg-type]
    restarted.resolve(log[1], 1, RECEIVED + 1)
    for topic in (settings.retractions_topic, settings.identity_splits_topic):
        assert again.on(topic) == first.on(topic)
        assert again.on(topic)
    assert (
        again.on(settings.resolved_interactions_topic)
        == first.on(settings.resolved_interactions_topic)[-1:]
    )


def _observed(stage: ResolutionStage, agency: str, event_id: str) -> bool:
    return any(
        seen.event_id == event_id and seen.agency == agency
        for timeline in stage.engine.timelines.values()
        for seen in timeline
    )


def test_escalation_no_longer_counts_a_withdrawn_event(settings):
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    log = _log()
    pipeline.resolve(log[0], 0, RECEIVED)
    stage = pipeline.stage
    assert stage is not None
    assert _observed(stage, "POLICE", "c") and _observed(stage, "FIRE", "f1")
    pipeline.resolve(log[1], 1, RECEIVED + 1)
    assert not _observed(stage, "POLICE", "c") and not _observed(stage, "FIRE", "f1")
    assert _observed(stage, "FIRE", "f1-c")  # the correction counts in its place
