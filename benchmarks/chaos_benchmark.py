"""Chaos benchmark: a stream of partner events while the stack is SIGKILLed at random moments
and the broker is restarted; then what was lost, what a user sees twice, which alerts were
raised twice, and how long each recovery took.

It runs everything of its own, so the shared broker on 127.0.0.1:9092 and anyone's data are
never touched: a local Kafka broker (``messaging.broker.LocalKafka``, as ``mast kafka start``)
on free ports with its own state folder, and ``mast up`` as a child process in its own
process group with its own state folder (embedded ClickHouse), topic prefix, consumer groups
and ports::

    .venv/bin/python -m benchmarks.chaos_benchmark --events 500000 --kills 10

``mast up`` runs validation, resolution, the sink and the API in one process, so a kill
takes all the stages at once: SIGKILL to the whole process group (the checkpoint writer it
forks included), no flush, no final checkpoint. After a pause (seeded, 0.5-3 s) it is started
again, as a supervisor would. The broker is restarted once (controlled stop and start; with
``--broker-signal kill``, SIGKILL) while partners keep sending. The moments are positions in
the stream drawn with ``--seed``, between 5% and 95% of it; each recovery is measured to
the end before the next action (which then comes later than planned if it was already due;
``--overlap`` does not wait). Like a supervisor, the benchmark also starts ``mast up`` again
when it exits on its own, or runs on with its sink stopped, or is not ready for three
minutes; each such event is reported as unplanned.

Partners send at ``--rate`` events per second (0: as fast as the producer can), in batches,
with the publisher's settings (idempotent, acks=all). Every tenth event has no time (its
event time is then its received time, which a replay must stamp again exactly); 1% are sent
a second time (``--resend``); 0.1% are not Avro at all and must reach the dead-letter table
once each (``--bad``).

When every event is sent and every consumer group has caught up (no lag on any topic, and
the sink's count unchanged for three seconds), it reads what a user would see, then stops
the stack and reads its ClickHouse:

- lost: events acknowledged by the broker and not stored;
- visible duplicates: what a user would see twice. The API reads interactions with
  ``LIMIT 1 BY agency, event_id`` per person and per address, so a repeated row is shown
  once; what shows twice is an event stored under two people (after merges, which the API
  follows), at two addresses, or in the search keys of two people. And through the HTTP API
  itself, with a practitioner's token: person pages (first those whose records a replay
  published again) and the alerts list, counting any event or alert shown twice, on one page
  or on two people's pages;
- alerts raised twice: an alert id twice in ``alerts FINAL`` (the API's read), two alerts for
  the same rule, subject and window, and two for the same rule and subject within the rule's
  cool-down that a replay of the resolution log without chaos does not raise too;
- for information: raw repeated rows in the tables (absorbed by the reads), messages
  published again by a replay, dead letters with their reasons, and a replay of the whole
  resolution log through a fresh resolver in this process (``--no-reference`` skips it)
  compared with what was stored: people per event, and alerts either way.

Recovery after each action, from the restart: ready (``/api/v1/status`` says ready; for the
broker, it accepts clients), resolving and storing (the resolver's and the sink's committed
offsets are past where they were at the kill, or they have nothing left to do), caught up
(the total consumer lag is back within one second's input of what it was before the kill).
Exit code 1 when anything was lost, shown twice or alerted twice, or an alert the replay
raises is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import logging
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, Message, TopicPartition

from mast_core.avro import ACCEPTED_BATCH, codec
from mast_core.escalation.rules import load_rules
from mast_core.events import decode_accepted, encode_interaction, parse_event
from mast_core.settings import Settings
from messaging.broker import LocalKafka
from messaging.clients import LIBRDKAFKA_LOGGER, make_admin, make_consumer, make_producer
from messaging.lag import consumer_lag
from messaging.topics import ensure_topics, topic_specs
from producers.publisher import partition_key
from producers.synthetic.events import SyntheticEvent
from producers.synthetic.population import EventGenerator
from sinks.clickhouse.consumer import sink_group
from stream_processors.app import group_id, role_topics
from stream_processors.pipeline import received_time
from stream_processors.resolution import ResolutionStage
from tests.worker_process import free_port

Say = Callable[[str], None]
Key = tuple[str, str]
"""(agency, event_id): the idempotency key."""

READER = "chaos.reader"
PURPOSE = "welfare_check"
_PROCESSOR_ROLES = frozenset({"validate", "resolve"})


@dataclass(frozen=True)
class ChaosOptions:
    events: int = 500_000
    kills: int = 10
    broker_restarts: int = 1
    broker_signal: str = "term"
    """How the broker is stopped: "term" (controlled shutdown) or "kill" (SIGKILL)."""
    seed: int = 10
    rate: float = 600.0
    """Events per second the partners send; 0 means as fast as the producer can."""
    batch: int = 1000
    resend: float = 0.01
    bad: float = 0.001
    untimed_every: int = 10
    pause_s: tuple[float, float] = (0.5, 3.0)
    kill_window: tuple[float, float] = (0.05, 0.95)
    broker_window: tuple[float, float] = (0.05, 0.95)
    """Where in the stream (fractions of its messages) the kills and broker restarts fall."""
    wait_for_recovery: bool = True
    """Measure each recovery to the end before the next action (which then comes later
    than planned if it was due); otherwise the next action comes when due, and whatever was
    not yet measured is left out."""
    checkpoint_interval_s: float = 30.0
    session_timeout_s: float = 10.0
    kafka_heap: str = "512m"
    api_sample: int = 200
    reference: bool = True
    workdir: Path | None = None
    keep: bool = False
    timeout_s: float = 3600.0
    """Longest wait for the pipeline to catch up at the end."""


@dataclass
class Recovery:
    action: str
    planned_at: int
    at_message: int
    at_s: float
    pause_s: float
    ready_s: float | None = None
    """Restart until the stack answers ready (for the broker: until it accepts clients)."""
    resolving_s: float | None = None
    """Restart until the resolver's committed accepted-log offset is past where it was."""
    storing_s: float | None = None
    """Restart until the sink's committed offsets are past where they were."""
    caught_up_s: float | None = None
    """Restart until the total consumer lag is back within one second's input of before."""
    lag_before: int | None = None
    note: str = ""

    @property
    def progress_s(self) -> float | None:
        """Restart until the pipeline makes progress end to end (resolving and storing)."""
        if self.resolving_s is None or self.storing_s is None:
            return None
        return max(self.resolving_s, self.storing_s)


