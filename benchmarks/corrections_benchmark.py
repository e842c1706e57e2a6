"""Corrections benchmark: time from a steward's split decision to corrected person pages.

It measures, while partners' events flow, how long after a steward decides to split a wrong
merge the person pages show the two people apart again.

It runs everything of its own, as the chaos benchmark does (and with its machinery,
``benchmarks.chaos_benchmark``), so the shared broker on 127.0.0.1:9092 and anyone's data
are never touched: a local Kafka broker (``messaging.broker.LocalKafka``) on free ports with
its own state folder, and ``mast up`` as a child process with its own state folder (embedded
ClickHouse), topic prefix, consumer groups and ports. Before ``mast up`` opens its ClickHouse
it adds two users: a practitioner and a steward::

    .venv/bin/python -m benchmarks.corrections_benchmark               # 10 cases, 200 events/s
    .venv/bin/python -m benchmarks.corrections_benchmark --cases 5 --seed 7 --keep

Partners send synthetic events (``producers.synthetic``, default corruption, every tenth
without a time) at ``--rate`` events per second for the whole run, from before the first
case until the last is measured. The first case starts after ``--warmup`` seconds of them
(20), once the stack has caught up with the stream since it started (the total consumer
lag within two seconds' input; at most ``--timeout`` seconds more).

Then ``--cases`` wrong merges are made and undone one after the other. Each case is a woman
of its own (invented name, date of birth, addresses, NHS number and police reference, drawn
with ``--seed``) known to health by her NHS number and no date of birth (record a), and to
the police at another address (record b): nothing links them. A third record, the police's
again (b's reference) carrying her NHS number at a's address (c), fits both strongly and
bridges them: the resolver merges one identity into the other, the older (a's) surviving
(``tests.factories.bridge_trio``, with people of its own). The three are sent with one
partition key, so they reach the resolver in that order whatever the partners' stream does.
For each case it:

1. waits for the merge on the identity-merges topic (the one ``c`` brought about) and then
   until it is visible through the API: the survivor's person page
   (``POST /api/v1/persons/{id}/view`` with a purpose) lists the retired id in
   ``merged_ids`` and shows the records held as it;
2. has the practitioner dispute those records ("not this person",
   ``POST /api/v1/persons/{survivor}/disputes``, purpose in the body);
3. reads the consumer lag of every stage (as ``mast status`` does), then has the steward
   decide ``split`` (``POST /api/v1/disputes/{id}/decision``): the clock starts as the
   decision is sent;
4. polls both person pages (every 0.2 s) until they are apart: the retired id's page no
   longer redirects to the survivor and shows the disputed records, and the survivor's
   page no longer lists the retired id or those records. The time is the poll's answer
   that first showed it (an upper bound, by at most one poll); the moment the resolver
   published the split (on the identity-splits topic) is noted on the way.

It prints a line per case and the median, 90th percentile (nearest rank) and maximum of
decision-to-corrected, the split's publication and the decision's own answer, the consumer
lag at the decisions, and the events per second actually sent (acknowledged by the broker)
and resolved (the stack's own count) while the cases ran. Exit code 1 when a case did not
correct within ``--timeout`` seconds of the decision (or failed before it: no merge, a
refusal).

The cases' NHS numbers are drawn like the synthetic population's (any valid number
beginning with 9), so one of the stream's people could share one: about one chance in 90
million per person sent (some 0.03% per case in ten minutes at 200 events/s). Her health
records would then join the case's person, which changes nothing that is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import random
import secrets
import shutil
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import Producer, TopicPartition

from benchmarks.chaos_benchmark import (
    PURPOSE,
    ChaosOptions,
    Item,
    Partners,
    Progress,
    Stack,
    Watch,
    add_user,
    call_api,
    chaos_settings,
    sign_in,
    stack_env,
    stream_items,
)
from mast_core.avro import IDENTITY_MERGE, IDENTITY_SPLIT, codec
from mast_core.events import InteractionEvent, encode_interaction
from mast_core.settings import Settings
from messaging.broker import LocalKafka
from messaging.clients import LIBRDKAFKA_LOGGER, make_admin, make_consumer, make_producer
from messaging.topics import ensure_topics, topic_specs
from producers.synthetic.events import SyntheticEvent
from producers.synthetic.population import EventGenerator, nhs_number
from tests.factories import letters, person_event

Say = Callable[[str], None]

PRACTITIONER = "corrections.practitioner"
STEWARD = "corrections.steward"
PURPOSE_DETAIL = "corrections benchmark"
POLL_S = 0.2
SEGMENT = 20_000
"""Synthetic events per segment of the endless stream (each segment a new set of people)."""


@dataclass(frozen=True)
class CorrectionsOptions:
    rate: float = 200.0
    """Events per second the partners send for the whole run."""
    cases: int = 10
    seed: int = 13
    timeout_s: float = 120.0
    """Longest wait for each step of a case: the merge to show, and the pages to correct
    after the decision."""
    warmup_s: float = 20.0
    """Seconds of the partners' stream before the first case, and then until the stack
    has caught up with it (the consumer lag within two seconds' input)."""
    checkpoint_interval_s: float = 30.0
    workdir: Path | None = None
    keep: bool = False


# The cases ----------------------------------------------------------------------------------------

_GIVEN = (
    "Edwina",
    "Harriet",
    "Lorna",
    "Mabel",
    "Ottilie",
    "Rosalind",
    "Winifred",
    "Agatha",
    "Beatrix",
    "Cordelia",
    "Dulcie",
    "Euphemia",
    "Florence",
    "Gwendolen",
    "Henrietta",
    "Imogen",
)
_FAMILY_STEMS = ("Quorn", "Brack", "Ashby", "Thrale", "Morcott", "Pendle", "Wistow", "Yarrow")
_PLACES = (
    ("Alder Street", "WS1 2AB", "Walsall"),
    ("Elm Way", "DY9 9ZZ", "Dudley"),
    ("Larch Close", "WV3 7QP", "Wolverhampton"),
    ("Sorrel Row", "WS10 8QP", "Wednesbury"),
    ("Rowan Drive", "B66 4LT", "Smethwick"),
    ("Hazel Grove", "DY4 0RS", "Tipton"),
)


@dataclass(frozen=True)
class Case:
    number: int
    name: str
    records: tuple[InteractionEvent, InteractionEvent, InteractionEvent]
    """a (health: NHS number, no date of birth), b (police, elsewhere), c (the bridge)."""
    partition_key: bytes

    @property
    def bridge(self) -> InteractionEvent:
        return self.records[2]

    def items(self) -> list[Item]:
        return [
            Item("event", (e.agency.value, e.event_id), self.partition_key, encode_interaction(e))
            for e in self.records
        ]


def make_cases(count: int, seed: int, run: str) -> list[Case]:
    """``count`` invented women, each with her own name, date of birth, addresses, NHS
    number and police reference (drawn with ``seed``), and three records that make a wrong
    merge; event ids carry ``run`` so that no two runs share one."""
    rng = random.Random(seed)
    cases: list[Case] = []
    numbers: set[str] = set()
    for number in range(1, count + 1):
        token = f"{rng.getrandbits(32):08x}"
        given = _GIVEN[(number - 1) % len(_GIVEN)]
        family = _FAMILY_STEMS[rng.randrange(len(_FAMILY_STEMS))] + letters(token)
        nhs = nhs_number(rng)
        while nhs in numbers:
            nhs = nhs_number(rng)
        numbers.add(nhs)
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365))
        home, elsewhere = rng.sample(_PLACES, 2)
        home_line = f"{rng.randint(1, 199)} {home[0]}"
        other_line = f"{rng.randint(1, 199)} {elsewhere[0]}"
        reference = f"P-{token.upper()}"
        ids = f"corr-{run}-{number}"
        person = {"given": given, "family": family}
        records = (
            person_event(
                **person,
                dob=None,
                agency="HEALTH",
                nhs=nhs,
                line1=home_line,
                postcode=home[1],
                town=home[2],
                event_id=f"{ids}-a",
            ),
            person_event(
                **person,
                dob=born.isoformat(),
                agency="POLICE",
                record=reference,
                line1=other_line,
                postcode=elsewhere[1],
                town=elsewhere[2],
                event_id=f"{ids}-b",
            ),
            person_event(
                **person,
                dob=born.isoformat(),
                agency="POLICE",
                record=reference,
                nhs=nhs,
                line1=home_line,
                postcode=home[1],
                town=home[2],
                event_id=f"{ids}-c",
            ),
        )
        cases.append(Case(number, f"{given} {family}", records, f"corrections-{ids}".encode()))
    return cases


