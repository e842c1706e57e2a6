"""The ClickHouse sink's consumer: the pipeline's output topics into ClickHouse, in batches.

A plain librdkafka consumer in a thread of its own rather than a Faust agent: fetching and
decompression stay in C, and a batch is one ``consume`` call, where Faust hands each message
between threads (measured: the sink cost about a tenth as much CPU per event this way).

At least once: a batch is written, then its offsets are committed. A crash between the two
repeats the batch, which the tables' keys and deduplication tokens absorb. A batch that
ClickHouse refuses is retried, with the consumer paused on it, until it is written or the
sink is stopped: nothing is committed that is not stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message

from mast_core.avro import (
    ALERT,
    EVENT_RETRACTION,
    IDENTITY_MERGE,
    IDENTITY_SPLIT,
    POSSIBLE_MATCH,
    RESOLVED_INTERACTION,
    codec,
)
from mast_core.errors import MastError
from mast_core.settings import Settings
from messaging.clients import make_consumer, make_producer
from messaging.dead_letters import dead_letter, decode_dead_letter, encode_dead_letter
from messaging.parameter_sets import decode_parameter_set
from sinks.clickhouse.writer import SinkWriter

log = logging.getLogger(__name__)

OnBatch = Callable[[str, int, float], None]
"""Told (table, rows, seconds) after each insert: metrics and status hook in here."""

RETRY_PAUSE_S = 2.0


@dataclass(frozen=True)
class Route:
    table: str
    decode: Callable[[bytes], dict[str, Any]]
    write: Callable[[list[dict[str, Any]]], int]


def sink_group(settings: Settings) -> str:
    return f"{settings.app_id}-sink"


class ClickHouseSink:
    def __init__(
        self,
        settings: Settings,
        writer: SinkWriter,
        on_batch: OnBatch | None = None,
        on_message: Callable[[str], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.on_failure = on_failure
        """Called when an error ends the sink's thread (not on a stop): a process that
        stores nothing must not run on looking alive, so ``mast up`` stops itself there
        for its supervisor to start it again."""
        self.on_batch = on_batch or (lambda _table, _rows, _seconds: None)
        self.on_message = on_message or (lambda _topic: None)
        self.routes = {
            settings.resolved_interactions_topic: Route(
                "resolved_interactions",
                codec(RESOLVED_INTERACTION).decode,
                writer.write_resolved,
            ),
            settings.identity_merges_topic: Route(
                "identity_merges", codec(IDENTITY_MERGE).decode, writer.write_merges
            ),
            settings.identity_splits_topic: Route(
                "identity_splits", codec(IDENTITY_SPLIT).decode, writer.write_splits
            ),
            settings.retractions_topic: Route(
                "event_retractions", codec(EVENT_RETRACTION).decode, writer.write_retractions
            ),
            settings.alerts_topic: Route("alerts", codec(ALERT).decode, writer.write_alerts),
            settings.possible_matches_topic: Route(
                "possible_matches", codec(POSSIBLE_MATCH).decode, writer.write_possible_matches
            ),
            settings.dead_letter_topic: Route(
                "dead_letters", decode_dead_letter, writer.write_dead_letters
            ),
            settings.linkage_parameters_topic: Route(
                "linkage_parameters", decode_parameter_set, writer.write_parameter_sets
            ),
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    # Lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clickhouse-sink", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        consumer = make_consumer(self.settings, sink_group(self.settings))
        consumer.subscribe(list(self.routes))
        try:
            while not self._stop.is_set():
                messages = consumer.consume(
                    num_messages=self.settings.sink_batch_size,
                    timeout=self.settings.sink_batch_wait_s,
                )
                if messages:
                    self._store(consumer, messages)
        except BaseException as exc:  # the status must show a dead sink, not hide it
            self.error = exc
            log.exception("ClickHouse sink stopped")
            if self.on_failure is not None and not self._stop.is_set():
                self.on_failure(exc)
            raise
        finally:
            consumer.close()

    # One batch --------------------------------------------------------------------------------
    def _store(self, consumer: Consumer, messages: list[Message]) -> None:
        batches: dict[str, list[dict[str, Any]]] = {}
        unreadable: list[tuple[Message, MastError]] = []
        for message in messages:
            if message.error():
                log.warning("sink consumer: %s", message.error())
                continue
            topic = message.topic() or ""
            self.on_message(topic)
            route = self.routes[topic]
            try:
                batches.setdefault(topic, []).append(route.decode(message.value() or b""))
            except MastError as error:  # AvroDecodeError, UnreadableParameterSet
                unreadable.append((message, error))
        for topic, records in batches.items():
            if not self._write_until_stored(self.routes[topic], records):
                return  # stopped before it was stored: not committed, so read again next time
        if unreadable:
            self._dead_letter(unreadable)
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as error:
            # a broker restarting (coordinator loading): what was written is stored, and
            # the next batch's commit covers these offsets; if none does, a restart reads
            # them again and the idempotent writes absorb the repeat. Never end the thread.
            log.warning(
                "sink consumer: commit deferred (%s)", error.args[0] if error.args else error
            )

    def _write_until_stored(self, route: Route, records: list[dict[str, Any]]) -> bool:
        while True:
            started = time.perf_counter()
            try:
                written = route.write(records)
            except Exception as exc:
                if self._stop.is_set():
                    return False
                log.error(
                    "ClickHouse refused a batch for %s (%s); retrying in %.0fs",
                    route.table,
                    type(exc).__name__,
                    RETRY_PAUSE_S,
                )
                time.sleep(RETRY_PAUSE_S)
                continue
            self.on_batch(route.table, written, time.perf_counter() - started)
            return True

    def _dead_letter(self, unreadable: list[tuple[Message, MastError]]) -> None:
        """Records on the pipeline's own topics that do not decode were written by something
        else; keep them on the dead-letter topic (unless they came from it)."""
        producer = make_producer(self.settings)
        for message, error in unreadable:
            topic = message.topic() or ""
            if topic == self.settings.dead_letter_topic:
                log.error("unreadable dead letter at offset %s skipped", message.offset())
                continue
            record = dead_letter(
                error,
                topic=topic,
                partition=message.partition() or 0,
                offset=message.offset() or 0,
                raw=message.value(),
            )
            producer.produce(self.settings.dead_letter_topic, value=encode_dead_letter(record))
        producer.flush(30)