@dataclass
class ChaosReport:
    options: ChaosOptions
    events_sent: int = 0
    messages_sent: int = 0
    resent: int = 0
    bad_sent: int = 0
    send_failures: int = 0
    stored_distinct: int = 0
    lost: int = 0
    lost_examples: list[Key] = field(default_factory=list)
    unexpected_stored: int = 0
    raw_rows: int = 0
    raw_repeated_rows: int = 0
    final_rows: int = 0
    row_versions: int = 0
    """Events stored in more than one form (person, address or event time differ)."""
    on_two_people: int = 0
    at_two_addresses: int = 0
    keys_on_two_people: int = 0
    address_repeated_rows: int = 0
    api_pages: int = 0
    api_interactions: int = 0
    api_duplicates: int = 0
    api_alerts_listed: int = 0
    api_alert_duplicates: int = 0
    alerts: int = 0
    alert_rows_raw: int = 0
    alert_duplicate_ids: int = 0
    alert_duplicate_keys: int = 0
    alerts_within_cooldown: int = 0
    alerts_within_cooldown_unexplained: int = 0
    merges: int = 0
    merge_rows_raw: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    dead_letter_rows_raw: int = 0
    published: dict[str, int] = field(default_factory=dict)
    """Messages on each output topic (repeats after a kill included)."""
    resolved_republished: int = 0
    reference_events: int | None = None
    reference_person_mismatches: int | None = None
    reference_alerts: int | None = None
    alerts_not_in_reference: int | None = None
    reference_alerts_not_stored: int | None = None
    recoveries: list[Recovery] = field(default_factory=list)
    unplanned_exits: list[str] = field(default_factory=list)
    catch_up_s: float = 0.0
    send_s: float = 0.0
    total_s: float = 0.0

    @property
    def visible_duplicates(self) -> int:
        return (
            self.on_two_people + self.at_two_addresses + self.keys_on_two_people
        ) + self.api_duplicates

    @property
    def double_alerts(self) -> int:
        return (
            self.alert_duplicate_ids
            + self.alert_duplicate_keys
            + self.alerts_within_cooldown_unexplained
            + self.api_alert_duplicates
        )

    def failures(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{self.lost:,} events lost")
        if self.visible_duplicates:
            found.append(f"{self.visible_duplicates:,} duplicates visible")
        if self.double_alerts:
            found.append(f"{self.double_alerts:,} alerts raised twice")
        if self.reference_alerts_not_stored:
            found.append(f"{self.reference_alerts_not_stored:,} alerts missing")
        return found

    def table(self) -> str:
        o, published = self.options, self.published
        letters = ", ".join(f"{r}: {n:,}" for r, n in sorted(self.dead_letters.items()))
        if self.reference_events is None:
            reference = "not run (--no-reference)"
        else:
            reference = (
                f"{self.reference_events:,} events, {self.reference_person_mismatches:,} "
                f"stored under another person; {self.reference_alerts:,} alerts, "
                f"{self.alerts_not_in_reference:,} stored that it does not raise, "
                f"{self.reference_alerts_not_stored:,} it raises not stored"
            )
        rows = [
            ("events sent (distinct, acknowledged)", f"{self.events_sent:,}"),
            (
                "  messages (re-sent copies, not Avro)",
                f"{self.messages_sent:,} ({self.resent:,}, {self.bad_sent:,}); deliveries "
                f"failed and sent again: {self.send_failures:,}",
            ),
            (
                "distinct events stored",
                f"{self.stored_distinct:,} ({self.unexpected_stored:,} never sent)",
            ),
            ("LOST", f"{self.lost:,}"),
            ("DUPLICATES VISIBLE", f"{self.visible_duplicates:,}"),
            (
                "  event under two people / at two addresses / in two people's search keys",
                f"{self.on_two_people:,} / {self.at_two_addresses:,} / {self.keys_on_two_people:,}",
            ),
            (
                "  through the API: event / alert shown twice",
                f"{self.api_duplicates:,} / {self.api_alert_duplicates:,} "
                f"({self.api_pages:,} person pages, {self.api_interactions:,} interactions, "
                f"{self.api_alerts_listed:,} alerts listed)",
            ),
            ("ALERTS RAISED TWICE", f"{self.double_alerts:,} (of {self.alerts:,} alerts)"),
            (
                "  same id / same rule, subject and window",
                f"{self.alert_duplicate_ids:,} / {self.alert_duplicate_keys:,}",
            ),
            (
                "  same rule and subject within the cool-down",
                f"{self.alerts_within_cooldown_unexplained:,} (of {self.alerts_within_cooldown:,} "
                "such pairs; the others the replay without chaos raises too)",
            ),
            ("replay of the resolution log without chaos", reference),
            (
                "repeated rows absorbed by the reads",
                f"interactions {self.raw_repeated_rows:,} of {self.raw_rows:,} "
                f"({self.final_rows:,} after FINAL; {self.row_versions:,} events stored in two "
                f"forms); addresses {self.address_repeated_rows:,}; alerts "
                f"{self.alert_rows_raw - self.alerts:,}; merges "
                f"{self.merge_rows_raw - self.merges:,}; dead letters "
                f"{self.dead_letter_rows_raw - sum(self.dead_letters.values()):,}",
            ),
            (
                "published: resolved / merges / alerts",
                f"{published.get('resolved', 0):,} / {published.get('merges', 0):,} / "
                f"{published.get('alerts', 0):,} ({self.resolved_republished:,} resolved "
                "records published again by a replay)",
            ),
            (
                "dead letters stored, by reason",
                f"{letters or 'none'} (messages sent that are not Avro: {self.bad_sent:,})",
            ),
            (
                "sending / catch-up after the last event / total",
                f"{self.send_s:.0f} s at {o.rate:,.0f} events/s / {self.catch_up_s:.0f} s / "
                f"{self.total_s:.0f} s",
            ),
        ]
        width = max(len(label) for label, _ in rows)
        lines = [f"{label:<{width}}  {value}" for label, value in rows]
        lines.append("")
        lines.append(
            f"{'action':<16} {'at message':>11} {'at s':>6} {'pause':>6} {'ready':>7} "
            f"{'resolving':>10} {'storing':>8} {'caught up':>10}  note"
        )
        for r in self.recoveries:
            lines.append(
                f"{r.action:<16} {r.at_message:>11,} {r.at_s:>6.0f} {r.pause_s:>5.1f}s "
                f"{_secs(r.ready_s):>7} {_secs(r.resolving_s):>10} {_secs(r.storing_s):>8} "
                f"{_secs(r.caught_up_s):>10}  {r.note}"
            )
        kills = [r for r in self.recoveries if r.action.startswith("kill")]
        if kills:
            lines.append(
                "time to recover after a kill, from the restart: progress "
                + _spread([r.progress_s for r in kills])
                + "; caught up "
                + _spread([r.caught_up_s for r in kills])
            )
        lines.append(
            "unplanned (restarted by the benchmark, as a supervisor would): "
            + ("none" if not self.unplanned_exits else "; ".join(self.unplanned_exits))
        )
        return "\n".join(lines)


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _spread(values: list[float | None]) -> str:
    known = sorted(v for v in values if v is not None)
    if not known:
        return "-"
    missing = len(values) - len(known)
    text = f"median {known[len(known) // 2]:.1f} s, max {known[-1]:.1f} s"
    return text + (f" ({missing} not measured)" if missing else "")


# The stream -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    kind: str
    """event, resend or bad"""
    key: Key
    partition_key: bytes
    value: bytes


def build_stream(options: ChaosOptions, say: Say) -> list[Item]:
    """The synthetic events, with re-sends and messages that are not Avro mixed in (seeded)."""
    generator = EventGenerator(corruption="default", seed=options.seed)
    return list(stream_items(generator.generate(options.events), options, say))


def stream_items(
    synthetic: Iterable[SyntheticEvent], options: ChaosOptions, say: Say
) -> Iterator[Item]:
    """``synthetic`` events as the partners' messages, made as they are asked for: every
    ``untimed_every``-th without a time, re-sends and messages that are not Avro mixed in
    (seeded), in the order ``build_stream`` lists them."""
    rng = random.Random(options.seed)
    events: list[Item] = []
    """What a re-send is drawn from (kept only when there are re-sends)."""
    started = time.monotonic()
    for number, item in enumerate(synthetic):
        data = item.event
        if options.untimed_every and number % options.untimed_every == options.untimed_every - 1:
            data = {**data, "occurred_at": None}
        event = parse_event(data)
        message = Item(
            "event",
            (event.agency.value, event.event_id),
            partition_key(event),
            encode_interaction(event),
        )
        yield message
        if options.resend:
            events.append(message)
        if rng.random() < options.resend:
            again = events[rng.randrange(len(events))]
            yield Item("resend", again.key, again.partition_key, again.value)
        if rng.random() < options.bad:
            bad = f"chaos {number}: not Avro".encode()
            yield Item("bad", ("", f"bad-{number}"), b"bad", bad)
        if (number + 1) % 100_000 == 0:
            say(f"  {number + 1:,} events prepared ({time.monotonic() - started:.0f} s)")


class Partners:
    """The partners' side: publishes the stream in batches at a rate and notes what the
    broker acknowledged; what it refused is sent again at the end, as a partner would."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = make_producer(settings)
        self.lock = threading.Lock()
        self.acknowledged: set[Key] = set()
        self.bad_acknowledged = 0
        self.failed: list[Item] = []
        self.position = 0
        """Messages handed to the producer so far."""

    def _callback(self, message: Item) -> Callable[[KafkaError | None, Message], None]:
        def delivered(error: KafkaError | None, _message: Message) -> None:
            with self.lock:
                if error is not None:
                    self.failed.append(message)
                elif message.kind == "bad":
                    self.bad_acknowledged += 1
                else:
                    self.acknowledged.add(message.key)

        return delivered

    def send(self, message: Item) -> None:
        while True:
            try:
                self.producer.produce(
                    self.settings.interactions_topic,
                    value=message.value,
                    key=message.partition_key,
                    on_delivery=self._callback(message),
                )
                break
            except BufferError:  # the local queue is full (the broker is away): wait
                self.producer.poll(0.2)
        self.producer.poll(0)

    def publish(
        self,
        stream: Iterable[Item],
        rate: float,
        batch: int,
        stopping: threading.Event | None = None,
    ) -> None:
        """Sends ``stream`` in batches of ``batch`` at ``rate`` messages per second (0: as
        fast as the producer takes them), until it ends or ``stopping`` is set."""
        started = time.monotonic()
        messages = iter(stream)
        start = 0
        while chunk := list(itertools.islice(messages, batch)):
            if rate > 0:
                due = started + start / rate
                while (pause := due - time.monotonic()) > 0:
                    self.producer.poll(min(pause, 0.1))
            if stopping is not None and stopping.is_set():
                return
            for message in chunk:
                self.send(message)
            start += len(chunk)
            self.position = start

    def settle(self) -> int:
        """Flush; send again what failed until everything is acknowledged. Returns how many
        deliveries failed along the way."""
        failures = 0
        while True:
            while self.producer.flush(10) > 0:
                pass
            with self.lock:
                again, self.failed = self.failed, []
            if not again:
                return failures
            failures += len(again)
            for message in again:
                self.send(message)


# The stack ------------------------------------------------------------------------------------


class Stack:
    """``mast up`` in a child process and process group of its own."""

    def __init__(self, settings: Settings, env: dict[str, str], log_path: Path) -> None:
        self.settings = settings
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.lock = threading.RLock()
        self.expected_down = True
        """Set while this benchmark has stopped or killed it on purpose."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    def start(self) -> float:
        with self.lock:
            self.starts += 1
            with self.log_path.open("ab") as log:
                log.write(f"\n=== chaos benchmark: start {self.starts} ===\n".encode())
                log.flush()
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "mast_cli", "up"],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.expected_down = False
            return time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def status(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/status", timeout=3) as response:  # noqa: S310
                return dict(json.load(response))
        except (OSError, ValueError):
            return None

    def wait_ready(self, timeout: float = 300.0) -> float | None:
        """The monotonic time it answered ready; None if it exited or took too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.process
            if process is None or process.poll() is not None:
                return None
            status = self.status()
            if status is not None and status.get("ready"):
                return time.monotonic()
            time.sleep(0.2)
        return None

    def kill(self) -> None:
        """SIGKILL to the whole process group: no flush, no final checkpoint."""
        with self.lock:
            self.expected_down = True
            process = self.process
            if process is None or process.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(60)

    def stop(self, timeout: float = 180.0) -> int | None:
        """SIGTERM, as Ctrl-C or an orchestrator stops it; the exit code."""
        with self.lock:
            self.expected_down = True
            process = self.process
            if process is None:
                return None
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(60)
            return process.returncode

    def tail(self, lines: int = 12) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


# Kafka's view: consumer lag and committed offsets ---------------------------------------------


@dataclass(frozen=True)
class Progress:
    lag: dict[str, int]
    """Messages not yet processed, per topic, by the group that consumes it."""
    resolver_committed: int
    sink_committed: int
    resolver_lag: int
    sink_lag: int

    @property
    def total_lag(self) -> int:
        return sum(self.lag.values())


class Watch:
    """Consumer lag of the stack's groups, read from Kafka (as ``mast status`` does)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        roles = frozenset({"validate", "resolve", "sink"})
        self.processors = group_id(settings, roles & _PROCESSOR_ROLES)
        self.processor_topics = [
            *role_topics(settings, "validate"),
            *role_topics(settings, "resolve"),
        ]
        self.sink = sink_group(settings)
        self.sink_topics = role_topics(settings, "sink")

    def read(self, timeout: float = 3.0) -> Progress | None:
        try:
            found = [
                *consumer_lag(self.settings, self.processors, self.processor_topics, timeout),
                *consumer_lag(self.settings, self.sink, self.sink_topics, timeout),
            ]
        except Exception:  # the broker is away
            return None
        if not found:
            return None
        lag: dict[str, int] = defaultdict(int)
        resolver = sink = 0
        for item in found:
            lag[item.topic] += max(0, item.lag)
            if item.topic == self.settings.accepted_interactions_topic:
                resolver += item.committed or 0
            if item.topic == self.settings.resolved_interactions_topic:
                sink += item.committed or 0
        accepted = lag.get(self.settings.accepted_interactions_topic, 0)
        stored = sum(lag.get(topic, 0) for topic in self.sink_topics)
        return Progress(dict(lag), resolver, sink, accepted, stored)


# The chaos ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    kind: str
    """kill or broker"""
    at: int
    """The stream position (messages sent) that triggers it."""
    pause_s: float


def plan(options: ChaosOptions, messages: int) -> list[Action]:
    """The moments, as stream positions drawn with the seed within each kind's window."""
    rng = random.Random(options.seed * 31 + 7)

    def position(window: tuple[float, float]) -> int:
        low = int(messages * window[0])
        return rng.randrange(low, max(low + 1, int(messages * window[1])))

    actions = [
        Action(kind, position(window), round(rng.uniform(*options.pause_s), 1))
        for kind, window, count in (
            ("kill", options.kill_window, options.kills),
            ("broker", options.broker_window, options.broker_restarts),
        )
        for _ in range(count)
    ]
    return sorted(actions, key=lambda a: a.at)


class Chaos(threading.Thread):
    def __init__(
        self,
        actions: list[Action],
        stack: Stack,
        broker: LocalKafka,
        partners: Partners,
        watch: Watch,
        options: ChaosOptions,
        clock: Callable[[], float],
        say: Say,
    ) -> None:
        super().__init__(daemon=True, name="chaos")
        self.actions = actions
        self.stack = stack
        self.broker = broker
        self.partners = partners
        self.watch = watch
        self.options = options
        self.clock = clock
        self.say = say
        self.recoveries: list[Recovery] = []
        self.broker_down = threading.Event()
        self.error: BaseException | None = None
        self.sending_done = threading.Event()
        self.stopping = threading.Event()
        """Set when the run ends early: no further action, no restart."""

    def run(self) -> None:
        try:
            for number, action in enumerate(self.actions):
                while self.partners.position < action.at and not self.sending_done.is_set():
                    if self.stopping.wait(0.05):
                        return
                if self.stopping.is_set():
                    return
                following = self.actions[number + 1].at if number + 1 < len(self.actions) else None
                if action.kind == "kill":
                    self._kill(action, following)
                else:
                    self._restart_broker(action, following)
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def _before(self, action: Action, label: str) -> tuple[Recovery, Progress | None]:
        before = self.watch.read()
        recovery = Recovery(
            label,
            action.at,
            self.partners.position,
            self.clock(),
            action.pause_s,
            lag_before=before.total_lag if before else None,
        )
        self.recoveries.append(recovery)
        return recovery, before

    def _kill(self, action: Action, following: int | None) -> None:
        recovery, before = self._before(action, "kill mast up")
        self.stack.kill()
        self.say(
            f"[{self.clock():6.0f}s] SIGKILL mast up (process group) at message "
            f"{recovery.at_message:,}; restarting in {action.pause_s:.1f}s"
        )
        if self.stopping.wait(action.pause_s):
            return
        restarted = self.stack.start()
        ready = self.stack.wait_ready()
        if ready is None:
            recovery.note = "did not become ready: " + self.stack.tail(3).replace("\n", " | ")
            return
        recovery.ready_s = ready - restarted
        self._measure(recovery, before, restarted, following)

    def _restart_broker(self, action: Action, following: int | None) -> None:
        recovery, before = self._before(action, f"broker {self.options.broker_signal}")
        self.broker_down.set()
        try:
            if self.options.broker_signal == "kill":
                pid = self.broker.status().pid
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, 0)
            else:
                self.broker.stop(say=lambda _line: None)
            self.say(
                f"[{self.clock():6.0f}s] broker stopped ({self.options.broker_signal}) at "
                f"message {recovery.at_message:,}; starting it in {action.pause_s:.1f}s"
            )
            time.sleep(action.pause_s)
            restarted = time.monotonic()
            self.broker.start(say=lambda _line: None)
        finally:
            self.broker_down.clear()
        recovery.ready_s = time.monotonic() - restarted
        self.say(f"[{self.clock():6.0f}s] broker accepting again after {recovery.ready_s:.1f}s")
        with self.stack.lock:
            if not self.stack.alive():
                recovery.note = "mast up had exited; started again"
                self.stack.start()
        self._measure(recovery, before, restarted, following)

    def _measure(
        self, recovery: Recovery, before: Progress | None, restarted: float, following: int | None
    ) -> None:
        """Progress (resolving, storing: past the committed offsets of the kill, or nothing
        left to do), then caught up, each from the restart."""
        threshold = (recovery.lag_before or 0) + int(self.options.rate or self.options.batch)
        deadline = restarted + 240.0
        while time.monotonic() < deadline and not self.stopping.is_set():
            due = following is not None and self.partners.position >= following
            if due and not self.options.wait_for_recovery:
                recovery.note = (recovery.note + " next action came first").strip()
                break
            now = self.watch.read()
            if now is not None:
                elapsed = time.monotonic() - restarted
                if recovery.resolving_s is None and (
                    now.resolver_lag == 0
                    or before is None
                    or now.resolver_committed > before.resolver_committed
                ):
                    recovery.resolving_s = elapsed
                if recovery.storing_s is None and (
                    now.sink_lag == 0
                    or before is None
                    or now.sink_committed > before.sink_committed
                ):
                    recovery.storing_s = elapsed
                if recovery.progress_s is not None and now.total_lag <= threshold:
                    recovery.caught_up_s = elapsed
                    break
            time.sleep(0.5)
        self.say(
            f"[{self.clock():6.0f}s]   {recovery.action}: ready {_secs(recovery.ready_s)}, "
            f"resolving {_secs(recovery.resolving_s)}, storing {_secs(recovery.storing_s)}, "
            f"caught up {_secs(recovery.caught_up_s)} after the restart {recovery.note}".rstrip()
        )