def endless_synthetic(seed: int, segment: int = SEGMENT) -> Iterator[SyntheticEvent]:
    """One generator's events, segment after segment for as long as they are asked for:
    each segment a new set of people (the generator numbers people and events on, so no id
    repeats), at the addresses it has made so far and new ones."""
    generator = EventGenerator(corruption="default", seed=seed)
    while True:
        yield from generator.generate(segment)


# Kafka's side: the merges and splits the resolver publishes ---------------------------------------


class Outcomes(threading.Thread):
    """Reads the identity-merges and identity-splits topics from their start: each merge by
    the event that brought it about, each split by the merge it undid, with when it was
    read here."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True, name="outcomes")
        self.settings = settings
        self.lock = threading.Lock()
        self.merges: dict[str, tuple[dict[str, Any], float]] = {}
        self.splits: dict[str, tuple[dict[str, Any], float]] = {}
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        topics = {
            self.settings.identity_merges_topic: codec(IDENTITY_MERGE),
            self.settings.identity_splits_topic: codec(IDENTITY_SPLIT),
        }
        consumer = make_consumer(self.settings, f"corrections-outcomes-{uuid.uuid4().hex}")
        try:
            metadata = consumer.list_topics(timeout=10).topics
            consumer.assign(
                [
                    TopicPartition(topic, number, 0)
                    for topic in topics
                    for number in metadata[topic].partitions
                ]
            )
            while not self.stopping.is_set():
                for message in consumer.consume(100, timeout=0.2):
                    if message.error():
                        continue
                    seen = time.monotonic()
                    topic = message.topic() or ""
                    record = topics[topic].decode(message.value())
                    with self.lock:
                        if topic == self.settings.identity_merges_topic:
                            trigger = record.get("triggered_by_event_id") or ""
                            self.merges.setdefault(trigger, (record, seen))
                        else:
                            self.splits.setdefault(record["merge_id"], (record, seen))
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        finally:
            consumer.close()

    def merge_brought_by(self, event_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.merges.get(event_id)
        return None if found is None else found[0]

    def split_seen(self, merge_id: str) -> float | None:
        with self.lock:
            found = self.splits.get(merge_id)
        return None if found is None else found[1]


# The API, as the practitioner and the steward use it ----------------------------------------------


class User:
    """A signed-in user of the stack's API; signs in again when the token has expired."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url, self.username, self.password = url, username, password
        self.token = sign_in(url, username, password)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            return call_api(self.url, path, self.token, body=body)
        except urllib.error.HTTPError as exc:
            if exc.code != 401:
                raise
        self.token = sign_in(self.url, self.username, self.password)
        return call_api(self.url, path, self.token, body=body)

    def person(self, person_id: str) -> dict[str, Any]:
        return dict(
            self.post(
                f"/api/v1/persons/{urllib.parse.quote(person_id)}/view",
                {"purpose": PURPOSE, "purpose_detail": PURPOSE_DETAIL},
            )
        )


