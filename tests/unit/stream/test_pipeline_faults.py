"""One bad event never takes others with it: the pipeline's per-message handling without
Kafka (a recording publisher stands in for librdkafka; the stage and codecs are real)."""

from __future__ import annotations

import time

import pytest

from mast_cli.runtime import _status
from mast_core.avro import ACCEPTED_BATCH, INTERACTION, RESOLVED_INTERACTION, codec
from mast_core.events import encode_interaction, parse_event
from mast_core.settings import Settings
from messaging.dead_letters import decode_dead_letter
from stream_processors.pipeline import (
    CRASH_JOURNAL,
    CRASH_LOOP_CRASHES,
    CRASH_LOOP_WINDOW_S,
    EXIT_HALTED,
    Health,
    Pipeline,
)
from stream_processors.resolution import ResolutionStage
from tests.factories import accepted_batch, event_dict
from tests.unit.stream.recording import RecordingPublisher

RECEIVED = 1_775_250_000.0
"""An accepted-log message's Kafka timestamp (seconds, as Faust gives it)."""


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(environment="test", state_dir=tmp_path)


def _pipeline(settings: Settings) -> tuple[Pipeline, RecordingPublisher]:
    publisher = RecordingPublisher()
    pipeline = Pipeline(settings, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    return pipeline, publisher


def _resolved_ids(settings: Settings, publisher: RecordingPublisher) -> list[tuple[str, str]]:
    decoded = [
        codec(RESOLVED_INTERACTION).decode(value)
        for value in publisher.on(settings.resolved_interactions_topic)
    ]
    return [(r["interaction"]["agency"], r["interaction"]["event_id"]) for r in decoded]


def test_an_event_that_fails_to_resolve_is_dead_lettered_and_its_neighbours_resolve(
    settings, monkeypatch
):
    pipeline, publisher = _pipeline(settings)
    stage = pipeline.stage
    assert stage is not None
    real_resolve = stage.resolver.resolve

    def resolve(event):
        if event.event_id == "boom":
            raise OverflowError("date value out of range: Thornbury-Kaye")
        return real_resolve(event)

    monkeypatch.setattr(stage.resolver, "resolve", resolve)
    pipeline.resolve(
        accepted_batch(
            event_dict(event_id="before"), event_dict(event_id="boom"), event_dict(event_id="after")
        ),
        0,
        RECEIVED,
    )
    assert _resolved_ids(settings, publisher) == [("FIRE", "before"), ("FIRE", "after")]
    letters = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert [letter["reason"] for letter in letters] == ["resolution_failed"]
    assert "OverflowError" in letters[0]["detail"]
    assert "Thornbury" not in letters[0]["detail"]  # the exception's text may quote values
    assert codec(INTERACTION).decode(letters[0]["raw"])["event_id"] == "boom"
    assert stage.next_offset == 1

    # The partner sends it again once the fault is gone: it is not taken for a repeat.
    monkeypatch.setattr(stage.resolver, "resolve", real_resolve)
    pipeline.resolve(accepted_batch(event_dict(event_id="boom")), 1, RECEIVED)
    assert _resolved_ids(settings, publisher)[-1] == ("FIRE", "boom")


def test_a_validation_bug_dead_letters_one_message_and_keeps_the_batch(settings, monkeypatch):
    import stream_processors.pipeline as module

    pipeline, publisher = _pipeline(settings)
    real_decode = module.decode_interaction

    def decode(raw):
        event = real_decode(raw)
        if event.event_id == "boom":
            raise KeyError("Thornbury-Kaye")
        return event

    monkeypatch.setattr(module, "decode_interaction", decode)
    raw = [encode_interaction(parse_event(event_dict(event_id=i))) for i in ("a", "boom", "b")]
    accepted = pipeline.validate([(value, "in", 0, n) for n, value in enumerate(raw)])
    assert accepted == 2
    letters = [decode_dead_letter(v) for v in publisher.on(settings.dead_letter_topic)]
    assert [(letter["reason"], letter["source_offset"]) for letter in letters] == [
        ("validation_failed", 1)
    ]
    assert "Thornbury" not in letters[0]["detail"]


def test_an_event_id_belongs_to_its_agency(settings):
    pipeline, publisher = _pipeline(settings)
    police = event_dict(event_id="1", agency="POLICE", event_type="DOMESTIC_ABUSE_INCIDENT")
    fire = event_dict(event_id="1", agency="FIRE")
    pipeline.resolve(accepted_batch(fire, police, fire), 0, RECEIVED)
    assert _resolved_ids(settings, publisher) == [("FIRE", "1"), ("POLICE", "1")]
    assert pipeline.health.counts["duplicates"] == 1


def test_placeholder_dates_of_birth_are_kept_and_counted_per_feed(settings):
    from stream_processors import metrics

    pipeline, publisher = _pipeline(settings)
    feed = {"agency": "HOUSING", "source_system": "Tenancies-placeholder-test"}
    before = metrics.PLACEHOLDER_BIRTH_DATES.labels(*feed.values())._value.get()
    events = [
        event_dict(event_id="p1", subject={"family_name": "Kaye", "date_of_birth": "01/01/1900"}),
        event_dict(event_id="p2", subject={"family_name": "Kaye", "date_of_birth": "1957-02-13"}),
    ]
    raw = [encode_interaction(parse_event({**event, **feed})) for event in events]
    assert pipeline.validate([(value, "in", 0, n) for n, value in enumerate(raw)]) == 2
    assert pipeline.health.counts["placeholder_birth_dates"] == 1
    assert metrics.PLACEHOLDER_BIRTH_DATES.labels(*feed.values())._value.get() == before + 1
    batch = codec(ACCEPTED_BATCH).decode(publisher.on(settings.accepted_interactions_topic)[0])
    kept = codec(INTERACTION).decode(batch["events"][0])
    assert kept["subject"]["date_of_birth"] == "01/01/1900"  # kept as sent


def test_a_crash_loop_makes_the_process_not_ready():
    health = Health(running=True)
    roles = frozenset({"resolve"})
    for _ in range(CRASH_LOOP_CRASHES - 1):
        health.crashed("resolve")
    assert health.crash_looping() == []
    assert _status(health, None, None, roles, {})["ready"] is True
    health.crashed("resolve")
    status = _status(health, None, None, roles, {})
    assert status["ready"] is False
    assert status["crash_loop"] == ["resolve"]
    assert status["counts"]["resolve_crashes"] == CRASH_LOOP_CRASHES


def test_crashes_spread_wider_than_the_window_are_not_a_loop():
    health = Health(running=True)
    for n in range(CRASH_LOOP_CRASHES):
        health.crashed("validate", now=n * CRASH_LOOP_WINDOW_S / 2)
    last = (CRASH_LOOP_CRASHES - 1) * CRASH_LOOP_WINDOW_S / 2
    assert health.crash_looping(now=last) == []
    health.crashed("validate", now=last + 1)
    assert health.crash_looping(now=last + 2) == ["validate"]


class Halted(Exception):
    """Stands for the process's exit in a test: ``Pipeline.halt`` must not return."""


def _exit_recorded(codes: list[int]):
    def exit_now(code: int):
        codes.append(code)
        raise Halted

    return exit_now


def test_an_agent_that_fails_stops_the_process_and_journals_the_crash(settings):
    codes: list[int] = []
    health = Health.kept_in(settings.state_dir)
    pipeline = Pipeline(
        settings,
        None,
        RecordingPublisher(),  # type: ignore[arg-type]
        health,
        exit_now=_exit_recorded(codes),
    )
    with pytest.raises(Halted):
        pipeline.halt("resolve")
    assert codes == [EXIT_HALTED]
    assert health.counts["resolve_crashes"] == 1
    journal = (settings.state_dir / CRASH_JOURNAL).read_text().splitlines()
    assert len(journal) == 1 and '"resolve"' in journal[0]


def test_crashes_of_earlier_processes_count_towards_a_loop(settings):
    roles = frozenset({"resolve"})
    for _ in range(CRASH_LOOP_CRASHES - 1):
        Health.kept_in(settings.state_dir).crashed("resolve")
    restarted = Health.kept_in(settings.state_dir)
    restarted.running = True
    assert restarted.crash_looping() == []
    assert _status(restarted, None, None, roles, {})["ready"] is True
    restarted.crashed("resolve")
    after = Health.kept_in(settings.state_dir)
    after.running = True
    assert after.crash_looping() == ["resolve"]
    assert _status(after, None, None, roles, {})["ready"] is False
    # a line cut short by a crash of its own is skipped, not fatal
    with (settings.state_dir / CRASH_JOURNAL).open("a") as journal:
        journal.write('{"agent": "resol')
    assert Health.kept_in(settings.state_dir).crash_looping() == ["resolve"]


def test_crashes_older_than_the_window_are_forgotten_at_start(settings):
    old = time.time() - CRASH_LOOP_WINDOW_S - 5
    health = Health.kept_in(settings.state_dir)
    for n in range(CRASH_LOOP_CRASHES):
        health.crashed("validate", now=old + n)
    assert Health.kept_in(settings.state_dir).crashes == {}
