"""A stage whose output Kafka will not take stops without acknowledging its input, and the
restarted process publishes what the failed batch held: nothing is lost.

Faust acknowledges a batch whose agent raises, so before this a broker that did not take a
batch's output (down for longer than the publish timeout) cost that batch for good. Here
the accepted log is deleted under a running validation worker, which then cannot publish;
it must exit with ``EXIT_HALTED``, journal the crash, and after a restart (which creates the
topic again) every event sent while it could not publish is on the accepted log."""

from __future__ import annotations

import time

import pytest

from mast_core.avro import ACCEPTED_BATCH, INTERACTION, codec
from mast_core.events import parse_event
from messaging.clients import make_admin
from producers.publisher import InteractionPublisher
from stream_processors.pipeline import CRASH_JOURNAL, EXIT_HALTED
from tests.factories import event_dict
from tests.integration.topic_reader import read_topic
from tests.worker_process import WorkerProcess

pytestmark = pytest.mark.integration


def _accepted_ids(settings) -> set[str]:
    ids = set()
    for message in read_topic(settings, settings.accepted_interactions_topic):
        for item in codec(ACCEPTED_BATCH).decode(message.value())["events"]:
            ids.add(codec(INTERACTION).decode(item)["event_id"])
    return ids


def _publish(settings, ids: list[str]) -> None:
    events = [parse_event(event_dict(event_id=i, source_record_id=i)) for i in ids]
    assert InteractionPublisher(settings).publish(events).failed == []


def _wait(what: str, check, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_a_stage_that_cannot_publish_stops_and_its_restart_loses_nothing(
    pipeline_settings, tmp_path, monkeypatch
):
    settings = pipeline_settings
    monkeypatch.setenv("MAST_KAFKA_PUBLISH_TIMEOUT_S", "3")
    worker = WorkerProcess(settings, tmp_path / "worker.log", role="validate")
    worker.start()
    try:
        before = [f"before-{i}" for i in range(5)]
        _publish(settings, before)
        _wait("the first events accepted", lambda: set(before) <= _accepted_ids(settings))

        admin = make_admin(settings)
        accepted = settings.accepted_interactions_topic
        for future in admin.delete_topics([accepted]).values():
            future.result(30)
        _wait(
            "the accepted log deleted",
            lambda: accepted not in admin.list_topics(timeout=10).topics,
        )
        after = [f"after-{i}" for i in range(5)]
        _publish(settings, after)

        process = worker.process
        assert process is not None
        code = process.wait(90)
        assert code == EXIT_HALTED, worker.tail()
        assert "stopping this process without acknowledging" in worker.tail(60)
        journal = (settings.state_dir / CRASH_JOURNAL).read_text()
        assert '"validate"' in journal

        worker.start()  # creates the accepted log again, and resumes from the committed offsets
        _wait(
            "the events of the failed batch accepted", lambda: set(after) <= _accepted_ids(settings)
        )
        assert (worker.status() or {}).get("ready") is True  # one crash is not a loop
    finally:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()