class Monitor(threading.Thread):
    """Progress lines, and what a supervisor would do: start ``mast up`` again when it exits
    on its own, and restart it when it runs on with a stage stopped (its status names a
    ``sink_error``) or stays not ready for ``STUCK_AFTER_S``. Each is noted as unplanned."""

    STUCK_AFTER_S = 180.0
    SINK_ERROR_GRACE_S = 5.0

    def __init__(
        self,
        stack: Stack,
        watch: Watch,
        partners: Partners,
        chaos: Chaos,
        total: int,
        clock: Callable[[], float],
        say: Say,
    ) -> None:
        super().__init__(daemon=True, name="monitor")
        self.stack = stack
        self.watch = watch
        self.partners = partners
        self.chaos = chaos
        self.total = total
        self.clock = clock
        self.say = say
        self.stopping = threading.Event()
        self.unplanned: list[str] = []
        self._unwell_since: float | None = None
        self._sink_error_since: float | None = None
        self._sink_error = ""

    def run(self) -> None:
        last = 0.0
        while not self.stopping.wait(1.0):
            try:
                self._supervise()
                if self.clock() - last >= 10:
                    last = self.clock()
                    self._progress_line()
            except Exception as exc:  # a monitor that dies would leave a stuck stack unseen
                self.say(f"[{self.clock():6.0f}s] monitor: {type(exc).__name__}: {exc}")

    def _supervise(self) -> None:
        with self.stack.lock:
            process = self.stack.process
            if process is None or self.stack.expected_down or self.chaos.broker_down.is_set():
                self._unwell_since = self._sink_error_since = None
                return
            if process.poll() is not None:
                what = (
                    f"exited with code {process.returncode} at {self.clock():.0f}s: "
                    + self.stack.tail(2).replace("\n", " | ")
                )
                self._restart(what, stop=False)
                return
        status = self.stack.status() or {}
        now = time.monotonic()
        if status.get("ready"):
            self._unwell_since = self._sink_error_since = None
            return
        self._unwell_since = self._unwell_since or now
        if status.get("sink_error"):
            self._sink_error = str(status["sink_error"])
            self._sink_error_since = self._sink_error_since or now
        if self._sink_error_since and now - self._sink_error_since >= self.SINK_ERROR_GRACE_S:
            self._restart(
                f"ran on with its ClickHouse sink stopped ({self._sink_error}) at "
                f"{self.clock():.0f}s",
                stop=True,
            )
        elif now - self._unwell_since >= self.STUCK_AFTER_S:
            self._restart(
                f"not ready for {self.STUCK_AFTER_S:.0f}s at {self.clock():.0f}s", stop=True
            )

    def _restart(self, what: str, *, stop: bool) -> None:
        with self.stack.lock:
            if self.stack.expected_down or self.chaos.broker_down.is_set():
                return
            self.unplanned.append(what)
            self.say(f"[{self.clock():6.0f}s] UNPLANNED: mast up {what}; restarting it")
            if stop:
                self.stack.stop(60)
            self.stack.start()
            self._unwell_since = self._sink_error_since = None

    def _progress_line(self) -> None:
        progress = self.watch.read()
        if progress is None:
            lag = "broker not answering"
        else:
            lag = (
                ", ".join(
                    f"{topic.split('.', 1)[-1]} {value:,}"
                    for topic, value in progress.lag.items()
                    if value
                )
                or "none"
            )
        self.say(
            f"[{self.clock():6.0f}s] sent {min(self.partners.position, self.total):,} of "
            f"{self.total:,}; consumer lag: {lag}"
        )


