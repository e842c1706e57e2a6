"""The replay promise: resolving the accepted log again publishes exactly what the first pass
published, byte for byte, because every time the stage stamps is the received time that
validation put on the log. Also: the one shared memory of seen events, and the state's
format and garbage-collector freezing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import stream_processors.pipeline as pipeline_module
from mast_core.avro import RESOLVED_INTERACTION, codec
from mast_core.events import encode_interaction, parse_event
from mast_core.settings import Settings
from mast_core.state_files import read_state, write_state
from messaging.dead_letters import decode_dead_letter
from sinks.clickhouse.writer import resolved_row
from stream_processors.pipeline import Pipeline, received_time
from stream_processors.resolution import CHECKPOINT_FORMAT, CheckpointError, ResolutionStage
from tests.factories import accepted_batch, event_dict
from tests.unit.stream.recording import RecordingPublisher

RECEIVED_S = 1_775_250_000.123
RECEIVED = datetime(2026, 4, 3, 21, 0, 0, 123000, tzinfo=UTC)


def _pipeline(
    tmp_path, stage: ResolutionStage | None = None
) -> tuple[Pipeline, RecordingPublisher]:
    publisher = RecordingPublisher()
    settings = Settings(environment="test", state_dir=tmp_path)
    return Pipeline(settings, stage or ResolutionStage.fresh(), publisher), publisher  # type: ignore[arg-type]


def _one_person(event_id: str, agency: str, **extra: Any) -> dict[str, Any]:
    return event_dict(event_id=event_id, agency=agency, source_record_id=f"{agency}-7", **extra)


def _log() -> list[bytes]:
    """Three agencies' contacts with one person within days (an alert), two without a time."""
    return [
        accepted_batch(_one_person("p-1", "POLICE", occurred_at=None)),
        accepted_batch(
            _one_person("h-1", "HEALTH", occurred_at="2026-04-02T10:00:00Z"),
            _one_person("f-1", "FIRE", occurred_at=None),
        ),
    ]


def test_the_received_time_is_the_message_timestamp_to_the_millisecond():
    assert received_time(RECEIVED_S) == RECEIVED
    assert received_time(RECEIVED_S + 1e-7) == RECEIVED  # float noise from Faust's division


def test_validation_stamps_what_it_accepts_with_one_received_time(tmp_path, monkeypatch):
    pipeline, publisher = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline_module, "now_ms", lambda: 1_775_250_000_123)
    raw = [encode_interaction(parse_event(event_dict(event_id=f"v-{n}"))) for n in range(3)]
    assert pipeline.validate([(value, "in", 0, n) for n, value in enumerate(raw)]) == 3
    stamped = [t for topic, _v, _k, t in publisher.sent if topic.endswith("interactions-accepted")]
    assert stamped == [1_775_250_000_123]


def test_a_replay_of_the_log_publishes_the_same_bytes(tmp_path):
    first, first_out = _pipeline(tmp_path)
    for offset, message in enumerate(_log()):
        first.resolve(message, offset, RECEIVED_S + offset)
    second, second_out = _pipeline(tmp_path)  # a worker that lost its state replays the log
    for offset, message in enumerate(_log()):
        second.resolve(message, offset, RECEIVED_S + offset)
    assert [m[:3] for m in first_out.sent] == [m[:3] for m in second_out.sent]
    topics = {topic for topic, *_ in first_out.sent}
    assert any(topic.endswith("alerts") for topic in topics)  # alerts (raised_at) included
    resolved = [
        codec(RESOLVED_INTERACTION).decode(value)
        for topic, value, *_ in first_out.sent
        if topic.endswith("resolved-interactions")
    ]
    untimed = next(r for r in resolved if r["interaction"]["event_id"] == "p-1")
    assert untimed["interaction"]["occurred_at"] is None  # the partner did not say, still
    assert untimed["resolved_at"] == RECEIVED
    assert resolved_row(untimed).event_time == RECEIVED  # the sorting key, the same on replay


