"""What the agents do with each message, apart from Faust: decode and validate, resolve and
judge. The agents in ``app.py`` only move messages in and out.

Validation stamps each message it writes to the accepted log with the time it accepted the
events in it (the Kafka message timestamp, which the log keeps): that is each event's received
time, read back by resolution, so a replay of the log sees the times the first pass saw.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from confluent_kafka import KafkaException, TopicPartition

from mast_core.avro import (
    ACCEPTED_BATCH,
    ALERT,
    CORRECTION,
    EVENT_RETRACTION,
    IDENTITY_MERGE,
    IDENTITY_SPLIT,
    INTERACTION,
    POSSIBLE_MATCH,
    RESOLVED_INTERACTION,
    EnvelopeEncoder,
    codec,
)
from mast_core.errors import MastError
from mast_core.events import (
    InteractionEvent,
    decode_accepted,
    decode_interaction,
    encode_interaction,
)
from mast_core.linkage import FREEZE_EVERY
from mast_core.normalise.dates import is_placeholder_birth_date
from mast_core.settings import Settings
from messaging.clients import make_consumer
from messaging.dead_letters import dead_letter, encode_dead_letter
from messaging.parameter_sets import encode_parameter_set, timestamp_ms
from stream_processors import metrics
from stream_processors.corrections import (
    CORRECTION_HEADER,
    CORRECTION_MARK,
    Headers,
    apply_correction,
    is_correction,
)
from stream_processors.publishing import OutputPublisher
from stream_processors.resolution import ResolutionStage
from stream_processors.retractions import apply_retraction

log = logging.getLogger(__name__)

ACCEPTED_PER_MESSAGE = 500
ACCEPTED_BYTES_PER_MESSAGE = 512_000
"""Accepted-log messages hold at most this many events and bytes: under Kafka's 1 MB default
message size even when every field is at its longest."""


CRASH_LOOP_CRASHES = 3
CRASH_LOOP_WINDOW_S = 600.0
"""An agent that crashed this often within this window is crash-looping: the process says it
is not ready until the window has passed without that many crashes. Crashes stop the
process (``Pipeline.halt``), so they are counted across restarts, in ``CRASH_JOURNAL``."""
CRASH_JOURNAL = "crashes.jsonl"
"""In the state folder: one line per crash, the agent and the time (no exception text)."""
EXIT_HALTED = 70
"""The exit code of a process that stopped itself rather than acknowledge input whose
output is not safely in Kafka (EX_SOFTWARE): a supervisor starts it again."""


class RecoveryError(MastError):
    reason = "recovery"


class NoReceivedTime(MastError):
    """An accepted-log message without a timestamp: not written by this MAST's validation
    (Kafka has stamped every message since 0.10), so its events have no received time."""

    reason = "no_received_time"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def received_time(timestamp_s: float | None) -> datetime:
    """A Kafka message timestamp (seconds, as Faust gives it) as the received time, to the
    millisecond Kafka stores: the same datetime on every read of the message."""
    if timestamp_s is None or timestamp_s <= 0:
        raise NoReceivedTime("the accepted-log message has no timestamp")
    return _EPOCH + timedelta(milliseconds=round(timestamp_s * 1000))


def now_ms() -> int:
    """The time validation accepts a batch, as a Kafka timestamp (milliseconds)."""
    return time.time_ns() // 1_000_000


class ProcessingFailed(MastError):
    """An unexpected error while handling one message. Its text names the stage and the kind
    of error only: an exception's own message may quote the personal data it choked on."""

    def __init__(self, stage: str, error: BaseException) -> None:
        self.reason = f"{stage}_failed"
        super().__init__(f"{stage} failed on this event: {type(error).__name__}")