# One case -----------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    number: int
    name: str
    survivor: str = ""
    retired: str = ""
    disputed: list[str] = field(default_factory=list)
    merge_visible_s: float | None = None
    """From sending the three records to the merge showing on the survivor's page."""
    decision_answer_s: float | None = None
    """The steward's decision request (answered once Kafka has the correction)."""
    split_published_s: float | None = None
    """Decision to the resolver's split read on the identity-splits topic."""
    corrected_s: float | None = None
    """Decision to both person pages showing the two people apart."""
    lag_at_decision: Progress | None = None
    polls: int = 0
    poll_errors: int = 0
    failure: str = ""


@dataclass
class Run:
    """What the cases share: the stack, the users, Kafka's view, the partners."""

    settings: Settings
    stack: Stack
    practitioner: User
    steward: User
    outcomes: Outcomes
    watch: Watch
    partners: Partners
    options: CorrectionsOptions
    clock: Callable[[], float]
    say: Say
    planter: Producer
    """Sends each case's records (the partners' stream has a producer of its own)."""

    def alive_or_raise(self) -> None:
        if not self.stack.alive():
            raise RuntimeError("mast up exited:\n" + self.stack.tail())


def run_case(run: Run, case: Case) -> CaseResult:
    result = CaseResult(case.number, case.name)
    say, clock, timeout = run.say, run.clock, run.options.timeout_s

    def prefix() -> str:
        return f"[{clock():6.0f}s] case {case.number}"

    # the three records, in order on one partition
    for item in case.items():
        run.planter.produce(
            run.settings.interactions_topic, value=item.value, key=item.partition_key
        )
    if run.planter.flush(30) > 0:
        result.failure = "the case's records were not acknowledged by the broker"
        return result
    planted = time.monotonic()

    # the merge, on its topic, then through the API
    deadline = planted + timeout
    merge = None
    while merge is None and time.monotonic() < deadline:
        run.alive_or_raise()
        merge = run.outcomes.merge_brought_by(case.bridge.event_id)
        if merge is None:
            time.sleep(0.1)
    if merge is None:
        result.failure = f"no merge brought about by {case.bridge.event_id} within {timeout:.0f}s"
        return result
    result.survivor = str(merge["surviving_person_id"])
    result.retired = str(merge["retired_person_id"])
    merge_id = str(merge["merge_id"])
    while time.monotonic() < deadline:
        with contextlib.suppress(urllib.error.HTTPError, urllib.error.URLError, TimeoutError):
            page = run.practitioner.person(result.survivor)
            result.disputed = [
                i["event_id"] for i in page["interactions"] if i["person_id"] == result.retired
            ]
            if result.retired in page["merged_ids"] and result.disputed:
                result.merge_visible_s = time.monotonic() - planted
                break
        run.alive_or_raise()
        time.sleep(POLL_S)
    if result.merge_visible_s is None:
        result.failure = f"the merge was not visible through the API within {timeout:.0f}s"
        return result
    say(
        f"{prefix()}: {case.name}: {result.retired} merged into {result.survivor}, on the page "
        f"after {result.merge_visible_s:.1f}s; disputing {len(result.disputed)} record(s)"
    )

    # the practitioner's dispute, then the steward's decision
    try:
        dispute = run.practitioner.post(
            f"/api/v1/persons/{urllib.parse.quote(result.survivor)}/disputes",
            {
                "event_ids": result.disputed,
                "reason": "another woman: another address, nothing shared but the bridge",
                "purpose": PURPOSE,
                "purpose_detail": PURPOSE_DETAIL,
            },
        )
    except urllib.error.HTTPError as exc:
        result.failure = f"the dispute was refused: {exc.code} {_detail(exc)}"
        return result
    result.lag_at_decision = run.watch.read()
    decided = time.monotonic()
    try:
        decision = run.steward.post(
            f"/api/v1/disputes/{urllib.parse.quote(dispute['dispute_id'])}/decision",
            {"decision": "split", "note": "not the same woman (corrections benchmark)"},
        )
    except urllib.error.HTTPError as exc:
        result.failure = f"the decision was refused: {exc.code} {_detail(exc)}"
        return result
    result.decision_answer_s = time.monotonic() - decided
    if merge_id not in decision.get("merge_ids", []):
        result.failure = f"the decision undoes {decision.get('merge_ids')}, not {merge_id}"
        return result

    # both pages, until they are apart
    deadline = decided + timeout
    while time.monotonic() < deadline:
        result.polls += 1
        try:
            if _apart(run.practitioner, result):
                result.corrected_s = time.monotonic() - decided
                break
        except (urllib.error.HTTPError, urllib.error.URLError, TimeoutError):
            result.poll_errors += 1
        run.alive_or_raise()
        time.sleep(POLL_S)
    seen = run.outcomes.split_seen(merge_id)
    if seen is not None:
        result.split_published_s = seen - decided
    if result.corrected_s is None:
        result.failure = f"the pages were not corrected within {timeout:.0f}s of the decision"
        return result
    say(
        f"{prefix()}: corrected {result.corrected_s:.2f}s after the decision (answered in "
        f"{result.decision_answer_s:.2f}s, split published after "
        f"{_secs(result.split_published_s)}; lag at the decision "
        f"{_lag(result.lag_at_decision)})"
    )
    return result


