"""A partner's retraction reaches escalation through the pipeline (no Kafka): a withdrawn
children's social care CASE_OPENED no longer makes a child live at the address, so a police
domestic-abuse incident there afterwards raises nothing; a withdrawn record that was
evidence for a person alert has the alert raised again, under a new id, when the records
left still meet the rule; a replay from a checkpoint publishes the same alerts."""

from __future__ import annotations

from typing import Any

import pytest

from mast_core.avro import ACCEPTED_BATCH, ALERT, codec
from mast_core.events import InteractionEvent, encode_interaction, parse_event
from mast_core.settings import Settings
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import ResolutionStage
from tests.unit.stream.recording import RecordingPublisher

RECEIVED = 1_775_250_000.0
HOME = {"line1": "4 Birch Row", "town": "Walsall", "postcode": "WS2 8QQ"}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(environment="test", state_dir=tmp_path)


def _event(event_id: str, agency: str, day: int, given: str, **extra: Any) -> InteractionEvent:
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "event_type": extra.pop("event_type", None),
            "occurred_at": f"2026-04-{day:02d}T10:00:00Z",
            "subject": {
                "given_name": given,
                "family_name": "Quennell",
                "date_of_birth": extra.pop("dob", "1980-03-04"),
                "gender": "M",
                "address": HOME,
            },
            **extra,
        }
    )


def _retraction(event_id: str, agency: str, target: str) -> InteractionEvent:
    return parse_event(
        {"event_id": event_id, "agency": agency, "retracts_event_id": target, "subject": {}}
    )


def _batch(*events: InteractionEvent) -> bytes:
    return codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(e) for e in events]})


def _alerts(publisher: RecordingPublisher, settings: Settings) -> list[dict[str, Any]]:
    return [codec(ALERT).decode(value) for value in publisher.on(settings.alerts_topic)]


def _run(settings: Settings, log: list[bytes]) -> list[dict[str, Any]]:
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    for offset, message in enumerate(log):
        pipeline.resolve(message, offset, RECEIVED + offset)
    return _alerts(publisher, settings)


CASE = _event(
    "csc-1", "CHILDREN_SOCIAL_CARE", 1, "Oliver", event_type="CASE_OPENED", case_status="OPEN"
)
INCIDENT = _event("da-1", "POLICE", 5, "Dean", event_type="DOMESTIC_ABUSE_INCIDENT")


def test_a_withdrawn_case_opened_no_longer_makes_a_child_live_there(settings):
    kept = _run(settings, [_batch(CASE), _batch(INCIDENT)])
    assert [a["rule_id"] for a in kept] == ["domestic_abuse_where_child_lives"]
    withdrawn = _run(
        settings,
        [
            _batch(CASE),
            _batch(_retraction("csc-x", "CHILDREN_SOCIAL_CARE", "csc-1")),
            _batch(INCIDENT),
        ],
    )
    assert withdrawn == []


def _three_agencies() -> list[bytes]:
    return [
        _batch(
            _event("p-1", "POLICE", 10, "Dean"),
            _event("h-1", "HEALTH", 12, "Dean"),
            _event("f-1", "FIRE", 14, "Dean"),
            _event("e-1", "EDUCATION", 16, "Dean"),
        ),
        _batch(_retraction("f-x", "FIRE", "f-1")),
    ]


def test_the_alert_is_raised_again_under_a_new_id_on_the_records_left(settings, tmp_path):
    first, again = _run(settings, _three_agencies())
    assert first["rule_id"] == again["rule_id"] == "multi_agency_contact"
    assert "f-1" in first["evidence_event_ids"] and "f-1" not in again["evidence_event_ids"]
    assert again["alert_id"] != first["alert_id"]
    assert "a partner withdrew a record" in again["summary"]


def test_and_not_when_they_do_not_meet_it(settings):
    log = _three_agencies()
    log[0] = _batch(
        _event("p-1", "POLICE", 10, "Dean"),
        _event("h-1", "HEALTH", 12, "Dean"),
        _event("f-1", "FIRE", 14, "Dean"),
    )
    (only,) = _run(settings, log)
    assert "f-1" in only["evidence_event_ids"]


def test_a_replay_from_a_checkpoint_publishes_the_same_alerts(settings, tmp_path):
    log = _three_agencies()
    first = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), first)  # type: ignore[arg-type]
    pipeline.resolve(log[0], 0, RECEIVED)
    stage = pipeline.stage
    assert stage is not None
    stage.save(tmp_path / "checkpoint")
    pipeline.resolve(log[1], 1, RECEIVED + 1)
    again = RecordingPublisher()
    restarted = Pipeline(settings, ResolutionStage.load(tmp_path / "checkpoint"), again)  # type: ignore[arg-type]
    restarted.resolve(log[1], 1, RECEIVED + 1)
    assert again.on(settings.alerts_topic) == first.on(settings.alerts_topic)[1:]
    assert again.on(settings.alerts_topic)
