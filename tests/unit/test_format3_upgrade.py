"""A deployed resolver upgraded to the MAST that keeps retractions resumes from its
checkpoint: a resolution-stage checkpoint and a resolver state written by the MAST before
(resolver state format 3, ``tests/fixtures/make_format3_checkpoint.py`` made them with that
MAST's own code) load, go on resolving and alerting, retract events resolved after the
upgrade, and refuse, with a reason that says so, a retraction of an event resolved before it.
A replay from 0 is not needed, which matters when the accepted log is not kept for ever
(``MAST_RESOLUTION_LOG_RETENTION_DAYS``)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mast_core.avro import ACCEPTED_BATCH, EVENT_RETRACTION, codec
from mast_core.events import InteractionEvent, encode_interaction, event_key, parse_event
from mast_core.linkage.resolver import STATE_FORMAT, Resolver, ResolverError
from mast_core.linkage.retraction import BEFORE_UPGRADE, RetractionRefused
from mast_core.settings import Settings
from mast_core.state_files import read_state, write_state
from messaging.dead_letters import decode_dead_letter
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import CheckpointError, ResolutionStage
from tests.factories import person_event
from tests.unit.stream.recording import RecordingPublisher

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECEIVED = 1_775_500_000.0
"""After the fixture's events (received 5 April 2026)."""


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    path = tmp_path / "stage.checkpoint"
    shutil.copy(FIXTURES / "format3_checkpoint.pickle", path)
    version, state = read_state(path)
    assert (version, state["_resolver_state_format"]) == (3, 3)  # the old layout indeed
    assert "retractions" not in state["resolver"].__dict__
    return path


def _batch(*events: InteractionEvent) -> bytes:
    return codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(e) for e in events]})


def _retraction(event_id: str, agency: str, target: str) -> InteractionEvent:
    return parse_event(
        {"event_id": event_id, "agency": agency, "retracts_event_id": target, "subject": {}}
    )


def _child(event_id: str, agency: str, day: int) -> InteractionEvent:
    """Another record of the fixture's child (Oliver Quennell, 4 Birch Row)."""
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "occurred_at": f"2026-04-{day:02d}T10:00:00Z",
            "subject": {
                "given_name": "Oliver",
                "family_name": "Quennell",
                "date_of_birth": "2015-06-01",
                "gender": "M",
                "address": {"line1": "4 Birch Row", "town": "Walsall", "postcode": "WS2 8QQ"},
            },
        }
    )


def test_a_format3_checkpoint_resumes_and_refuses_to_retract_what_came_before(checkpoint, tmp_path):
    stage = ResolutionStage.load(checkpoint)
    assert stage.next_offset == 6
    assert stage.resolver.retractions.upgraded
    child = stage.resolver.person_of(stage.resolver.identities[-1].person_id)
    settings = Settings(environment="test", state_dir=tmp_path)
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, stage, publisher)  # type: ignore[arg-type]

    later = person_event(agency="FIRE", nhs="9434765919", event_id="f-new")  # joins a, b, c
    pipeline.resolve(_batch(later, _child("k4", "FIRE", 4)), 6, RECEIVED)
    assert stage.next_offset == 7
    assert stage.resolver.person_of(stage.resolver.identities[0].person_id)
    pipeline.resolve(
        _batch(
            _retraction("c-x", "POLICE", "c"),  # resolved before the upgrade
            _retraction("f-x", "FIRE", "f-new"),  # resolved after it
            _retraction("n-x", "POLICE", "never-sent"),
        ),
        7,
        RECEIVED + 1,
    )

    letters = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert [d["reason"] for d in letters] == ["retraction_not_applied"] * 2
    details = [str(d) for d in letters]
    assert "resolved before this MAST began keeping" in details[0]
    assert "upgrade" in details[1] and "resolved before this MAST began" not in details[1]
    retractions = [
        codec(EVENT_RETRACTION).decode(v) for v in publisher.on(settings.retractions_topic)
    ]
    assert [r["retracted_event_id"] for r in retractions] == ["f-new"]
    # the engine, restored from the old layout, still keeps the child and its alert period
    assert stage.engine.people[child].is_child(datetime(2026, 4, 4, tzinfo=UTC))
    assert stage.engine.fired


def test_the_resolver_refuses_an_event_from_before_the_upgrade_with_the_reason(checkpoint):
    stage = ResolutionStage.load(checkpoint)
    state = stage.resolver.retractions
    with pytest.raises(RetractionRefused, match="resolved before this MAST began keeping"):
        state.refuse_if_before_upgrade(event_key("POLICE", "c"), resolved=True)
    state.refuse_if_before_upgrade(
        event_key("POLICE", "never-sent"), resolved=False
    )  # not this reason
    assert BEFORE_UPGRADE.startswith("the event named was resolved before")


def test_the_resolution_checkpoint_saved_again_is_the_new_format(checkpoint, tmp_path):
    stage = ResolutionStage.load(checkpoint)
    stage.process(person_event(agency="HOUSING", event_id="h-1"))
    path = tmp_path / "again.checkpoint"
    stage.save(path)
    _version, state = read_state(path)
    assert state["_resolver_state_format"] == STATE_FORMAT
    again = ResolutionStage.load(path)
    assert again.resolver.retractions.upgraded  # still cannot retract the older events
    assert again.resolver.retractions.knows(event_key("HOUSING", "h-1"))


def test_a_format3_resolver_state_loads(tmp_path):
    path = tmp_path / "resolver.state"
    shutil.copy(FIXTURES / "format3_resolver.pickle", path)
    resolver = Resolver.load(path)
    assert resolver.retractions.upgraded
    event = person_event(agency="HEALTH", nhs="9434765919", dob=None, event_id="a2")
    resolution = resolver.resolve(event)
    assert resolver.retract(event.key).person_id == resolution.person_id
    with pytest.raises(RetractionRefused, match="upgrade"):
        resolver.retract(event_key("HEALTH", "a"))


def test_older_formats_are_still_refused(tmp_path):
    path = tmp_path / "resolver.state"
    write_state(path, 2, {})
    with pytest.raises(ResolverError, match="format 2"):
        Resolver.load(path)
    stage_path = tmp_path / "stage.checkpoint"
    shutil.copy(FIXTURES / "format3_checkpoint.pickle", stage_path)
    version, state = read_state(stage_path)
    state["_resolver_state_format"] = 2
    write_state(stage_path, version, state)
    with pytest.raises(CheckpointError, match="resolver state 2"):
        ResolutionStage.load(stage_path)
