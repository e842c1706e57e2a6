"""Consumer lag: how far a consumer group's committed offsets trail the ends of its topics.

Read from Kafka itself, so ``mast status`` can report it without the worker's help and the
worker can export it as a metric.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import TopicPartition

from mast_core.settings import Settings
from messaging.clients import make_consumer


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    """None when the group has never committed on this partition."""
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


def consumer_lag(
    settings: Settings, group_id: str, topics: list[str], timeout: float = 10.0
) -> list[PartitionLag]:
    consumer = make_consumer(settings, group_id)
    try:
        metadata = consumer.list_topics(timeout=timeout).topics
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            if topic in metadata
            for number in sorted(metadata[topic].partitions)
        ]
        if not partitions:
            return []
        committed = consumer.committed(partitions, timeout=timeout)
        lags = []
        for tp in committed:
            _low, high = consumer.get_watermark_offsets(tp, timeout=timeout)
            lags.append(
                PartitionLag(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else None, high)
            )
        return lags
    finally:
        consumer.close()