# Reading the results --------------------------------------------------------------------------

_SQL_CHILD = """
import json, sys
from clickhouse_connect import get_client
client = get_client(dsn=sys.argv[1])
client.database = sys.argv[2]
queries = json.loads(sys.stdin.read())
print(json.dumps({name: [list(row) for row in client.query(sql).result_rows]
                  for name, sql in queries.items()}, default=str))
"""

QUERIES = {
    "rows": "SELECT count(), uniqExact(agency, event_id) FROM resolved_interactions",
    "final_rows": "SELECT count() FROM resolved_interactions FINAL",
    "stored": "SELECT agency, event_id, groupUniqArray(person_id) FROM resolved_interactions "
    "GROUP BY agency, event_id",
    "row_versions": "SELECT count() FROM (SELECT agency, event_id FROM resolved_interactions "
    "GROUP BY agency, event_id HAVING uniqExact(person_id, address_id, event_time) > 1)",
    # An event the API would show on two people's pages: its rows belong, after merges (the
    # API follows person_aliases, query_api.reads), to more than one person.
    "on_two_people": "SELECT count() FROM (SELECT t.agency, t.event_id "
    "FROM resolved_interactions AS t "
    "LEFT JOIN (SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL) AS a "
    "ON a.retired_person_id = t.person_id GROUP BY t.agency, t.event_id "
    "HAVING uniqExact(if(a.surviving_person_id = '', t.person_id, a.surviving_person_id)) > 1)",
    "at_two_addresses": "SELECT count() FROM (SELECT agency, event_id FROM resolved_interactions "
    "GROUP BY agency, event_id HAVING uniqExact(address_id) > 1)",
    "keys_on_two_people": "SELECT count() FROM (SELECT t.agency, t.event_id "
    "FROM person_keys AS t "
    "LEFT JOIN (SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL) AS a "
    "ON a.retired_person_id = t.person_id GROUP BY t.agency, t.event_id "
    "HAVING uniqExact(if(a.surviving_person_id = '', t.person_id, a.surviving_person_id)) > 1)",
    "address_rows": "SELECT count(), uniqExact(address_id, agency, event_id) "
    "FROM address_interactions",
    "alerts_raw": "SELECT count(), uniqExact(alert_id) FROM alerts",
    "alerts": "SELECT alert_id, rule_id, subject_kind, subject_id, "
    "toUnixTimestamp64Milli(window_end) FROM alerts FINAL",
    "merges": "SELECT count(), uniqExact(merge_id) FROM identity_merges",
    "dead_letters": "SELECT reason, count(), "
    "uniqExact(source_topic, source_partition, source_offset) FROM dead_letters GROUP BY reason",
}


