"""Avro events through the real local broker: produce, consume, decode, compare."""

from __future__ import annotations

import time
import uuid

import pytest

from mast_core.errors import AvroDecodeError, MastError
from mast_core.events import InteractionEvent, decode_interaction, parse_event
from messaging.clients import make_consumer, make_producer, producer_config
from producers.publisher import InteractionPublisher, partition_key
from tests.factories import event_dict

pytestmark = pytest.mark.integration


def _events(n: int) -> list[InteractionEvent]:
    run = uuid.uuid4().hex[:6]
    agencies = ["POLICE", "FIRE", "HEALTH", "CHILDREN_SOCIAL_CARE"]
    return [
        parse_event(
            event_dict(
                event_id=f"rt-{run}-{i}",
                agency=agencies[i % len(agencies)],
                source_record_id=f"R-{i % 5}",
                occurred_at=f"2026-04-{1 + i % 28:02d}T10:00:00Z",
            )
        )
        for i in range(n)
    ]


def _consume(settings, topic: str, expected: int, timeout: float = 30.0):
    consumer = make_consumer(settings, group_id=f"test-{uuid.uuid4().hex}")
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                messages.append(message)
    finally:
        consumer.close()
    return messages


def test_every_producer_is_idempotent_with_acks_all(settings):
    config = producer_config(settings)
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"


def test_avro_events_round_trip_through_the_broker(kafka):
    from messaging.clients import make_admin
    from messaging.topics import TopicSpec, ensure_topics

    topic = kafka.topic(f"roundtrip-{uuid.uuid4().hex[:6]}")  # other tests publish to the
    ensure_topics(make_admin(kafka), [TopicSpec(topic, 3, 3_600_000)])  # shared topic too
    events = _events(40)
    report = InteractionPublisher(kafka, topic=topic).publish(events)
    assert report.failed == []
    assert report.delivered == len(events)

    messages = _consume(kafka, topic, len(events))
    decoded = {e.event_id: e for e in (decode_interaction(m.value()) for m in messages)}
    assert decoded == {e.event_id: e for e in events}
    for message in messages:
        event = decoded[decode_interaction(message.value()).event_id]
        assert message.key() == partition_key(event)


def test_one_partner_record_stays_in_one_partition_in_order(kafka):
    topic = kafka.topic(f"order-{uuid.uuid4().hex[:6]}")
    from messaging.clients import make_admin
    from messaging.topics import TopicSpec, ensure_topics

    ensure_topics(make_admin(kafka), [TopicSpec(topic, 3, 3_600_000)])
    events = _events(30)
    InteractionPublisher(kafka, topic=topic).publish(events)
    messages = _consume(kafka, topic, len(events))
    by_key: dict[bytes, set[int]] = {}
    order: dict[bytes, list[str]] = {}
    for message in messages:
        by_key.setdefault(message.key(), set()).add(message.partition())
        order.setdefault(message.key(), []).append(decode_interaction(message.value()).event_id)
    assert all(len(partitions) == 1 for partitions in by_key.values())
    for key, ids in order.items():
        sent = [e.event_id for e in events if partition_key(e) == key]
        assert ids == sent


def test_a_malformed_message_is_a_typed_error_and_the_consumer_carries_on(kafka):
    topic = kafka.topic(f"poison-{uuid.uuid4().hex[:6]}")
    from messaging.clients import make_admin
    from messaging.topics import TopicSpec, ensure_topics

    ensure_topics(make_admin(kafka), [TopicSpec(topic, 1, 3_600_000)])
    good = _events(2)
    producer = make_producer(kafka)
    InteractionPublisher(kafka, topic=topic).publish(good[:1])
    producer.produce(topic, value=b"\xc3\x01garbage")
    producer.produce(topic, value=b'{"event_id": "json-not-avro"}')
    producer.flush(30)
    InteractionPublisher(kafka, topic=topic).publish(good[1:])

    outcomes: list[str] = []
    for message in _consume(kafka, topic, 4):
        try:
            outcomes.append(decode_interaction(message.value()).event_id)
        except MastError as exc:
            assert isinstance(exc, AvroDecodeError)
            outcomes.append(exc.reason)
    assert outcomes == [good[0].event_id, "avro_decode", "avro_decode", good[1].event_id]
