"""Publishing a steward's decision as a ``correction`` record on the corrections topic, for
the resolver to apply in order with the events (schemas/avro/correction/v2.avsc): a SPLIT
for a dispute, a CONFIRM_MATCH or MARK_DIFFERENT for a possible match.

The producer is MAST's own (``messaging.clients``: idempotent, acks=all), keyed by the
person the correction is about. ``publish`` returns only once Kafka has acknowledged the
record or given up on it: each record may wait at most ``timeout`` seconds for the broker
(librdkafka's delivery timeout), so a record the API answered 503 for is not delivered
later behind its back. A correction's id is derived from its dispute, so a decision sent
again after a 503 publishes the same correction: a resolver that sees it twice (the first
may have reached the broker before the acknowledgement was lost) can tell.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from mast_core.avro import CORRECTION, codec
from mast_core.settings import Settings
from messaging.clients import make_producer

log = logging.getLogger("mast.api.corrections")

SPLIT = "SPLIT"
_IDS = uuid.UUID("5d7c1b0e-6a1f-4a43-9d53-0e3f7a4b2c11")
"""The namespace correction ids are derived in (uuid5 of the dispute and the kind)."""


def correction_id(dispute_id: str, kind: str) -> str:
    """The same dispute decided the same way has the same correction id."""
    return str(uuid.uuid5(_IDS, f"{dispute_id}|{kind}"))


def split_correction(
    dispute_id: str,
    person_id: str,
    merge_ids: list[str],
    organisation: str,
    decided_at: datetime,
    records: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """A SPLIT correction: undo ``merge_ids`` (latest first) on ``person_id``, and detach
    ``records`` ((agency, event id) of records linked to the person directly, which no
    merge brought: each leaves for an identity of its own)."""
    return {
        "correction_id": correction_id(dispute_id, SPLIT),
        "kind": SPLIT,
        "person_id": person_id,
        "merge_ids": list(merge_ids),
        "other_person_id": None,
        "records": [{"agency": agency, "event_id": event_id} for agency, event_id in records],
        "dispute_id": dispute_id,
        "decided_by_organisation": organisation,
        "decided_at": decided_at,
    }


MATCH_KINDS = {"merge": "CONFIRM_MATCH", "different": "MARK_DIFFERENT"}
"""A steward's decision on a possible match, and the correction kind it publishes."""


def match_correction(
    possible_id: str,
    decision: str,
    person_id: str,
    other_person_id: str,
    organisation: str,
    decided_at: datetime,
) -> dict[str, Any]:
    """A CONFIRM_MATCH (``merge``: the two are one person, an ordinary merge) or
    MARK_DIFFERENT (``different``: a lasting cannot-link) correction for the two people of
    possible match ``possible_id``, as they are now. The possible match's id stands in the
    record's ``dispute_id``: the queue entry it was decided from."""
    kind = MATCH_KINDS[decision]
    return {
        "correction_id": correction_id(possible_id, kind),
        "kind": kind,
        "person_id": person_id,
        "merge_ids": [],
        "other_person_id": other_person_id,
        "dispute_id": possible_id,
        "decided_by_organisation": organisation,
        "decided_at": decided_at,
    }


class CorrectionPublisher:
    """One producer per API process, made on first use; ``publish`` waits for the broker."""

    def __init__(self, settings: Settings, timeout: float) -> None:
        self.settings = settings
        self.topic = settings.corrections_topic
        self.timeout = timeout
        self._producer = self._make()
        self._lock = threading.Lock()

    def _make(self) -> Producer:
        return make_producer(
            self.settings,
            **{"delivery.timeout.ms": max(1000, int(self.timeout * 1000)), "linger.ms": 0},
        )

    def publish(self, correction: dict[str, Any]) -> str | None:
        """Sends ``correction`` and waits for the broker: None once acknowledged, else why
        not (Kafka's words, which never quote the record)."""
        value = codec(CORRECTION).encode(correction)
        outcome: list[KafkaError | None] = []

        def delivered(error: KafkaError | None, _message: Message) -> None:
            outcome.append(error)

        with self._lock:
            try:
                self._producer.produce(
                    self.topic,
                    value=value,
                    key=correction["person_id"].encode(),
                    on_delivery=delivered,
                )
            except BufferError:
                return "the producer's queue is full"
            except KafkaException as exc:
                return f"Kafka refused the record: {exc}"
            # the delivery timeout ends every wait: a little longer, for the report to arrive
            if self._producer.flush(self.timeout + 5) and not outcome:
                # no report even so: withdraw it, so that it is not sent after the 503
                self._producer.purge()
                self._producer.flush(0)
        if not outcome:
            return f"not acknowledged within {self.timeout:.0f} s"
        error = outcome[0]
        if error is not None and error.fatal():  # this producer can send nothing more
            with self._lock:
                self._producer = self._make()
        if error is not None:
            log.error(
                "correction %s: Kafka did not take it: %s", correction["correction_id"], error.str()
            )
            return error.str()
        return None