def test_a_restored_checkpoint_replays_identically(tmp_path):
    log = _log()
    straight, straight_out = _pipeline(tmp_path)
    for offset, message in enumerate(log):
        straight.resolve(message, offset, RECEIVED_S + offset)

    crashed, crashed_out = _pipeline(tmp_path)
    crashed.resolve(log[0], 0, RECEIVED_S)
    assert crashed.stage is not None
    path = tmp_path / "stage.checkpoint"
    crashed.stage.save(path)
    resumed, resumed_out = _pipeline(tmp_path, ResolutionStage.load(path))
    for offset, message in enumerate(log):  # from the start: offset 0 is skipped as done
        resumed.resolve(message, offset, RECEIVED_S + offset)
    before_crash = len(crashed_out.sent)
    assert [m[:3] for m in resumed_out.sent] == [m[:3] for m in straight_out.sent][before_crash:]


def test_a_message_without_a_timestamp_is_dead_lettered_whole(tmp_path):
    pipeline, publisher = _pipeline(tmp_path)
    pipeline.resolve(accepted_batch(event_dict(event_id="no-time")), 0, None)
    letters = [decode_dead_letter(v) for t, v, *_ in publisher.sent if t.endswith("dead-letters")]
    assert [letter["reason"] for letter in letters] == ["no_received_time"]
    assert pipeline.stage is not None and pipeline.stage.next_offset == 1


def test_resolution_and_escalation_share_one_memory_of_events(tmp_path):
    stage = ResolutionStage.fresh()
    assert stage.seen is stage.engine.seen_events
    path = tmp_path / "stage.checkpoint"
    stage.save(path)
    restored = ResolutionStage.load(path)
    assert restored.seen is restored.engine.seen_events  # still one object after a restart
    assert restored.engine.clock is restored.clock


def test_a_failed_event_is_forgotten_by_both_so_it_can_be_sent_again(monkeypatch):
    stage = ResolutionStage.fresh()
    real_observe = stage.engine.observe

    def observe_then_fail(observation):
        real_observe(observation)  # escalation has noted the event by now
        raise RuntimeError("fault after escalation")

    monkeypatch.setattr(stage.engine, "observe", observe_then_fail)
    event = parse_event(event_dict(event_id="retry-me"))
    with pytest.raises(RuntimeError):
        stage.process(event, RECEIVED)
    assert event.key not in stage.seen
    monkeypatch.setattr(stage.engine, "observe", real_observe)
    output = stage.process(event, RECEIVED)
    assert output is not None  # neither stage nor escalation took it for a repeat
    assert stage.process(event, RECEIVED) is None


def test_a_checkpoint_of_an_older_format_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "stage.checkpoint"
    write_state(path, CHECKPOINT_FORMAT - 1, {"next_offset": 4})
    with pytest.raises(CheckpointError, match=r"format 2.*replaying the accepted-interactions log"):
        ResolutionStage.load(path)


def test_the_worker_freezes_restored_state_and_growing_state(tmp_path, monkeypatch):
    import gc

    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    path = tmp_path / "stage.checkpoint"
    ResolutionStage.fresh().save(path)
    ResolutionStage.load_or_fresh(path)
    assert frozen == [1]
    monkeypatch.setattr(pipeline_module, "FREEZE_EVERY", 2)
    pipeline, _ = _pipeline(tmp_path)
    events = [event_dict(event_id=f"g-{n}") for n in range(5)]
    pipeline.resolve(accepted_batch(*events), 0, RECEIVED_S)
    assert frozen == [1, 1, 1]  # after the 2nd and 4th events


def test_a_checkpoint_of_another_resolver_layout_is_refused(tmp_path):
    from mast_core.linkage.resolver import STATE_FORMAT

    path = tmp_path / "stage.checkpoint"
    ResolutionStage.fresh().save(path)
    version, state = read_state(path)
    state["_resolver_state_format"] = STATE_FORMAT - 2  # 3, the one before, is upgraded
    write_state(path, version, state)
    with pytest.raises(CheckpointError, match=f"resolver state {STATE_FORMAT - 2}"):
        ResolutionStage.load(path)
