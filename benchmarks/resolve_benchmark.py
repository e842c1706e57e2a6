"""Speed, memory and quality of the offline resolver, and Splink beside it.

    .venv/bin/python -m benchmarks.resolve_benchmark                 # 10k, 100k, 1M
    .venv/bin/python -m benchmarks.resolve_benchmark --sizes 10000 --splink 20000

For each size it generates synthetic events with ground truth (default corruption), then
resolves them in a fresh child process (so peak memory is the resolver's own) and prints
records per second (JSON decoding, validation and resolution, one core) by the wall clock
and by the child's processor time (the fairer figure on a shared machine), the cost per
record relative to the smallest size, peak resident memory, and pairwise precision, recall
and F1. With ``--splink N`` it also links the first N events with Splink (DuckDB backend,
set up as its documentation recommends) and prints both F1s and rates side by side.
Splink is a benchmark dependency only: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mast_core.events import parse_event_json
from mast_core.linkage import FREEZE_EVERY, Resolver
from mast_core.linkage.quality import pairwise_quality
from producers.synthetic.population import EventGenerator


def generate(path: Path, truth: Path, events: int, seed: int) -> None:
    with path.open("w") as out, truth.open("w", newline="") as truth_file:
        writer = csv.writer(truth_file)
        for item in EventGenerator("default", seed=seed).generate(events):
            out.write(json.dumps(item.event, separators=(",", ":")) + "\n")
            writer.writerow([item.event["event_id"], item.person_id])


def run_resolver(path: Path, links: Path) -> dict[str, float]:
    """Runs in the child: resolve the file, write links, report rate and peak memory."""
    resolver = Resolver()
    predicted: dict[str, str] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            result = resolver.resolve(parse_event_json(line))
            predicted[result.event_id] = result.person_id
            if number % FREEZE_EVERY == 0:
                gc.freeze()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    with links.open("w", newline="") as out:
        writer = csv.writer(out)
        for event_id, person_id in predicted.items():
            writer.writerow([event_id, resolver.person_of(person_id)])
    return {
        "records": len(predicted),
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "comparisons": resolver.stats.comparisons,
        "capped_blocks": resolver.capped_blocks,
    }


def _read(path: Path) -> dict[str, str]:
    with path.open(newline="") as handle:
        return {row[0]: row[1] for row in csv.reader(handle)}


def measure(size: int, workdir: Path, seed: int) -> dict[str, float]:
    events, truth, links = (workdir / f"{size}.{kind}" for kind in ("jsonl", "truth", "links"))
    generate(events, truth, size, seed)
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.resolve_benchmark", "--child", str(events), str(links)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(child.stdout.strip().splitlines()[-1])
    quality = pairwise_quality(_read(links), _read(truth))
    report.update(precision=quality.precision, recall=quality.recall, f1=quality.f1)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--splink", type=int, default=0, help="also run Splink on N events")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_resolver(Path(args.child[0]), Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        baseline: float | None = None
        cost: dict[int, float] = {}
        print(
            f"{'records':>9} {'rec/s':>8} {'cpu r/s':>8} {'µs/rec':>7} {'× base':>6} "
            f"{'peak MiB':>9} {'cmp/rec':>7} {'precision':>9} {'recall':>7} {'F1':>7}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            r = measure(size, workdir, args.seed)
            per_record = r["seconds"] / r["records"] * 1e6
            baseline = baseline or per_record
            cost[size] = per_record
            print(
                f"{r['records']:>9,.0f} {r['records'] / r['seconds']:>8,.0f} "
                f"{r['records'] / r['cpu_seconds']:>8,.0f} {per_record:>7.0f} "
                f"{per_record / baseline:>6.2f} {r['peak_mib']:>9,.0f} "
                f"{r['comparisons'] / r['records']:>7.1f} {r['precision']:>9.4f} "
                f"{r['recall']:>7.4f} {r['f1']:>7.4f}",
                flush=True,
            )
        if 100_000 in cost and 1_000_000 in cost:
            ratio = cost[1_000_000] / cost[100_000]
            print(f"cost per record at 1M is {ratio:.2f}x that at 100k")
        if args.splink:
            from benchmarks.splink_compare import compare_with_splink

            compare_with_splink(args.splink, workdir, args.seed)


if __name__ == "__main__":
    main()