def run_sql(settings: Settings, queries: dict[str, str]) -> dict[str, list[list[Any]]]:
    """Queries against the stack's embedded ClickHouse, in a child process (one process per
    data folder; the stack must be stopped)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _SQL_CHILD,
            settings.clickhouse_dsn,
            settings.clickhouse_database,
        ],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ClickHouse queries failed: {result.stderr[-2000:]}")
    return dict(json.loads(result.stdout))


def count_published(settings: Settings) -> dict[str, int]:
    """Messages on each output topic: their high watermarks (every topic starts at 0)."""
    consumer = make_consumer(settings, f"chaos-count-{uuid.uuid4().hex}")
    topics = {
        "accepted": settings.accepted_interactions_topic,
        "resolved": settings.resolved_interactions_topic,
        "merges": settings.identity_merges_topic,
        "alerts": settings.alerts_topic,
        "dead letters": settings.dead_letter_topic,
    }
    counts = {}
    try:
        metadata = consumer.list_topics(timeout=10).topics
        for name, topic in topics.items():
            counts[name] = sum(
                consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in metadata[topic].partitions
            )
    finally:
        consumer.close()
    return counts


@dataclass
class ResolvedScan:
    messages: int
    republished: int
    """Messages whose bytes an earlier message on the topic already carried (a replay)."""
    republished_persons: list[str]
    persons: list[str]


def scan_resolved(settings: Settings) -> ResolvedScan:
    """The resolved-interactions topic read through once: what was published again after a
    kill (identical bytes: a replay is identical), and the people it was about (its key)."""
    topic = settings.resolved_interactions_topic
    consumer = make_consumer(settings, f"chaos-scan-{uuid.uuid4().hex}")
    seen: set[bytes] = set()
    republished: dict[str, int] = defaultdict(int)
    persons: set[str] = set()
    messages = 0
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions if ends[p] > 0])
        position = dict.fromkeys(partitions, 0)
        while any(position[p] < ends[p] for p in partitions):
            for message in consumer.consume(1000, timeout=1.0):
                if message.error():
                    continue
                position[message.partition() or 0] = (message.offset() or 0) + 1
                messages += 1
                person = (message.key() or b"").decode()
                persons.add(person)
                digest = hashlib.blake2b(message.value() or b"", digest_size=16).digest()
                if digest in seen:
                    republished[person] += 1
                else:
                    seen.add(digest)
    finally:
        consumer.close()
    return ResolvedScan(
        messages,
        sum(republished.values()),
        sorted(republished, key=lambda p: (-republished[p], p)),
        sorted(persons),
    )


@dataclass
class Reference:
    persons: dict[Key, str]
    alerts: set[str]
    alert_keys: set[tuple[str, str, str, int]]
    failures: int


def replay_resolution_log(settings: Settings, say: Say) -> Reference:
    """The whole accepted log through a fresh resolver in this process: what resolution
    gives without any crash (the log's order and received times are the run's own)."""
    stage = ResolutionStage.fresh(
        parameters_file=settings.parameters_file, rules_file=settings.rules_file
    )
    topic = settings.accepted_interactions_topic
    consumer = make_consumer(settings, f"chaos-reference-{uuid.uuid4().hex}")
    batch_codec = codec(ACCEPTED_BATCH)
    persons: dict[Key, str] = {}
    alerts: set[str] = set()
    alert_keys: set[tuple[str, str, str, int]] = set()
    failures = 0
    try:
        _low, end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, 0)])
        position = 0
        started = time.monotonic()
        shown = started
        while position < end:
            for message in consumer.consume(200, timeout=1.0):
                if message.error():
                    continue
                offset = message.offset() or 0
                position = offset + 1
                _kind, stamp = message.timestamp()
                received = received_time(stamp / 1000)
                for item in batch_codec.decode(message.value())["events"]:
                    event = decode_accepted(item)
                    try:
                        output = stage.process(event, received)
                    except Exception:
                        stage.forget(event)
                        failures += 1
                        continue
                    if output is None:
                        continue
                    persons[(event.agency.value, event.event_id)] = output.resolved["person_id"]
                    for alert in output.alerts:
                        alerts.add(alert["alert_id"])
                        end_ms = int(alert["window_end"].timestamp() * 1000)
                        alert_keys.add(
                            (alert["rule_id"], alert["subject_kind"], alert["subject_id"], end_ms)
                        )
                stage.done(offset)
            if time.monotonic() - shown > 15:
                shown = time.monotonic()
                say(
                    f"  replayed {position:,} of {end:,} accepted-log messages "
                    f"({len(persons):,} events, {shown - started:.0f} s)"
                )
    finally:
        consumer.close()
    return Reference(persons, alerts, alert_keys, failures)


def call_api(
    url: str,
    path: str,
    token: str | None = None,
    form: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """One request to the stack's API: a GET, or a POST of ``form`` (form-encoded) or of
    ``body`` (JSON); the answer's JSON. An error status raises ``urllib.error.HTTPError``."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url + path, data=data)  # noqa: S310 - our own loopback URL
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.load(response)


