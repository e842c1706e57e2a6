"""Memory and speed of the pipeline's memory of seen events (mast_core.seen_events), against
the two sets of key strings it replaced (one in the resolution stage, one in escalation).

    .venv/bin/python -m benchmarks.seen_events_benchmark                 # 1,000,000 events
    .venv/bin/python -m benchmarks.seen_events_benchmark --events 5000000

Keys are realistic: (agency, event id) with ids shaped as partners' are (a derived CSV id is
the agency and 32 hex digits; a case system's is a prefix and a number). Memory is what
``tracemalloc`` sees allocated by building the structure (NumPy reports its buffers to it),
after a collection, so it is the structure's own; the checkpoint size is its pickle's.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import pickle
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

from mast_core.events import Agency, event_key
from mast_core.seen_events import SeenEvents

AGENCIES = [agency.value for agency in Agency]


def keys(count: int, salt: str = "") -> Iterator[tuple[str, str]]:
    """(agency, event id) pairs: half derived ids, half system numbers."""
    for number in range(count):
        agency = AGENCIES[number % len(AGENCIES)]
        if number % 2:
            digest = hashlib.sha256(f"{salt}{number}".encode()).hexdigest()[:32]
            yield agency, f"{agency.lower()}-{digest}"
        else:
            yield agency, f"{salt}INC-{2026000000 + number}"


def measured(build: Callable[[], Any]) -> tuple[Any, int]:
    """The built structure, and the bytes it holds (tracemalloc slows building, so speed is
    measured apart, by ``per_event``)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = build()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return built, held


def two_sets(count: int) -> tuple[set[str], set[str]]:
    """What the stage and escalation each kept before: its own set of key strings (each
    made its own key string, so the strings are not shared)."""
    stage: set[str] = set()
    engine: set[str] = set()
    for agency, event_id in keys(count):
        stage.add(event_key(agency, event_id))
        engine.add(event_key(agency, event_id))
    return stage, engine


def shared(count: int) -> SeenEvents:
    seen = SeenEvents()
    for agency, event_id in keys(count):
        seen.add(event_key(agency, event_id))
    return seen


def per_event(stage: Any, engine: Any, count: int, salt: str) -> float:
    """Microseconds per new event, asked and added as the pipeline does: the stage asks, then
    escalation asks and adds, then the stage adds (each with a key string of its own)."""
    events = list(keys(count, salt))
    started = time.perf_counter()
    for agency, event_id in events:
        key = event_key(agency, event_id)
        if key in stage:
            continue
        observed = event_key(agency, event_id)
        if observed not in engine:
            engine.add(observed)
        stage.add(key)
    return (time.perf_counter() - started) / count * 1e6


def repeats(seen: Any, count: int) -> float:
    """Microseconds to recognise a re-sent event."""
    probes = [event_key(a, e) for a, e in keys(count)]
    started = time.perf_counter()
    found = sum(1 for probe in probes if probe in seen)
    elapsed = time.perf_counter() - started
    if found != count:
        raise SystemExit(f"expected {count} repeats, recognised {found}")
    return elapsed / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.events
    sample = min(n, 200_000)

    (stage, engine), old_bytes = measured(lambda: two_sets(n))
    old_pickle = len(pickle.dumps((stage, engine), protocol=pickle.HIGHEST_PROTOCOL))
    old_event = min(per_event(stage, engine, sample, f"new{n}") for n in range(3))
    old_repeat = min(repeats(stage, sample) for _ in range(3))
    del stage, engine
    seen, new_bytes = measured(lambda: shared(n))
    if len(seen) != n:
        raise SystemExit(f"{n - len(seen)} keys shared a digest")
    new_pickle = len(pickle.dumps(seen, protocol=pickle.HIGHEST_PROTOCOL))
    new_event = min(per_event(seen, seen, sample, f"new{n}") for n in range(3))
    new_repeat = min(repeats(seen, sample) for _ in range(3))

    print(f"{n:,} events held; speed: the best of three rounds of {sample:,} more")
    print(f"{'':34}{'bytes/event':>12}{'checkpoint B/event':>20}{'new µs':>8}{'repeat µs':>11}")
    for label, held, pickled, event, repeat in (
        ("two sets of key strings (before)", old_bytes, old_pickle, old_event, old_repeat),
        ("one SeenEvents (now)", new_bytes, new_pickle, new_event, new_repeat),
    ):
        print(f"{label:34}{held / n:>12.1f}{pickled / n:>20.1f}{event:>8.2f}{repeat:>11.2f}")


if __name__ == "__main__":
    main()
