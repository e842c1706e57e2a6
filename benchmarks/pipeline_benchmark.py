"""Pipeline benchmark: sustained events per second from publish to ClickHouse, and
publish-to-alert latency at a steady rate.

Runs real worker processes (``mast worker``: validate, resolve with escalation, ClickHouse
sink on embedded chDB) against the local broker, with topics, consumer groups and state of
their own, so it never touches a running stack's data. ``--layout one`` runs all three
stages in one process, as ``mast up`` does; ``--layout split`` runs one process per stage
(``mast worker --role …``), which is how two cores are put to work:

    .venv/bin/mast kafka start
    .venv/bin/python -m benchmarks.pipeline_benchmark --layout split --events 60000

Phase 1 publishes ``--events`` synthetic events as fast as the producer can and times until
the sink has written every one. Phase 2 then publishes at ``--rate`` events per second for
``--seconds`` and, for each alert, measures from the publish of the event that completed it
(the last-published of its evidence) to the alert's arrival on the alerts topic.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import TopicPartition

from mast_core.avro import ALERT, codec
from mast_core.events import encode_interaction, parse_event
from mast_core.settings import Settings
from messaging.clients import make_admin, make_consumer, make_producer
from messaging.topics import ensure_topics, topic_specs
from producers.publisher import partition_key
from producers.synthetic.population import EventGenerator
from tests.worker_process import WorkerProcess


def _prepare(count: int, seed: int) -> list[tuple[str, bytes, bytes]]:
    prepared = []
    for item in EventGenerator(corruption="default", seed=seed).generate(count):
        event = parse_event(item.event)
        prepared.append((event.event_id, partition_key(event), encode_interaction(event)))
    return prepared


class AlertWatcher(threading.Thread):
    """Reads the alerts topic from its current end and notes when each alert arrives."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.arrivals: list[tuple[float, list[str]]] = []
        self.stopping = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        consumer = make_consumer(self.settings, f"bench-alerts-{uuid.uuid4().hex}")
        topic = self.settings.alerts_topic
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        assignment = []
        for number in partitions:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, number), timeout=10)
            assignment.append(TopicPartition(topic, number, high))
        consumer.assign(assignment)
        self.ready.set()
        alert_codec = codec(ALERT)
        while not self.stopping.is_set():
            message = consumer.poll(0.05)
            if message is None or message.error():
                continue
            record = alert_codec.decode(message.value())
            self.arrivals.append((time.time(), list(record["evidence_event_ids"])))
        consumer.close()


def _cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time of a process so far (Linux /proc); 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000, help="phase 1 events")
    parser.add_argument("--rate", type=float, default=200.0, help="phase 2 events per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="phase 2 duration")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--layout", choices=["one", "split"], default="split")
    args = parser.parse_args()

    steady = int(args.rate * args.seconds)
    print(f"Preparing {args.events:,} + {steady:,} synthetic events ...", flush=True)
    events = _prepare(args.events + steady, args.seed)
    burst, paced = events[: args.events], events[args.events :]

    run = uuid.uuid4().hex[:8]
    workdir = Path(tempfile.mkdtemp(prefix="mast-bench-"))
    settings = Settings(
        state_dir=workdir / "state",
        topic_prefix=f"bench-{run}.",
        app_id=f"mast-bench-{run}",
        clickhouse_database="mast_bench",
    )
    ensure_topics(make_admin(settings), topic_specs(settings))
    roles = [None] if args.layout == "one" else ["validate", "resolve", "sink"]
    workers = [WorkerProcess(settings, workdir / f"worker-{r or 'all'}.log", r) for r in roles]
    for process in workers:
        process.start()
    worker = workers[-1]  # the one that writes to ClickHouse
    print(f"Layout {args.layout}: {len(workers)} worker process(es); logs in {workdir}")
    producer = make_producer(settings)
    topic = settings.interactions_topic
    try:
        # Phase 1: sustained throughput ---------------------------------------------------------
        print(f"Phase 1: publishing {len(burst):,} events as fast as possible", flush=True)
        pids = {f"worker {p.role or 'all'}": p.process.pid if p.process else None for p in workers}
        cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        started = time.time()
        for _event_id, key, value in burst:
            while True:
                try:
                    producer.produce(topic, value=value, key=key)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        producer.flush(120)
        published = time.time()

        def written(status: dict[str, object]) -> int:
            counts = status.get("counts", {})
            return (
                int(counts.get("sink_resolved_interactions", 0)) if isinstance(counts, dict) else 0
            )

        last_report = 0.0
        while True:
            status = worker.status() or {}
            done = written(status)
            now = time.time()
            if now - last_report > 5:
                print(f"  {done:,} in ClickHouse after {now - started:.0f}s", flush=True)
                last_report = now
            if done >= len(burst):
                break
            if now - started > 1800:
                raise SystemExit("phase 1 did not finish within 30 minutes")
            time.sleep(0.1)
        finished = time.time()
        elapsed = finished - started
        cpu = {name: _cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        print(
            "  CPU seconds per process: "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
            + f" (over {elapsed:.1f}s on {os.cpu_count()} cores)"
        )
        print(
            f"Phase 1: {len(burst):,} events published in {published - started:.1f}s "
            f"({len(burst) / (published - started):,.0f}/s); all in ClickHouse after "
            f"{elapsed:.1f}s: sustained {len(burst) / elapsed:,.0f} events/s publish-to-ClickHouse"
        )

        # Phase 2: latency at a steady rate -----------------------------------------------------
        watcher = AlertWatcher(settings)
        watcher.start()
        watcher.ready.wait(30)
        print(f"Phase 2: {args.rate:.0f} events/s for {args.seconds:.0f}s", flush=True)
        publish_time: dict[str, float] = {}
        interval = 1.0 / args.rate
        begin = time.time()
        for number, (event_id, key, value) in enumerate(paced):
            due = begin + number * interval
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            producer.produce(topic, value=value, key=key)
            publish_time[event_id] = time.time()
            producer.poll(0)
        producer.flush(60)
        time.sleep(5)  # let the last alerts arrive
        watcher.stopping.set()
        watcher.join(10)
        latencies = []
        for arrived, evidence in watcher.arrivals:
            sent = [publish_time[e] for e in evidence if e in publish_time]
            if sent:
                latencies.append(arrived - max(sent))
        if latencies:
            print(
                f"Phase 2: {len(latencies):,} alerts; publish-to-alert latency "
                f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
                f"p95 {_percentile(latencies, 0.95) * 1000:.0f} ms, "
                f"max {max(latencies) * 1000:.0f} ms"
            )
        else:
            print("Phase 2: no alerts raised by the paced events")
    finally:
        codes = [process.stop() for process in workers]
        print(f"Workers stopped (exit codes {codes})")


if __name__ == "__main__":
    main()
