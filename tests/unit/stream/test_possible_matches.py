"""Possible matches through the pipeline without Kafka: the resolution stage publishes the
record it kept for review beside the identity it may be (ids, score, evidence: no personal
data); a steward's CONFIRM_MATCH is an ordinary explained merge, published like any, and the
same log replayed publishes the same; MARK_DIFFERENT is lasting (a confirmation after it is
refused to the dead-letter topic)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mast_core.avro import (
    ACCEPTED_BATCH,
    CORRECTION,
    IDENTITY_MERGE,
    POSSIBLE_MATCH,
    codec,
)
from mast_core.events import encode_interaction
from mast_core.linkage.parameters import Parameters
from mast_core.settings import Settings
from messaging.dead_letters import decode_dead_letter
from stream_processors.corrections import CORRECTION_HEADER, CORRECTION_MARK
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import ResolutionStage
from tests.correction_cases import possible_match_case
from tests.unit.stream.recording import RecordingPublisher

RECEIVED = 1_775_250_000.0
HEADERS = [(CORRECTION_HEADER, CORRECTION_MARK)]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(environment="test", state_dir=tmp_path)


def _kept_for_review(settings: Settings) -> tuple[Pipeline, RecordingPublisher, dict[str, Any]]:
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    for offset, event in enumerate(possible_match_case()):
        batch = codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(event)]})
        pipeline.resolve(batch, offset, RECEIVED + offset)
    (possible,) = [
        codec(POSSIBLE_MATCH).decode(v) for v in publisher.on(settings.possible_matches_topic)
    ]
    return pipeline, publisher, possible


def _correct(pipeline: Pipeline, offset: int, kind: str, possible: dict[str, Any]) -> None:
    correction = {
        "correction_id": f"C-{kind}",
        "kind": kind,
        "person_id": possible["person_id"],
        "merge_ids": [],
        "other_person_id": possible["candidate_person_id"],
        "dispute_id": possible["possible_id"],
        "decided_by_organisation": "PARTNERSHIP",
        "decided_at": datetime(2026, 4, 4, tzinfo=UTC),
    }
    pipeline.resolve(codec(CORRECTION).encode(correction), offset, RECEIVED + 60, HEADERS)


def test_the_record_kept_for_review_is_published_with_its_evidence(settings):
    _pipeline, _publisher, possible = _kept_for_review(settings)
    assert possible["possible_id"].startswith("Q") and len(possible["possible_id"]) == 17
    assert (possible["agency"], possible["event_id"]) == ("POLICE", "pm-2")
    assert possible["person_id"] != possible["candidate_person_id"]
    parameters = Parameters.default()  # under the match threshold, over the review one
    assert parameters.review_threshold <= possible["match_weight"] < parameters.match_threshold
    fields = {c["field"] for c in possible["evidence"]}
    assert {"given_name", "family_name", "date_of_birth", "gender"} <= fields
    # ids, scores and levels only: no name, birth date or address in the record
    assert "Thornbury" not in repr(possible) and "1957" not in repr(possible)


def test_a_confirmed_match_is_an_explained_merge_and_a_replay_makes_the_same(settings, tmp_path):
    def run(where: Settings) -> dict[str, Any]:
        pipeline, publisher, possible = _kept_for_review(where)
        _correct(pipeline, 5, "CONFIRM_MATCH", possible)
        (merge,) = [
            codec(IDENTITY_MERGE).decode(v) for v in publisher.on(where.identity_merges_topic)
        ]
        stage = pipeline.stage
        assert stage is not None
        assert stage.resolver.person_of(possible["person_id"]) == stage.resolver.person_of(
            possible["candidate_person_id"]
        )
        assert {merge["surviving_person_id"], merge["retired_person_id"]} == {
            possible["person_id"],
            possible["candidate_person_id"],
        }
        assert merge["triggered_by_event_id"] is None  # a steward's decision, not an event
        assert {c["field"] for c in merge["evidence"]} >= {"given_name", "date_of_birth"}
        assert merge["merged_at"] == datetime.fromtimestamp(RECEIVED + 60, UTC)
        return merge

    first = run(settings)
    again = run(Settings(environment="test", state_dir=tmp_path / "again"))
    assert first == again


def test_marked_different_is_lasting(settings):
    pipeline, publisher, possible = _kept_for_review(settings)
    _correct(pipeline, 5, "MARK_DIFFERENT", possible)
    _correct(pipeline, 6, "CONFIRM_MATCH", possible)  # a later confirmation cannot undo it
    assert publisher.on(settings.identity_merges_topic) == []
    (letter,) = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert letter["reason"] == "correction_not_applied"
