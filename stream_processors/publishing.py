"""Publishing from the agents with librdkafka: idempotent, acks=all.

Faust's own producer enables idempotence only inside transactions, and the design asks for
it on every producer; librdkafka's producer is also the faster of the two. A stage flushes
before it lets its input be acknowledged (or checkpoints), so nothing it consumed is marked
done before what it produced is safely in Kafka.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, Message

from mast_core.errors import MastError
from mast_core.settings import Settings
from messaging.clients import make_producer
from stream_processors import metrics

log = logging.getLogger(__name__)


class PublishError(MastError):
    reason = "publish"


class OutputPublisher:
    def __init__(self, settings: Settings) -> None:
        # Only failures are reported back: a Python callback per delivered message cost more
        # than producing it.
        self._producer = make_producer(
            settings, **{"linger.ms": 2, "delivery.report.only.error": True}
        )
        self._failures: list[str] = []
        self._sent: dict[str, int] = {}
        self._timeout = settings.kafka_publish_timeout_s

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}: {error.str()}")

    def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        timestamp_ms: int = 0,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None:
        """Queue one message; ``timestamp_ms`` sets its Kafka timestamp (0: the time of this
        call, librdkafka's default)."""
        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key,
                    on_delivery=self._on_delivery,
                    timestamp=timestamp_ms,
                    headers=headers,
                )
                self._sent[topic] = self._sent.get(topic, 0) + 1
                break
            except BufferError:  # local queue full: let deliveries drain, then retry
                self._producer.poll(0.1)

    def flush_blocking(self, timeout: float | None = None) -> None:
        """Return once everything sent is acknowledged; raise if anything was not within
        ``timeout`` (``MAST_KAFKA_PUBLISH_TIMEOUT_S`` unless given)."""
        timeout = self._timeout if timeout is None else timeout
        remaining = self._producer.flush(timeout)
        sent, self._sent = self._sent, {}
        for topic, count in sent.items():
            metrics.EVENTS_OUT.labels(topic).inc(count)
        if remaining:
            raise PublishError(f"{remaining} messages not acknowledged within {timeout}s")
        if self._failures:
            failures, self._failures = self._failures, []
            raise PublishError(f"{len(failures)} messages not delivered; first: {failures[0]}")

    def close(self) -> None:
        try:
            self.flush_blocking(10.0)
        except PublishError as exc:
            log.error("publisher closed with undelivered messages: %s", exc)