def _detail(error: urllib.error.HTTPError) -> str:
    with contextlib.suppress(Exception):
        return str(json.loads(error.read()).get("detail"))
    return ""


def _apart(user: User, result: CaseResult) -> bool:
    """The survivor's page without the retired id or its records, and the retired id's own
    page (not a redirect) with them."""
    survivor = user.person(result.survivor)
    shown = {i["event_id"] for i in survivor["interactions"]}
    if result.retired in survivor["merged_ids"] or shown & set(result.disputed):
        return False
    retired = user.person(result.retired)
    own = {i["event_id"] for i in retired["interactions"]}
    return retired["person_id"] == result.retired and set(result.disputed) <= own


# Progress and the flow ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowMark:
    at: float
    sent: int
    """Events the broker has acknowledged."""
    resolved: int | None
    """Events the stack has resolved (its own count), when it answered."""


def flow_mark(stack: Stack, partners: Partners) -> FlowMark:
    status = stack.status() or {}
    resolved = status.get("counts", {}).get("resolved")
    return FlowMark(
        time.monotonic(),
        len(partners.acknowledged),
        None if resolved is None else int(resolved),
    )


def _per_s(first: FlowMark, last: FlowMark, what: str) -> float | None:
    before, after = getattr(first, what), getattr(last, what)
    if before is None or after is None or last.at <= first.at:
        return None
    return float(after - before) / (last.at - first.at)