@dataclass
class Health:
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    running: bool = False
    """True once the agents are consuming."""
    last_checkpoint_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    crashes: dict[str, deque[float]] = field(default_factory=dict)
    """Agent → wall-clock times (s) of its recent crashes, this process's and its
    predecessors' (a crash ends the process)."""
    journal: Path | None = None
    """Where crashes are written, so that the next process knows of them."""

    @classmethod
    def kept_in(cls, state_dir: Path) -> Health:
        """The health of a process whose crashes are journalled in ``state_dir``, with the
        recent crashes of the processes before it."""
        journal = state_dir / CRASH_JOURNAL
        health = cls(journal=journal)
        try:
            lines = journal.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return health
        horizon = time.time() - CRASH_LOOP_WINDOW_S
        for line in lines[-100:]:
            try:
                crash = json.loads(line)
                agent, at = str(crash["agent"]), float(crash["at"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash of its own
            if at >= horizon:
                health._remember(agent, at)
        return health

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def crashed(self, agent: str, now: float | None = None) -> None:
        """An agent raised out of its loop: remembered for the loop check (journalled when
        this health has a journal), counted, and measured."""
        at = time.time() if now is None else now
        self._remember(agent, at)
        self.count(f"{agent}_crashes")
        metrics.AGENT_CRASHES.labels(agent).inc()
        if self.journal is not None:
            with self.journal.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"agent": agent, "at": at}) + "\n")
                out.flush()
                os.fsync(out.fileno())

    def _remember(self, agent: str, at: float) -> None:
        self.crashes.setdefault(agent, deque(maxlen=CRASH_LOOP_CRASHES)).append(at)

    def crash_looping(self, now: float | None = None) -> list[str]:
        """The agents that crashed ``CRASH_LOOP_CRASHES`` times within the window."""
        now = time.time() if now is None else now
        return sorted(
            agent
            for agent, times in self.crashes.items()
            if len(times) == CRASH_LOOP_CRASHES and now - times[0] < CRASH_LOOP_WINDOW_S
        )


def _exit_now(code: int) -> NoReturn:
    logging.shutdown()  # what was logged about the halt reaches its handlers first
    os._exit(code)


def halt_process(
    health: Health, agent: str, exit_now: Callable[[int], NoReturn] = _exit_now
) -> NoReturn:
    """Stop the process at once, as a SIGKILL would: no flush, no checkpoint, nothing in
    hand acknowledged or committed. The next process resumes from the last committed offsets
    and the checkpoint, as after any crash, and the repeats are absorbed by keys downstream.
    The crash is journalled first, so a loop of them shows in ``/ready`` and ``mast status``
    of the processes that follow."""
    health.crashed(agent)
    log.critical(
        "the %s stage failed; stopping this process without acknowledging what it had in "
        "hand (exit %d): a supervisor must start it again, and it resumes where it was",
        agent,
        EXIT_HALTED,
    )
    exit_now(EXIT_HALTED)


