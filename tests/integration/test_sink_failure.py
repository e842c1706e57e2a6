"""An error that ends the ClickHouse sink's thread is reported to its process (``mast up``
stops itself there for its supervisor, rather than run on storing nothing), and what the
sink had in hand is not committed: the next sink reads it again."""

from __future__ import annotations

import threading
import uuid

import pytest
from confluent_kafka import TopicPartition

from mast_core.settings import Settings
from messaging.clients import make_admin, make_consumer, make_producer
from messaging.topics import ensure_topics, topic_specs
from sinks.clickhouse.consumer import ClickHouseSink, sink_group
from sinks.clickhouse.writer import SinkWriter

pytestmark = pytest.mark.integration


def test_a_sink_whose_thread_fails_reports_it_and_commits_nothing(kafka, clickhouse):
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        **{**kafka.model_dump(), "topic_prefix": f"sinkfail-{run}.", "app_id": f"sf-{run}"}
    )
    ensure_topics(make_admin(settings), topic_specs(settings))
    producer = make_producer(settings)
    producer.produce(settings.dead_letter_topic, value=b"not a dead letter", partition=0)
    assert producer.flush(30) == 0

    failed = threading.Event()
    errors: list[BaseException] = []

    def on_message(_topic: str) -> None:
        raise RuntimeError("a fault outside the per-message handling")

    def on_failure(error: BaseException) -> None:
        errors.append(error)
        failed.set()

    sink = ClickHouseSink(
        settings, SinkWriter(clickhouse), on_message=on_message, on_failure=on_failure
    )
    sink.start()
    assert failed.wait(60), "the sink's failure was not reported"
    sink.stop()
    assert isinstance(errors[0], RuntimeError)
    assert not sink.alive and sink.error is errors[0]

    consumer = make_consumer(settings, sink_group(settings))
    try:
        (committed,) = consumer.committed(
            [TopicPartition(settings.dead_letter_topic, 0)], timeout=10
        )
    finally:
        consumer.close()
    assert committed.offset < 1  # nothing committed (-1001): the message is read again


def test_a_sink_stopped_on_purpose_reports_no_failure(kafka, clickhouse):
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        **{**kafka.model_dump(), "topic_prefix": f"sinkstop-{run}.", "app_id": f"ss-{run}"}
    )
    ensure_topics(make_admin(settings), topic_specs(settings))
    failures: list[BaseException] = []
    sink = ClickHouseSink(settings, SinkWriter(clickhouse), on_failure=failures.append)
    sink.start()
    sink.stop()
    assert not sink.alive
    assert failures == [] and sink.error is None