class Ticker(threading.Thread):
    """A progress line every ``every`` seconds: events sent and resolved, and the lag."""

    def __init__(
        self,
        stack: Stack,
        partners: Partners,
        watch: Watch,
        clock: Callable[[], float],
        say: Say,
        every: float = 15.0,
    ) -> None:
        super().__init__(daemon=True, name="ticker")
        self.stack, self.partners, self.watch = stack, partners, watch
        self.clock, self.say, self.every = clock, say, every
        self.stopping = threading.Event()

    def run(self) -> None:
        previous = flow_mark(self.stack, self.partners)
        while not self.stopping.wait(self.every):
            try:
                now = flow_mark(self.stack, self.partners)
                sent, resolved = _per_s(previous, now, "sent"), _per_s(previous, now, "resolved")
                previous = now
                self.say(
                    f"[{self.clock():6.0f}s] flowing: {now.sent:,} events sent "
                    f"({_rate(sent)}), {now.resolved or 0:,} resolved ({_rate(resolved)}); "
                    f"consumer lag {_lag(self.watch.read())}"
                )
            except Exception as exc:  # a progress line is not worth the run
                self.say(f"[{self.clock():6.0f}s] progress: {type(exc).__name__}: {exc}")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}/s"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _lag(progress: Progress | None) -> str:
    if progress is None:
        return "not read"
    busy = ", ".join(
        f"{topic.split('.', 1)[-1]} {value:,}" for topic, value in progress.lag.items() if value
    )
    return f"{progress.total_lag:,}" + (f" ({busy})" if busy else "")


def _wait_steady(
    watch: Watch, threshold: float, timeout: float, clock: Callable[[], float], say: Say
) -> None:
    """Until the total consumer lag is within ``threshold`` messages (the stack has caught
    up with the partners' stream since it started), or ``timeout`` seconds have gone."""
    deadline = time.monotonic() + timeout
    progress = watch.read()
    while progress is None or progress.total_lag > threshold:
        if time.monotonic() > deadline:
            say(
                f"[{clock():6.0f}s] the stack has not caught up within {timeout:.0f}s "
                f"(consumer lag {_lag(progress)}); starting the cases all the same"
            )
            return
        time.sleep(1.0)
        progress = watch.read()
    say(f"[{clock():6.0f}s] caught up with the stream: consumer lag {_lag(progress)}")


# The report ---------------------------------------------------------------------------------------