def sign_in(url: str, username: str, password: str) -> str:
    """A bearer token for ``username``, the notice accepted."""
    answer = call_api(
        url,
        "/api/v1/auth/token",
        form={"username": username, "password": password, "notice_accepted": "true"},
    )
    return str(answer["access_token"])


@dataclass
class ApiFindings:
    pages: int = 0
    interactions: int = 0
    duplicates: int = 0
    alerts_listed: int = 0
    alert_duplicates: int = 0


def read_through_api(url: str, password: str, person_ids: list[str]) -> ApiFindings:
    """What a practitioner sees: person pages and the alerts list, each event and alert once."""
    found = ApiFindings()
    token = sign_in(url, READER, password)
    shown_on: dict[Key, set[str]] = defaultdict(set)
    for person_id in person_ids:
        quoted = urllib.parse.quote(person_id)
        try:
            page = call_api(url, f"/api/v1/persons/{quoted}?purpose={PURPOSE}", token)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                continue
            raise
        found.pages += 1
        keys = [(i["agency"], i["event_id"]) for i in page["interactions"]]
        found.interactions += len(keys)
        found.duplicates += len(keys) - len(set(keys))
        for key in keys:
            shown_on[key].add(page["person_id"])
        alert_ids = [a["alert_id"] for a in page["alerts"]]
        found.alert_duplicates += len(alert_ids) - len(set(alert_ids))
    found.duplicates += sum(len(people) - 1 for people in shown_on.values())
    listed = call_api(url, "/api/v1/alerts?limit=1000", token)
    found.alerts_listed = len(listed)
    ids = [a["alert_id"] for a in listed]
    keys_listed = [
        (a["rule_id"], a["subject_kind"], a["subject_id"], a["window_end"]) for a in listed
    ]
    found.alert_duplicates += (len(ids) - len(set(ids))) + (
        len(keys_listed) - len(set(keys_listed))
    )
    return found


