"""Reading a whole topic back in tests."""

from __future__ import annotations

import time
from typing import Any

from mast_core.settings import Settings


def read_topic(settings: Settings, topic: str, timeout: float = 30.0) -> list[Any]:
    """Every message now in ``topic`` (all partitions), read to the end."""
    import uuid

    from confluent_kafka import TopicPartition

    from messaging.clients import make_consumer

    consumer = make_consumer(settings, group_id=f"test-read-{uuid.uuid4().hex}")
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {}
        for number in partitions:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, number), timeout=10)
            ends[number] = high
        consumer.assign([TopicPartition(topic, number, 0) for number in partitions])
        messages = []
        deadline = time.monotonic() + timeout
        position = dict.fromkeys(partitions, 0)
        while any(position[n] < ends[n] for n in partitions) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            messages.append(message)
            position[message.partition()] = message.offset() + 1
        return messages
    finally:
        consumer.close()