def _nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _spread(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    return (
        f"median {statistics.median(known):.2f} s, p90 {_nearest_rank(known, 0.9):.2f} s, "
        f"max {max(known):.2f} s (of {len(known)})"
    )


@dataclass
class CorrectionsReport:
    options: CorrectionsOptions
    cases: list[CaseResult] = field(default_factory=list)
    sent_per_s: float | None = None
    resolved_per_s: float | None = None
    cases_s: float = 0.0
    total_s: float = 0.0
    error: str = ""

    def failures(self) -> list[str]:
        found = [f"case {c.number}: {c.failure}" for c in self.cases if c.failure]
        missing = self.options.cases - len(self.cases)
        if missing > 0:
            found.append(f"{missing} case(s) not run")
        if self.error:
            found.append(self.error)
        return found

    def table(self) -> str:
        lines = [
            f"{'case':>4}  {'survivor':<18} {'retired':<18} {'disputed':>8} {'merge shown':>11} "
            f"{'answer':>7} {'split out':>9} {'corrected':>9}  lag at decision"
        ]
        for c in self.cases:
            lines.append(
                f"{c.number:>4}  {c.survivor:<18} {c.retired:<18} {len(c.disputed):>8} "
                f"{_secs(c.merge_visible_s):>11} {_secs(c.decision_answer_s):>7} "
                f"{_secs(c.split_published_s):>9} {_secs(c.corrected_s):>9}  "
                f"{_lag(c.lag_at_decision) if c.decision_answer_s is not None else '-'}"
                + (f"  ({c.poll_errors} of {c.polls} polls failed)" if c.poll_errors else "")
                + (f"  FAILED: {c.failure}" if c.failure else "")
            )
        lags = [c.lag_at_decision.total_lag for c in self.cases if c.lag_at_decision]
        resolver = [c.lag_at_decision.resolver_lag for c in self.cases if c.lag_at_decision]
        rows = [
            (
                "decision to corrected pages",
                _spread([c.corrected_s for c in self.cases]),
            ),
            (
                "  decision to the split published by the resolver",
                _spread([c.split_published_s for c in self.cases]),
            ),
            (
                "  the decision's own answer (Kafka has the correction)",
                _spread([c.decision_answer_s for c in self.cases]),
            ),
            (
                "merge sent to merge shown on the page",
                _spread([c.merge_visible_s for c in self.cases]),
            ),
            (
                "consumer lag at the decisions (messages)",
                (
                    f"total median {statistics.median(lags):,.0f}, max {max(lags):,}; "
                    f"accepted log (the resolver) median {statistics.median(resolver):,.0f}, "
                    f"max {max(resolver):,}"
                )
                if lags
                else "not read",
            ),
            (
                "events flowing while the cases ran",
                f"{_rate(self.sent_per_s)} sent (acknowledged), {_rate(self.resolved_per_s)} "
                f"resolved; asked {self.options.rate:,.0f}/s",
            ),
            (
                "time",
                f"cases {self.cases_s:.0f} s, whole run {self.total_s:.0f} s",
            ),
        ]
        width = max(len(label) for label, _ in rows)
        lines.append("")
        lines.extend(f"{label:<{width}}  {value}" for label, value in rows)
        return "\n".join(lines)


# The run ------------------------------------------------------------------------------------------


def run_corrections(options: CorrectionsOptions, say: Say = print) -> CorrectionsReport:
    """The whole benchmark; the report says what was measured. Everything it started is
    stopped again, and its folder removed unless ``keep`` (or a ``workdir`` was given)."""
    LIBRDKAFKA_LOGGER.setLevel(logging.CRITICAL)
    began = time.monotonic()

    def clock() -> float:
        return time.monotonic() - began

    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="mast-corrections-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stream_options = ChaosOptions(
        seed=options.seed,
        rate=options.rate,
        resend=0.0,
        bad=0.0,
        checkpoint_interval_s=options.checkpoint_interval_s,
    )
    settings = chaos_settings(workdir, stream_options, name="corrections")
    env = stack_env(settings)
    report = CorrectionsReport(options)
    passwords = {PRACTITIONER: secrets.token_urlsafe(18), STEWARD: secrets.token_urlsafe(18)}
    cases = make_cases(options.cases, options.seed, uuid.uuid4().hex[:8])

    broker = LocalKafka(settings)
    stack = Stack(settings, env, workdir / "up.log")
    say(
        f"[{clock():6.0f}s] Starting a broker of its own on {settings.kafka_bootstrap}, and "
        f"adding a practitioner and a steward ({workdir})"
    )
    adding_error: list[BaseException] = []

    def add_users() -> None:
        try:
            add_user(env, PRACTITIONER, "practitioner", "POLICE", passwords[PRACTITIONER])
            add_user(env, STEWARD, "steward", "OTHER", passwords[STEWARD])
        except BaseException as exc:
            adding_error.append(exc)

    adding = threading.Thread(target=add_users, name="add-users")
    adding.start()  # the embedded ClickHouse meanwhile: it needs no broker
    stopping = threading.Event()
    threads: list[threading.Thread] = []
    outcomes: Outcomes | None = None
    ticker: Ticker | None = None
    partners: Partners | None = None
    try:
        try:
            broker.start(say=lambda _line: None)
        finally:
            adding.join()
        if adding_error:
            raise adding_error[0]
        ensure_topics(make_admin(settings), topic_specs(settings))
        say(f"[{clock():6.0f}s] broker ready; starting mast up")
        stack.start()
        if stack.wait_ready() is None:
            raise RuntimeError("mast up did not start:\n" + stack.tail())
        say(f"[{clock():6.0f}s] mast up ready on {stack.url}")

        outcomes = Outcomes(settings)
        outcomes.start()
        partners = Partners(settings)
        watch = Watch(settings)
        stream = stream_items(endless_synthetic(options.seed), stream_options, say)
        batch = max(1, round(options.rate / 20))  # twenty sends a second
        sending = threading.Thread(
            target=partners.publish,
            args=(stream, options.rate, batch, stopping),
            name="partners",
            daemon=True,
        )
        sending.start()
        threads.append(sending)
        ticker = Ticker(stack, partners, watch, clock, say)
        ticker.start()
        run = Run(
            settings,
            stack,
            User(stack.url, PRACTITIONER, passwords[PRACTITIONER]),
            User(stack.url, STEWARD, passwords[STEWARD]),
            outcomes,
            watch,
            partners,
            options,
            clock,
            say,
            make_producer(settings),
        )
        say(
            f"[{clock():6.0f}s] partners sending at {options.rate:,.0f} events/s; "
            f"{options.warmup_s:.0f}s before the first case"
        )
        time.sleep(options.warmup_s)
        _wait_steady(watch, 2 * options.rate, options.timeout_s, clock, say)
        first = flow_mark(stack, partners)
        for case in cases:
            if outcomes.error is not None:
                raise outcomes.error
            if not sending.is_alive():
                raise RuntimeError("the partners' stream stopped")
            report.cases.append(run_case(run, case))
            if report.cases[-1].failure:
                say(f"[{clock():6.0f}s] case {case.number} FAILED: {report.cases[-1].failure}")
        last = flow_mark(stack, partners)
        report.sent_per_s = _per_s(first, last, "sent")
        report.resolved_per_s = _per_s(first, last, "resolved")
        report.cases_s = last.at - first.at
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        say(f"[{clock():6.0f}s] stopped early: {report.error}")
    finally:
        stopping.set()
        if partners is not None:
            partners.producer.flush(10)
        watchers: list[Ticker | Outcomes] = [t for t in (ticker, outcomes) if t is not None]
        for watcher in watchers:
            watcher.stopping.set()
        for thread in [*threads, *watchers]:
            thread.join(30)
        say(f"[{clock():6.0f}s] stopping mast up and the broker")
        if stack.alive():
            stack.stop(120)
        broker.stop(say=lambda _line: None)
        report.total_s = clock()
        if options.workdir is None and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"Logs and data kept in {workdir}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="partners' events/s")
    parser.add_argument("--cases", type=int, default=10, help="wrong merges to split")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds a case may wait for its merge to show, and for its pages to correct",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=20.0,
        help="seconds of the stream before case 1 (then until the lag is within 2 s' input)",
    )
    parser.add_argument("--checkpoint-interval", type=float, default=30.0)
    parser.add_argument("--keep", action="store_true", help="keep the folder with logs and data")
    parser.add_argument("--workdir", type=Path, help="a new folder for the run (kept)")
    args = parser.parse_args()
    if args.rate <= 0:
        parser.error("--rate must be above 0: the cases run while events flow at that rate")
    options = CorrectionsOptions(
        rate=args.rate,
        cases=args.cases,
        seed=args.seed,
        timeout_s=args.timeout,
        warmup_s=args.warmup,
        checkpoint_interval_s=args.checkpoint_interval,
        workdir=args.workdir,
        keep=args.keep,
    )

    def say(line: str) -> None:
        print(line, flush=True)

    report = run_corrections(options, say)
    print()
    print(report.table())
    failures = report.failures()
    print()
    print(
        "FAILED: " + "; ".join(failures)
        if failures
        else f"OK: {len(report.cases)} wrong merges split and corrected on the pages"
    )
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