def _within_cooldown(
    alerts: list[tuple[str, str, str, int]], cooldown_days: dict[str, int]
) -> list[tuple[str, str, str, int]]:
    """Alerts raised for the same rule and subject within the rule's cool-down of the one
    before them (by window end)."""
    by_subject: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for rule, kind, subject, end in alerts:
        by_subject[(rule, kind, subject)].append(end)
    found = []
    for (rule, kind, subject), ends in by_subject.items():
        ends.sort()
        gap = timedelta(days=cooldown_days.get(rule, 0)).total_seconds() * 1000
        for earlier, later in itertools.pairwise(ends):
            if later - earlier < gap:
                found.append((rule, kind, subject, later))
    return found


def _judge(
    report: ChaosReport,
    partners: Partners,
    results: dict[str, list[list[Any]]],
    reference: Reference | None,
    rules_file: Path | None,
) -> None:
    sent = partners.acknowledged
    stored: dict[Key, list[str]] = {(a, e): list(p) for a, e, p in results["stored"]}
    report.events_sent = len(sent)
    report.stored_distinct = len(stored)
    lost = sorted(sent - stored.keys())
    report.lost = len(lost)
    report.lost_examples = lost[:10]
    report.unexpected_stored = len(stored.keys() - sent)
    ((rows, distinct),) = results["rows"]
    report.raw_rows, report.raw_repeated_rows = int(rows), int(rows) - int(distinct)
    report.final_rows = int(results["final_rows"][0][0])
    report.row_versions = int(results["row_versions"][0][0])
    report.on_two_people = int(results["on_two_people"][0][0])
    report.at_two_addresses = int(results["at_two_addresses"][0][0])
    report.keys_on_two_people = int(results["keys_on_two_people"][0][0])
    ((address_rows, address_distinct),) = results["address_rows"]
    report.address_repeated_rows = int(address_rows) - int(address_distinct)
    report.alert_rows_raw = int(results["alerts_raw"][0][0])
    alerts = [(str(i), str(r), str(k), str(s), int(e)) for i, r, k, s, e in results["alerts"]]
    report.alerts = len(alerts)
    report.alert_duplicate_ids = len(alerts) - len({a[0] for a in alerts})
    keys = [a[1:] for a in alerts]
    report.alert_duplicate_keys = len(keys) - len(set(keys))
    rules = load_rules(rules_file) if rules_file else load_rules()
    cooldown = {rule.id: rule.cooldown_days for rule in rules.rules}
    close = _within_cooldown(list(set(keys)), cooldown)
    report.alerts_within_cooldown = len(close)
    ((merges, merge_ids),) = results["merges"]
    report.merges, report.merge_rows_raw = int(merge_ids), int(merges)
    report.dead_letters = {str(r): int(distinct) for r, _n, distinct in results["dead_letters"]}
    report.dead_letter_rows_raw = sum(int(n) for _r, n, _d in results["dead_letters"])
    if reference is None:
        report.alerts_within_cooldown_unexplained = len(close)
        return
    report.reference_events = len(reference.persons)
    report.reference_person_mismatches = sum(
        1 for key, person in reference.persons.items() if stored.get(key, [person]) != [person]
    )
    report.reference_alerts = len(reference.alerts)
    stored_ids = {a[0] for a in alerts}
    report.alerts_not_in_reference = len(stored_ids - reference.alerts)
    report.reference_alerts_not_stored = len(reference.alerts - stored_ids)
    report.alerts_within_cooldown_unexplained = sum(
        1 for item in close if item not in reference.alert_keys
    )


# The run --------------------------------------------------------------------------------------


def chaos_settings(workdir: Path, options: ChaosOptions, name: str = "chaos") -> Settings:
    """A stack of its own under ``workdir``: free ports, and a topic prefix, consumer groups
    and database named after the benchmark (``name``) and a fresh run id."""
    run = uuid.uuid4().hex[:8]
    broker_port, controller_port = free_port(), free_port()
    while controller_port == broker_port:
        controller_port = free_port()
    return Settings(
        state_dir=workdir / "state",
        kafka_bootstrap=f"127.0.0.1:{broker_port}",
        kafka_broker_port=broker_port,
        kafka_controller_port=controller_port,
        kafka_heap=options.kafka_heap,
        kafka_session_timeout_s=options.session_timeout_s,
        topic_prefix=f"{name}-{run}.",
        app_id=f"mast-{name}-{run}",
        clickhouse_database=f"mast_{name}",
        checkpoint_interval_s=options.checkpoint_interval_s,
        api_port=free_port(),
        worker_port=free_port(),
        log_level="INFO",
    )


def stack_env(settings: Settings) -> dict[str, str]:
    """This process's environment without any MAST_ setting, then the stack's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAST_")}
    names = (
        "state_dir",
        "kafka_bootstrap",
        "kafka_broker_port",
        "kafka_controller_port",
        "kafka_heap",
        "kafka_session_timeout_s",
        "topic_prefix",
        "app_id",
        "clickhouse_database",
        "checkpoint_interval_s",
        "api_port",
        "worker_port",
        "log_level",
    )
    for name in names:
        env[f"MAST_{name.upper()}"] = str(getattr(settings, name))
    return env


def add_user(
    env: dict[str, str], username: str, role: str, organisation: str, password: str
) -> None:
    """``mast users add`` against the stack's state (before ``mast up`` opens its embedded
    ClickHouse: one process per data folder)."""
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "mast_cli",
            "users",
            "add",
            "--username",
            username,
            "--role",
            role,
            "--org",
            organisation,
            "--password",
            password,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if added.returncode != 0:
        raise RuntimeError(f"could not add the API user {username}: {added.stderr.strip()}")


def _wait_until_caught_up(
    stack: Stack, watch: Watch, timeout: float, clock: Callable[[], float], say: Say
) -> None:
    """No lag on any topic of any group, and the sink's count unchanged, for three seconds."""
    deadline = time.monotonic() + timeout
    settled_since: float | None = None
    previous: object = None
    last_said = 0.0
    while time.monotonic() < deadline:
        progress = watch.read()
        status = stack.status() or {}
        counts = status.get("counts", {})
        written = (counts.get("sink_resolved_interactions"), counts.get("sink_alerts"))
        quiet = (
            progress is not None
            and progress.total_lag == 0
            and bool(status.get("ready"))
            and written == previous
        )
        previous = written
        now = time.monotonic()
        if quiet:
            settled_since = settled_since or now
            if now - settled_since >= 3:
                return
        else:
            settled_since = None
        if now - last_said > 15 and progress is not None:
            last_said = now
            say(f"[{clock():6.0f}s] catching up: total lag {progress.total_lag:,}")
        time.sleep(1.0)
    raise RuntimeError(f"the pipeline did not catch up within {timeout:.0f}s")


