"""Publishing interaction events to the interactions topic, with delivery confirmed.

Events are keyed by agency, source system and the partner's own record reference, so that
one partner's record always lands in the same partition and stays in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Message

from mast_core.events import InteractionEvent, encode_interaction
from mast_core.settings import Settings
from messaging.clients import make_producer


def partition_key(event: InteractionEvent) -> bytes:
    record = event.source_record_id or event.event_id
    return f"{event.agency.value}|{event.source_system or ''}|{record}".encode()


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(event_id, reason) for each event the broker did not acknowledge."""


class InteractionPublisher:
    """Idempotent, acks=all publishing; ``publish`` returns only when every event is settled."""

    def __init__(self, settings: Settings, topic: str | None = None) -> None:
        self.topic = topic or settings.interactions_topic
        self._producer = make_producer(settings)

    def publish(self, events: Iterable[InteractionEvent], timeout: float = 60.0) -> DeliveryReport:
        report = DeliveryReport()

        def on_delivery(event_id: str) -> Callable[[KafkaError | None, Message], None]:
            def callback(error: KafkaError | None, _message: Message) -> None:
                if error is None:
                    report.delivered += 1
                else:
                    report.failed.append((event_id, error.str()))

            return callback

        for event in events:
            while True:
                try:
                    self._producer.produce(
                        self.topic,
                        value=encode_interaction(event),
                        key=partition_key(event),
                        on_delivery=on_delivery(event.event_id),
                    )
                    break
                except BufferError:  # local queue full: let deliveries drain, then retry
                    self._producer.poll(0.5)
            self._producer.poll(0)
        remaining = self._producer.flush(timeout)
        if remaining:
            report.failed.append(("*", f"{remaining} events not acknowledged within {timeout}s"))
        return report
