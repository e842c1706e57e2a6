"""Alerts after a split, through the pipeline without Kafka: the resolution stage applies a
steward's split to the escalation engine too, and publishes the alert one person's own
records still meet, raised anew under a new id; a replay of the same log publishes the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mast_core.avro import ACCEPTED_BATCH, ALERT, CORRECTION, IDENTITY_MERGE, codec
from mast_core.events import encode_interaction
from mast_core.settings import Settings
from stream_processors.corrections import CORRECTION_HEADER, CORRECTION_MARK
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import ResolutionStage
from tests.correction_cases import split_alert_case
from tests.unit.stream.recording import RecordingPublisher

RECEIVED = 1_775_250_000.0


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(environment="test", state_dir=tmp_path)


def _run(settings: Settings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The case's events one message each, then the split of their merge: every alert
    published, in order, and the merge."""
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    for offset, event in enumerate(split_alert_case()):
        batch = codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(event)]})
        pipeline.resolve(batch, offset, RECEIVED + offset)
    (merge,) = [
        codec(IDENTITY_MERGE).decode(v) for v in publisher.on(settings.identity_merges_topic)
    ]
    correction = {
        "correction_id": "C1",
        "kind": "SPLIT",
        "person_id": merge["surviving_person_id"],
        "merge_ids": [merge["merge_id"]],
        "other_person_id": None,
        "dispute_id": "D1",
        "decided_by_organisation": "PARTNERSHIP",
        "decided_at": datetime(2026, 4, 4, tzinfo=UTC),
    }
    pipeline.resolve(
        codec(CORRECTION).encode(correction),
        10,
        RECEIVED + 3600,
        [(CORRECTION_HEADER, CORRECTION_MARK)],
    )
    alerts = [codec(ALERT).decode(v) for v in publisher.on(settings.alerts_topic)]
    return alerts, merge


def test_a_split_raises_again_the_alert_one_persons_records_meet(settings):
    alerts, merge = _run(settings)
    merged, again = alerts
    assert merged["subject_id"] == again["subject_id"] == merge["surviving_person_id"]
    assert sorted(merged["evidence_event_ids"]) == ["a", "b", "b2", "d"]  # two people's
    assert sorted(again["evidence_event_ids"]) == ["a", "c", "d"]  # the survivor's own
    assert again["alert_id"] != merged["alert_id"]
    assert "raised after a correction" in again["summary"]
    assert again["raised_at"] == datetime.fromtimestamp(RECEIVED + 3600, UTC)


def test_a_replay_publishes_the_same_alerts(settings, tmp_path):
    first, _ = _run(settings)
    second, _ = _run(Settings(environment="test", state_dir=tmp_path / "again"))
    assert first == second