class Pipeline:
    """One worker's state: the resolution stage (when this process resolves) and the
    publisher."""

    def __init__(
        self,
        settings: Settings,
        stage: ResolutionStage | None,
        publisher: OutputPublisher,
        health: Health | None = None,
        exit_now: Callable[[int], NoReturn] = _exit_now,
    ) -> None:
        self.settings = settings
        self.stage = stage
        self.publisher = publisher
        self.health = health or Health()
        self._exit_now = exit_now
        self._last_checkpoint = time.monotonic()
        self._snapshot_pid: int | None = None
        self._snapshot_started = 0.0
        self._snapshot_offset = 0
        self._resolved_since_freeze = 0
        self._resolved_encoder = EnvelopeEncoder(RESOLVED_INTERACTION, INTERACTION)
        self._merge_codec = codec(IDENTITY_MERGE)
        self._alert_codec = codec(ALERT)
        self._batch_codec = codec(ACCEPTED_BATCH)
        self._correction_codec = codec(CORRECTION)
        self._split_codec = codec(IDENTITY_SPLIT)
        self._possible_codec = codec(POSSIBLE_MATCH)
        self._retraction_codec = codec(EVENT_RETRACTION)

    def halt(self, agent: str) -> NoReturn:
        """Stop the process (``halt_process``). An error that escapes an agent's loop (Kafka
        would not take what the batch produced, or a fault outside the per-event handling)
        must not end the agent, because Faust's batching acknowledges a batch whose agent
        raises (``Stream.take_events`` acks in a ``finally``) and the process would carry
        on past events whose output never reached Kafka."""
        halt_process(self.health, agent, self._exit_now)

    # Stage 1: validate ------------------------------------------------------------------------
    def validate(self, messages: Sequence[tuple[bytes | None, str, int, int]]) -> int:
        """Pass the well-formed events of a batch of (value, topic, partition, offset) on to
        the accepted log, in order, and each other message to the dead-letter topic with its
        reason. Returns the number accepted."""
        accepted: list[bytes] = []
        for raw, topic, partition, offset in messages:
            try:
                event = decode_interaction(raw)
                encoded = encode_interaction(event)
            except MastError as error:
                self._dead_letter(error, topic, partition, offset, raw)
                continue
            except Exception as error:  # a bug must not take the rest of the batch with it
                self._failed("validation", error, topic, partition, offset, raw)
                continue
            if is_placeholder_birth_date(event.subject.date_of_birth):
                self._placeholder_birth_date(event)
            accepted.append(encoded)
        if messages:
            metrics.EVENTS_IN.labels(messages[0][1]).inc(len(messages))
        received = now_ms()  # the events' received time, kept with them by the log
        for chunk in _chunks(accepted):
            self.publisher.send(
                self.settings.accepted_interactions_topic,
                self._batch_codec.encode({"events": chunk}),
                timestamp_ms=received,
            )
        self.health.count("accepted", len(accepted))
        return len(accepted)

    def forward_corrections(self, messages: Sequence[tuple[bytes | None, str, int, int]]) -> int:
        """Append stewards' corrections, each of (value, topic, partition, offset), to the
        accepted log in order, marked by their header: the resolver then meets each at one
        place among the events, the same place on every replay. What does not decode as a
        correction goes to the dead-letter topic. Returns the number forwarded."""
        forwarded = 0
        for raw, topic, partition, offset in messages:
            try:
                self._correction_codec.decode(raw or b"")
            except MastError as error:
                self._dead_letter(error, topic, partition, offset, raw)
                continue
            self.publisher.send(
                self.settings.accepted_interactions_topic,
                raw or b"",
                timestamp_ms=now_ms(),
                headers=[(CORRECTION_HEADER, CORRECTION_MARK)],
            )
            forwarded += 1
        self.health.count("corrections_forwarded", forwarded)
        return forwarded

    def _placeholder_birth_date(self, event: InteractionEvent) -> None:
        """Counted per feed (agency and partner system), so a partner can be told."""
        metrics.PLACEHOLDER_BIRTH_DATES.labels(event.agency.value, event.source_system or "").inc()
        self.health.count("placeholder_birth_dates")

    def _failed(
        self,
        stage: str,
        error: Exception,
        topic: str,
        partition: int,
        offset: int,
        raw: bytes | None,
    ) -> None:
        """Dead-letter the one message an unexpected error was raised on, and log where in
        the code it was raised (the frames, never the message, which may quote values)."""
        log.error(
            "%s failed on %s[%d]@%d with %s at:\n%s",
            stage,
            topic,
            partition,
            offset,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        self._dead_letter(ProcessingFailed(stage, error), topic, partition, offset, raw)

    def _dead_letter(
        self, error: MastError, topic: str, partition: int, offset: int, raw: bytes | None
    ) -> None:
        record = dead_letter(error, topic=topic, partition=partition, offset=offset, raw=raw)
        self.publisher.send(self.settings.dead_letter_topic, encode_dead_letter(record))
        metrics.DEAD_LETTERS.labels(error.reason).inc()
        self.health.count("dead_letters")
        log.warning(
            "dead letter: %s at %s[%d]@%d (%s)", error.reason, topic, partition, offset, error
        )

    # Stage 2: resolve and judge ---------------------------------------------------------------
    def _stage(self) -> ResolutionStage:
        if self.stage is None:
            raise RecoveryError("this process does not resolve (its roles exclude 'resolve')")
        return self.stage

    def resolve(
        self,
        raw: bytes | None,
        offset: int,
        timestamp_s: float | None,
        headers: Headers = None,
    ) -> None:
        """Resolve one accepted-log message: a batch of events, in order, or a steward's
        correction (marked by its header). ``timestamp_s`` is the message's Kafka
        timestamp, which validation set to the events' received time."""
        stage = self._stage()
        if not stage.accepts(offset):
            return
        if is_correction(headers):
            self._correct(stage, raw, offset, timestamp_s)
            stage.done(offset)
            return
        topic = self.settings.accepted_interactions_topic
        try:
            received_at = received_time(timestamp_s)
            items = self._batch_codec.decode(raw)["events"]
        except MastError as error:  # written by stage 1, so a bug or a foreign writer
            self._dead_letter(error, topic, 0, offset, raw)
            stage.done(offset)
            return
        metrics.EVENTS_IN.labels(topic).inc(len(items))
        for item in items:
            try:
                event = decode_accepted(item)
            except MastError as error:
                self._dead_letter(error, topic, 0, offset, item)
                continue
            try:
                if event.retracts_event_id is not None:  # a partner's retraction
                    self._retract(stage, event, item, received_at, offset)
                    continue
                self._resolve_one(stage, event, item, received_at)
            except Exception as error:  # one event's failure must not take its neighbours
                stage.forget(event)
                self._failed("resolution", error, topic, 0, offset, item)
        stage.done(offset)

    def _correct(
        self, stage: ResolutionStage, raw: bytes | None, offset: int, timestamp_s: float | None
    ) -> None:
        """Apply one correction and publish what it changed; one that cannot be applied
        goes to the dead-letter topic with its reason, and the stage goes on."""
        topic = self.settings.accepted_interactions_topic
        try:
            received_at = received_time(timestamp_s)
            correction = self._correction_codec.decode(raw or b"")
            output = apply_correction(stage, correction, received_at)
        except MastError as error:
            self._dead_letter(error, topic, 0, offset, raw)
            return
        except Exception as error:  # a bug must not stop the stage
            self._failed("correction", error, topic, 0, offset, raw)
            return
        for split in output.splits:
            self.publisher.send(
                self.settings.identity_splits_topic,
                self._split_codec.encode(split),
                split["surviving_person_id"].encode(),
            )
        self.health.count("splits", len(output.splits))
        for merge in output.merges:  # a possible match a steward confirmed
            self.publisher.send(
                self.settings.identity_merges_topic,
                self._merge_codec.encode(merge),
                merge["surviving_person_id"].encode(),
            )
            metrics.MERGES.inc()
        self.health.count("merges", len(output.merges))
        for alert in output.alerts:  # raised anew for the people a split parted or joined
            self.publisher.send(
                self.settings.alerts_topic,
                self._alert_codec.encode(alert),
                alert["subject_id"].encode(),
            )
            metrics.ALERTS.labels(alert["rule_id"]).inc()
        self.health.count("alerts", len(output.alerts))
        log.info(
            "correction %s applied: %d merge(s) undone",
            correction["correction_id"],
            len(output.splits),
        )

    def _retract(
        self,
        stage: ResolutionStage,
        event: InteractionEvent,
        raw: bytes,
        received_at: datetime,
        offset: int,
    ) -> None:
        """Apply a partner's retraction (``stream_processors.retractions``) and publish what
        it changed: the merges it undid, then the retraction itself, then, for a correction,
        its own record as any event's. One that cannot be applied (an unknown or already
        retracted event) goes to the dead-letter topic with its reason."""
        try:
            output = apply_retraction(stage, event, received_at)
        except MastError as error:
            self._dead_letter(error, self.settings.accepted_interactions_topic, 0, offset, raw)
            return
        if output is None:
            metrics.DUPLICATES.inc()
            self.health.count("duplicates")
            return
        for split in output.splits:
            self.publisher.send(
                self.settings.identity_splits_topic,
                self._split_codec.encode(split),
                split["surviving_person_id"].encode(),
            )
        record = output.retraction
        self.publisher.send(
            self.settings.retractions_topic,
            self._retraction_codec.encode(record),
            f"{record['agency']}|{record['retracted_event_id']}".encode(),
        )
        for alert in output.alerts:  # raised anew for the people an undone bridge parted
            self.publisher.send(
                self.settings.alerts_topic,
                self._alert_codec.encode(alert),
                alert["subject_id"].encode(),
            )
            metrics.ALERTS.labels(alert["rule_id"]).inc()
        self.health.count("retractions")
        self.health.count("splits", len(output.splits))
        self.health.count("alerts", len(output.alerts))
        if output.replacement is not None:
            self._resolve_one(stage, output.replacement, raw, received_at)

    def _resolve_one(
        self, stage: ResolutionStage, event: InteractionEvent, raw: bytes, received_at: datetime
    ) -> None:
        started = time.perf_counter()
        output = stage.process(event, received_at)
        metrics.RESOLUTION_SECONDS.observe(time.perf_counter() - started)
        if output is None:
            metrics.DUPLICATES.inc()
            self.health.count("duplicates")
            return
        self._resolved_since_freeze += 1
        if self._resolved_since_freeze >= FREEZE_EVERY:
            # The state only grows, and without cycles: keep the collector off it (the
            # resolver's FREEZE_EVERY says why), and checkpoints' forked children share it.
            gc.freeze()
            self._resolved_since_freeze = 0
        settings = self.settings
        if output.parameters is not None:
            self._send_parameters(output.parameters)
        key = output.resolved["person_id"].encode()
        value = self._resolved_encoder.encode(raw, output.resolved, output.event.to_record)
        self.publisher.send(settings.resolved_interactions_topic, value, key)
        for merge in output.merges:
            self.publisher.send(
                settings.identity_merges_topic,
                self._merge_codec.encode(merge),
                merge["surviving_person_id"].encode(),
            )
            metrics.MERGES.inc()
        for alert in output.alerts:
            self.publisher.send(
                settings.alerts_topic, self._alert_codec.encode(alert), alert["subject_id"].encode()
            )
            metrics.ALERTS.labels(alert["rule_id"]).inc()
        for possible in output.possible_matches:  # kept for review: the stewards' queue
            self.publisher.send(
                settings.possible_matches_topic,
                self._possible_codec.encode(possible),
                possible["person_id"].encode(),
            )
        self.health.count("possible_matches", len(output.possible_matches))
        self.health.count("resolved")
        self.health.count("merges", len(output.merges))
        self.health.count("alerts", len(output.alerts))

    def announce_parameters(self) -> None:
        """At start-up: publish once more the parameter set the restored state last
        published, exactly as it was (a fresh state publishes its set with its first event)."""
        if self.stage is None:
            return
        record = self.stage.published_parameters()
        if record is not None:
            self._send_parameters(record)

    def _send_parameters(self, record: dict[str, Any]) -> None:
        """A parameter set on the linkage-parameters topic, keyed by its version and
        stamped with the time it came into force."""
        self.publisher.send(
            self.settings.linkage_parameters_topic,
            encode_parameter_set(record),
            record["version"].encode(),
            timestamp_ms=timestamp_ms(record),
        )
        log.info("linkage parameters %s published", record["version"])
        self.health.count("parameter_sets")

    def maybe_checkpoint(self) -> None:
        if time.monotonic() - self._last_checkpoint >= self.settings.checkpoint_interval_s:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Save the resolution state once everything it produced is in Kafka, so a restart
        from this checkpoint never skips an output.

        Pickling a large state takes seconds, which would hold up every event behind it, so
        a forked child writes the snapshot from its copy-on-write image of memory while this
        process carries on (the way Redis snapshots). A checkpoint is skipped while the
        previous one is still being written.
        """
        stage = self._stage()
        if self._snapshot_pid is not None:
            done, status = os.waitpid(self._snapshot_pid, os.WNOHANG)
            if done == 0:
                return
            self._snapshot_finished(status)
        self.publisher.flush_blocking()
        self._last_checkpoint = time.monotonic()
        if not hasattr(os, "fork"):
            self._save_now(stage)
            return
        self._snapshot_started = time.perf_counter()
        self._snapshot_offset = stage.next_offset
        pid = os.fork()
        if pid == 0:  # the child: write, and leave without running any of the parent's code
            code = 1
            try:
                stage.save(self.settings.checkpoint_path)
                code = 0
            finally:
                os._exit(code)
        self._snapshot_pid = pid

    def _snapshot_finished(self, status: int) -> None:
        self._snapshot_pid = None
        if os.waitstatus_to_exitcode(status) != 0:
            log.error("a checkpoint snapshot failed; the previous checkpoint stands")
            return
        metrics.CHECKPOINT_SECONDS.observe(time.perf_counter() - self._snapshot_started)
        metrics.CHECKPOINT_OFFSET.set(self._snapshot_offset)
        self.health.last_checkpoint_at = datetime.now(UTC)

    def _save_now(self, stage: ResolutionStage) -> None:
        started = time.perf_counter()
        stage.save(self.settings.checkpoint_path)
        metrics.CHECKPOINT_SECONDS.observe(time.perf_counter() - started)
        metrics.CHECKPOINT_OFFSET.set(stage.next_offset)
        self.health.last_checkpoint_at = datetime.now(UTC)

    def close(self) -> None:
        """Final flush, and checkpoint when this process resolves, after the agents stopped."""
        self.publisher.flush_blocking()
        if self._snapshot_pid is not None:
            _pid, status = os.waitpid(self._snapshot_pid, 0)
            self._snapshot_finished(status)
        if self.stage is not None:
            self._save_now(self.stage)
            log.info("checkpoint saved at accepted-log offset %d", self.stage.next_offset)


def _chunks(items: list[bytes]) -> list[list[bytes]]:
    chunks: list[list[bytes]] = []
    size = 0
    for item in items:
        if (
            not chunks
            or len(chunks[-1]) >= ACCEPTED_PER_MESSAGE
            or size + len(item) > ACCEPTED_BYTES_PER_MESSAGE
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item)
    return chunks


def rewind_resolution_log(
    settings: Settings,
    next_offset: int,
    group_id: str,
    say: Callable[[str], None] | None = None,
) -> None:
    """Point the worker's consumer group at the first accepted-log offset the restored state
    has not seen, so Faust resumes exactly there.

    Kafka refuses the commit while the group has a member. After a crash the dead worker stays
    a member until its session times out, so this waits that long; a group still held after
    that means another worker is running, and resolution has exactly one writer.
    """
    consumer = make_consumer(settings, group_id)
    deadline = time.monotonic() + settings.kafka_session_timeout_s + 15.0
    told = False
    try:
        partition = TopicPartition(settings.accepted_interactions_topic, 0, next_offset)
        low, _high = consumer.get_watermark_offsets(partition, timeout=10.0)
        if next_offset < low:
            log.warning(
                "accepted log starts at %d but the state needs %d: events between were removed "
                "by retention and are missing from resolution",
                low,
                next_offset,
            )
            partition = TopicPartition(settings.accepted_interactions_topic, 0, low)
        while True:
            try:
                consumer.commit(offsets=[partition], asynchronous=False)
                return
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                text = error.str() if error is not None else str(exc)
                if time.monotonic() > deadline:
                    raise RecoveryError(
                        f"cannot set the resolution log position for consumer group "
                        f"{group_id!r}: {text}. Is another MAST worker running?"
                    ) from None
                if say is not None and not told:
                    say(
                        "Waiting for the previous worker's Kafka session to expire "
                        f"(up to {settings.kafka_session_timeout_s:.0f}s)"
                    )
                    told = True
                time.sleep(1.0)
    finally:
        consumer.close()
