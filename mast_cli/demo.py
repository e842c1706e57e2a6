"""``mast demo``: bring up what exists on the embedded defaults and push events through it.

At this stage of the project the demo proves the foundation end to end: the local broker
starts, topics and ClickHouse tables exist, a few sample events (and one malformed message)
are published, read back, decoded, and the good ones stored in ClickHouse while the bad one
goes to the dead-letter topic with its reason.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from mast_cli.console import clear_errors, say
from mast_core.errors import MastError
from mast_core.events import InteractionEvent, decode_interaction, parse_event
from mast_core.settings import Settings, get_settings
from messaging.broker import LocalKafka
from messaging.clients import make_admin, make_consumer, make_producer
from messaging.dead_letters import dead_letter_record, encode_dead_letter
from messaging.topics import ensure_topics, topic_specs
from producers.publisher import InteractionPublisher
from sinks.clickhouse import apply_migrations, connect
from sinks.clickhouse.interactions import insert_interactions


def sample_events(run: str) -> list[InteractionEvent]:
    """Three partners' view of one fictional household; names are invented."""
    address = {"line1": "7 Larch Walk", "town": "Walsall", "postcode": "ws2 8qt"}
    person = {"given_name": "Edith", "family_name": "Brackley", "date_of_birth": "1949-05-17"}
    raw = [
        {
            "agency": "ADULT_SOCIAL_CARE",
            "source_system": "CareRecord",
            "source_record_id": "ASC-1001",
            "event_type": "CASE_OPENED",
            "occurred_at": "2026-01-09T10:00:00Z",
            "subject": {**person, "gender": "F", "address": address},
            "case_status": "OPEN",
            "contact": {"name": "Duty Social Worker", "team": "Adults North"},
        },
        {
            "agency": "FIRE",
            "source_system": "FireIncidents",
            "source_record_id": "F-88213",
            "event_type": "FIRE_ATTENDANCE",
            "occurred_at": "2026-04-03T21:15:00Z",
            "subject": {
                **person,
                "given_name": "Edie",
                "address": {**address, "line1": "7 Larch Wk"},
            },
            "contact": {"name": "Watch Manager", "team": "Walsall Blue Watch"},
        },
        {
            "agency": "POLICE",
            "source_system": "Niche",
            "source_record_id": "P-5521",
            "event_type": "INCIDENT",
            "occurred_at": "2026-04-11T02:40:00+01:00",
            "subject": {**person, "date_of_birth": "1949-17-05", "address": address},
            "contact": {"name": "PC 4411", "team": "Walsall Neighbourhood"},
        },
    ]
    return [parse_event({"event_id": f"demo-{run}-{i}", **event}) for i, event in enumerate(raw)]


@dataclass
class DemoReport:
    published: int = 0
    read_back: int = 0
    stored: int = 0
    dead_letters: list[str] = field(default_factory=list)


def run_demo(settings: Settings) -> DemoReport:
    LocalKafka(settings).start(say=say)
    topics = ensure_topics(make_admin(settings), topic_specs(settings))
    say(f"Topics: {len(topics.created)} created, {len(topics.existing)} already present")
    client = connect(settings)
    applied = apply_migrations(client)
    say(f"ClickHouse ({settings.clickhouse_dsn.split(':')[0]}): {len(applied)} migrations applied")

    run = uuid.uuid4().hex[:8]
    events = sample_events(run)
    consumer = make_consumer(settings, group_id=f"mast-demo-{run}")
    start = _end_offsets(consumer, settings.interactions_topic)

    report = DemoReport()
    delivery = InteractionPublisher(settings).publish(events)
    if delivery.failed:
        raise MastError(f"{len(delivery.failed)} events were not acknowledged by Kafka")
    report.published = delivery.delivered
    producer = make_producer(settings)
    producer.produce(settings.interactions_topic, value=b"{not avro}", key=b"demo-malformed")
    producer.flush(30)
    say(f"Published {report.published} events and 1 malformed message")

    consumer.assign(start)
    good: list[InteractionEvent] = []
    expected = report.published + 1
    deadline = time.monotonic() + 30
    try:
        while report.read_back < expected and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            report.read_back += 1
            try:
                good.append(decode_interaction(message.value()))
            except MastError as exc:
                record = dead_letter_record(exc, message)
                producer.produce(settings.dead_letter_topic, value=encode_dead_letter(record))
                report.dead_letters.append(f"{exc.reason}: {exc}")
    finally:
        consumer.close()
    producer.flush(30)
    report.stored = insert_interactions(client, good)
    return report


def _end_offsets(consumer: Consumer, topic: str) -> list[TopicPartition]:
    """Where each partition ends now, so the demo reads back only what it published."""
    metadata = consumer.list_topics(topic, timeout=10)
    partitions = []
    for partition in metadata.topics[topic].partitions:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        partitions.append(TopicPartition(topic, partition, high if high >= 0 else OFFSET_END))
    return partitions


def demo() -> None:
    """Start the local stack on embedded defaults and push sample events through it."""
    settings = get_settings()
    with clear_errors():
        report = run_demo(settings)
    say(f"Read back {report.read_back} messages from {settings.interactions_topic}")
    say(f"Stored {report.stored} interactions in ClickHouse table interactions")
    for line in report.dead_letters:
        say(f"Dead-lettered to {settings.dead_letter_topic}: {line}")
    say("The broker is still running; stop it with: .venv/bin/mast kafka stop")
