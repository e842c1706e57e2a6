"""Client configuration for confluent-kafka, in one place so no producer forgets idempotence.

librdkafka leaves ``enable.idempotence`` off by default; without it a retried send after a
lost acknowledgement writes the event twice. Every MAST producer therefore sets it with
``acks=all``, and every consumer commits offsets itself, after its work is done.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from mast_core.settings import Settings


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "max.in.flight.requests.per.connection": 5,
        "retries": 2_147_483_647,
        "delivery.timeout.ms": 120_000,
        "linger.ms": 5,
        "compression.type": settings.kafka_compression,
    }
    config.update(overrides)
    return config


def consumer_config(settings: Settings, group_id: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        # a consumer killed without leaving its group holds its partitions this long: the
        # same bound the stream workers use, not librdkafka's 45 s
        "session.timeout.ms": int(settings.kafka_session_timeout_s * 1000),
        "heartbeat.interval.ms": int(max(1.0, settings.kafka_session_timeout_s / 4) * 1000),
    }
    config.update(overrides)
    return config


LIBRDKAFKA_LOGGER = logging.getLogger("mast.kafka.librdkafka")
"""librdkafka's own log lines, routed into Python logging instead of raw stderr, so the
process's logging configuration decides what an operator sees."""


def make_producer(settings: Settings, **overrides: Any) -> Producer:
    return Producer(producer_config(settings, **overrides), logger=LIBRDKAFKA_LOGGER)


def make_consumer(settings: Settings, group_id: str, **overrides: Any) -> Consumer:
    return Consumer(consumer_config(settings, group_id, **overrides), logger=LIBRDKAFKA_LOGGER)


def make_admin(settings: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.kafka_bootstrap}, logger=LIBRDKAFKA_LOGGER)
