"""Stewards' corrections in the pipeline without Kafka: validation forwards a correction to
the accepted log under its header; resolution applies it in order with the events, publishes
the split, and never merges the two again; a replay of the same log reaches the same state;
a correction that cannot be applied is a dead letter and the stage goes on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mast_core.avro import ACCEPTED_BATCH, CORRECTION, IDENTITY_MERGE, IDENTITY_SPLIT, codec
from mast_core.events import encode_interaction
from mast_core.settings import Settings
from messaging.dead_letters import decode_dead_letter
from stream_processors.corrections import CORRECTION_HEADER, CORRECTION_MARK
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import ResolutionStage
from tests.factories import bridge_trio, person_event
from tests.unit.stream.recording import RecordingPublisher

RECEIVED = 1_775_250_000.0
HEADERS = [(CORRECTION_HEADER, CORRECTION_MARK)]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(environment="test", state_dir=tmp_path)


def _batch(*events) -> bytes:
    return codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(e) for e in events]})


def _correction(**fields: Any) -> bytes:
    record = {
        "correction_id": "C1",
        "kind": "SPLIT",
        "person_id": "P?",
        "merge_ids": [],
        "other_person_id": None,
        "dispute_id": "D1",
        "decided_by_organisation": "PARTNERSHIP",
        "decided_at": datetime(2026, 4, 4, tzinfo=UTC),
        **fields,
    }
    return codec(CORRECTION).encode(record)


def _merged(settings: Settings) -> tuple[Pipeline, RecordingPublisher, dict[str, Any]]:
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    pipeline.resolve(_batch(*bridge_trio()), 0, RECEIVED)
    (merge,) = [
        codec(IDENTITY_MERGE).decode(v) for v in publisher.on(settings.identity_merges_topic)
    ]
    return pipeline, publisher, merge


def test_validation_forwards_a_correction_under_its_header(settings):
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, None, publisher)  # type: ignore[arg-type]
    good = _correction(merge_ids=["M1"])
    assert (
        pipeline.forward_corrections([(good, "corrections", 0, 0), (b"junk", "corrections", 0, 1)])
        == 1
    )
    (forwarded,) = publisher.on(settings.accepted_interactions_topic)
    assert forwarded == good
    assert publisher.headers[0] == HEADERS
    (letter,) = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert letter["source_offset"] == 1


def test_a_split_restores_the_retired_person_and_holds(settings):
    pipeline, publisher, merge = _merged(settings)
    stage = pipeline.stage
    assert stage is not None
    resolver = stage.resolver
    retired, surviving = merge["retired_person_id"], merge["surviving_person_id"]
    assert resolver.person_of(retired) == surviving

    correction = _correction(person_id=surviving, merge_ids=[merge["merge_id"]])
    pipeline.resolve(correction, 1, RECEIVED + 60, HEADERS)
    (split,) = [
        codec(IDENTITY_SPLIT).decode(v) for v in publisher.on(settings.identity_splits_topic)
    ]
    assert (split["merge_id"], split["restored_person_id"]) == (merge["merge_id"], retired)
    assert split["surviving_person_id"] == surviving and split["moved_records"] == 1
    assert resolver.person_of(retired) == retired
    assert stage.next_offset == 2

    # the record that bridged them, sent again by another system, no longer joins them
    again = person_event(
        agency="CHILDREN_SOCIAL_CARE", record="C-9", nhs="9434765919", event_id="d"
    )
    pipeline.resolve(_batch(again), 2, RECEIVED + 120)
    assert resolver.person_of(retired) == retired
    assert resolver.person_of(surviving) == surviving
    assert len(publisher.on(settings.identity_merges_topic)) == 1


def test_a_replay_of_the_log_reaches_the_same_state(settings):
    first, first_out, merge = _merged(settings)
    correction = _correction(person_id=merge["surviving_person_id"], merge_ids=[merge["merge_id"]])
    first.resolve(correction, 1, RECEIVED + 60, HEADERS)
    second, second_out, _merge = _merged(settings)
    second.resolve(correction, 1, RECEIVED + 60, HEADERS)
    assert first_out.sent == second_out.sent
    # and a replay that meets the correction again (offset already done) changes nothing
    second.resolve(correction, 1, RECEIVED + 60, HEADERS)
    assert first_out.sent == second_out.sent


def test_a_correction_that_cannot_be_applied_is_a_dead_letter(settings):
    pipeline, publisher, _merge = _merged(settings)
    pipeline.resolve(_correction(merge_ids=["Mnothing"]), 1, RECEIVED + 60, HEADERS)
    (letter,) = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert letter["reason"] == "correction_not_applied"
    assert publisher.on(settings.identity_splits_topic) == []
    # the stage goes on with the next message
    pipeline.resolve(_batch(person_event(event_id="e", given="Zora", family="Quill")), 2, RECEIVED)
    assert pipeline.stage is not None and pipeline.stage.next_offset == 3


def test_a_split_of_an_undone_merge_is_not_applied_twice(settings):
    pipeline, publisher, merge = _merged(settings)
    correction = _correction(person_id=merge["surviving_person_id"], merge_ids=[merge["merge_id"]])
    pipeline.resolve(correction, 1, RECEIVED + 60, HEADERS)
    pipeline.resolve(
        _correction(correction_id="C2", merge_ids=[merge["merge_id"]]), 2, RECEIVED + 90, HEADERS
    )
    assert len(publisher.on(settings.identity_splits_topic)) == 1
    (letter,) = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert "no merge" in letter["detail"]  # undone merges are forgotten


def test_the_same_correction_published_twice_is_applied_once(settings):
    pipeline, publisher, merge = _merged(settings)
    correction = _correction(person_id=merge["surviving_person_id"], merge_ids=[merge["merge_id"]])
    pipeline.resolve(correction, 1, RECEIVED + 60, HEADERS)
    pipeline.resolve(correction, 2, RECEIVED + 61, HEADERS)  # the API's retry after a lost ack
    assert len(publisher.on(settings.identity_splits_topic)) == 1
    assert publisher.on(settings.dead_letter_topic) == []


def test_a_split_detaches_a_record_linked_directly_and_replays_the_same(settings):
    """The bridging record linked to the survivor directly: detaching it publishes the merge
    it bridged undone and a detach naming it, and a replay publishes the same."""
    outputs = []
    for _run in range(2):
        pipeline, publisher, merge = _merged(settings)
        surviving = merge["surviving_person_id"]
        records = [{"agency": "POLICE", "event_id": "c"}]
        correction = _correction(person_id=surviving, records=records)
        pipeline.resolve(correction, 1, RECEIVED + 60, HEADERS)
        splits = [
            codec(IDENTITY_SPLIT).decode(v) for v in publisher.on(settings.identity_splits_topic)
        ]
        outputs.append(publisher.sent)
        assert [s["merge_id"] for s in splits] == [merge["merge_id"], ""]
        detach = splits[1]
        assert detach["detached"] == records and detach["surviving_person_id"] == surviving
        resolver = pipeline.stage.resolver  # type: ignore[union-attr]
        assert resolver.person_of(detach["restored_person_id"]) == detach["restored_person_id"]
        assert publisher.on(settings.dead_letter_topic) == []
    assert outputs[0] == outputs[1]


def test_a_detach_naming_nothing_the_resolver_knows_is_a_dead_letter(settings):
    pipeline, publisher, merge = _merged(settings)
    records = [{"agency": "FIRE", "event_id": "nowhere"}]
    correction = _correction(person_id=merge["surviving_person_id"], records=records)
    pipeline.resolve(correction, 1, RECEIVED + 60, HEADERS)
    (letter,) = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert letter["reason"] == "correction_not_applied"
    assert "nowhere" not in letter["detail"]  # ids of partners' events are not repeated