def run_chaos(options: ChaosOptions, say: Say = print) -> ChaosReport:
    """The whole benchmark; the report says what was found. Everything it started is stopped
    again, and its folder removed unless ``keep`` (or a ``workdir`` was given)."""
    LIBRDKAFKA_LOGGER.setLevel(logging.CRITICAL)  # connection refusals while the broker is away
    began = time.monotonic()

    def clock() -> float:
        return time.monotonic() - began

    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="mast-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    settings = chaos_settings(workdir, options)
    env = stack_env(settings)
    report = ChaosReport(options)
    password = secrets.token_urlsafe(18)

    say(f"Preparing {options.events:,} synthetic events (seed {options.seed}) ...")
    stream = build_stream(options, say)
    report.messages_sent = len(stream)
    report.resent = sum(1 for m in stream if m.kind == "resend")
    report.bad_sent = sum(1 for m in stream if m.kind == "bad")
    actions = plan(options, len(stream))
    say(
        f"Chaos plan ({len(stream):,} messages): "
        + ", ".join(f"{a.kind} at {a.at:,}" for a in actions)
    )

    broker = LocalKafka(settings)
    stack = Stack(settings, env, workdir / "up.log")
    say(
        f"[{clock():6.0f}s] Starting a broker of its own on {settings.kafka_bootstrap}, and "
        f"adding a practitioner to read through the API ({workdir})"
    )
    reader_error: list[BaseException] = []

    def add_reader() -> None:
        try:
            add_user(env, READER, "practitioner", "POLICE", password)
        except BaseException as exc:
            reader_error.append(exc)

    adding = threading.Thread(target=add_reader, name="add-reader")
    adding.start()  # the embedded ClickHouse meanwhile: it needs no broker
    chaos: Chaos | None = None
    monitor: Monitor | None = None
    try:
        try:
            broker.start(say=lambda _line: None)
        finally:
            adding.join()
        if reader_error:
            raise reader_error[0]
        ensure_topics(make_admin(settings), topic_specs(settings))
        say(f"[{clock():6.0f}s] broker ready; starting mast up")
        stack.start()
        if stack.wait_ready() is None:
            raise RuntimeError("mast up did not start:\n" + stack.tail())
        say(f"[{clock():6.0f}s] mast up ready on {stack.url} (pid {stack.process.pid})")  # type: ignore[union-attr]

        partners = Partners(settings)
        watch = Watch(settings)
        chaos = Chaos(actions, stack, broker, partners, watch, options, clock, say)
        monitor = Monitor(stack, watch, partners, chaos, len(stream), clock, say)
        chaos.start()
        monitor.start()
        sending = time.monotonic()
        partners.publish(stream, options.rate, options.batch)
        chaos.sending_done.set()
        report.send_failures = partners.settle()
        report.send_s = time.monotonic() - sending
        say(f"[{clock():6.0f}s] all {len(stream):,} messages acknowledged")
        chaos.join()
        if chaos.error is not None:
            raise chaos.error
        sent_all = time.monotonic()
        _wait_until_caught_up(stack, watch, options.timeout_s, clock, say)
        report.catch_up_s = time.monotonic() - sent_all
        monitor.stopping.set()
        monitor.join()
        report.recoveries = chaos.recoveries
        report.unplanned_exits = monitor.unplanned
        report.published = count_published(settings)
        scan = scan_resolved(settings)
        report.published["resolved"] = scan.messages
        report.resolved_republished = scan.republished
        say(
            f"[{clock():6.0f}s] caught up; {scan.republished:,} resolved records were published "
            "again after kills"
        )
        reference = None
        if options.reference:
            say(f"[{clock():6.0f}s] replaying the resolution log through a fresh resolver")
            reference = replay_resolution_log(settings, say)
        if options.api_sample:
            half = max(1, options.api_sample // 2)
            sample = scan.republished_persons[:half]
            others = [p for p in scan.persons if p not in set(sample)]
            random.Random(options.seed).shuffle(others)
            sample += others[: options.api_sample - len(sample)]
            say(f"[{clock():6.0f}s] reading {len(sample):,} person pages and the alerts list")
            found = read_through_api(stack.url, password, sample)
            report.api_pages = found.pages
            report.api_interactions = found.interactions
            report.api_duplicates = found.duplicates
            report.api_alerts_listed = found.alerts_listed
            report.api_alert_duplicates = found.alert_duplicates
        say(f"[{clock():6.0f}s] stopping mast up and reading its ClickHouse")
        code = stack.stop()
        if code != 0:
            report.unplanned_exits.append(f"the clean stop ended with exit code {code}")
        results = run_sql(settings, QUERIES)
        _judge(report, partners, results, reference, settings.rules_file)
    finally:
        for thread in (chaos, monitor):
            if thread is not None:
                thread.stopping.set()
                thread.join(30)
        if stack.alive():
            stack.stop(60)
        broker.stop(say=lambda _line: None)
        report.total_s = clock()
        if options.workdir is None and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"Logs and data kept in {workdir}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of mast up")
    parser.add_argument("--broker-restarts", type=int, default=1)
    parser.add_argument("--broker-signal", choices=["term", "kill"], default="term")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--rate", type=float, default=600.0, help="events/s; 0: unthrottled")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--resend", type=float, default=0.01)
    parser.add_argument("--bad", type=float, default=0.001)
    parser.add_argument("--checkpoint-interval", type=float, default=30.0)
    parser.add_argument("--session-timeout", type=float, default=10.0)
    parser.add_argument("--api-sample", type=int, default=200, help="person pages to read")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="do not wait for a recovery to finish before the next action",
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder with logs and data")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    options = ChaosOptions(
        events=args.events,
        kills=args.kills,
        broker_restarts=args.broker_restarts,
        broker_signal=args.broker_signal,
        seed=args.seed,
        rate=args.rate,
        batch=args.batch,
        resend=args.resend,
        bad=args.bad,
        checkpoint_interval_s=args.checkpoint_interval,
        session_timeout_s=args.session_timeout,
        api_sample=args.api_sample,
        reference=not args.no_reference,
        wait_for_recovery=not args.overlap,
        workdir=args.workdir,
        keep=args.keep,
    )

    def say(line: str) -> None:
        print(line, flush=True)

    report = run_chaos(options, say)
    print()
    print(report.table())
    if report.lost_examples:
        print(f"lost, for example: {report.lost_examples}")
    failures = report.failures()
    print()
    print(
        "FAILED: " + "; ".join(failures)
        if failures
        else "OK: 0 lost, 0 duplicated, 0 double alerts"
    )
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
