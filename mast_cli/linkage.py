"""``mast resolve``, ``mast synth``, ``mast quality`` and ``mast estimate``: the resolution
engine offline, over files, with the same code the stream processor runs."""

from __future__ import annotations

import csv
import gc
import json
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mast_cli.console import err, fail, out, progress_bar, say
from mast_core.errors import InvalidEvent
from mast_core.events import InteractionEvent, parse_event, parse_event_json
from mast_core.linkage import FREEZE_EVERY, Parameters, Resolver
from mast_core.linkage.estimation import estimate as estimate_parameters
from mast_core.linkage.quality import pair_agreement, pairwise_quality
from producers.synthetic.events import SyntheticEvent
from producers.synthetic.population import CORRUPTION_LEVELS, EventGenerator

LINK_COLUMNS = [
    "event_id",
    "person_id",
    "address_id",
    "match_weight",
    "reason",
    "parameters_version",
]
_MAX_REPORTED = 20


def read_events(path: Path, rejected: list[str]) -> Iterator[tuple[int, InteractionEvent]]:
    """Events from a JSON Lines file with their byte offset; bad lines are named in
    ``rejected`` (line number and reason, never the content) and skipped."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield handle.tell(), parse_event_json(line)
            except json.JSONDecodeError as exc:
                rejected.append(f"line {number}: not JSON ({exc.msg})")
            except UnicodeDecodeError:
                rejected.append(f"line {number}: not UTF-8 text")
            except InvalidEvent as exc:
                rejected.append(f"line {number}: {exc}")


def _load_parameters(path: Path | None) -> Parameters:
    return Parameters.load(path) if path else Parameters.default()


def resolve(
    input: Annotated[Path, typer.Option("--input", "-i", help="Events, one JSON object a line.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV of links to write.")],
    parameters: Annotated[
        Path | None, typer.Option(help="Parameters file from `mast estimate`.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            help="Resolver state to resume from (if it exists) and save to (as it stands "
            "before the end of the file is settled, so a later file continues the stream)."
        ),
    ] = None,
) -> None:
    """Resolve every event in file order to a person and an address, with the weight and
    a short reason. Person ids in the output are final: merges later in the file apply."""
    if not input.is_file():
        fail(f"no such file: {input}")
    if state is not None and state.exists():
        resolver = Resolver.load(state)
        say(f"Resuming from {state} ({resolver.stats.records} records already resolved)")
    else:
        resolver = Resolver(_load_parameters(parameters))
    rejected: list[str] = []
    started = time.perf_counter()
    count = 0
    with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as interim:
        writer = csv.writer(interim)
        with progress_bar() as progress:
            task = progress.add_task("Resolving", total=input.stat().st_size)
            last = None
            for offset, event in read_events(input, rejected):
                last = event
                result = resolver.resolve(event)
                if (count + 1) % FREEZE_EVERY == 0:
                    gc.freeze()
                weight = "" if result.match_weight is None else f"{result.match_weight:.2f}"
                writer.writerow(
                    [
                        result.event_id,
                        result.person_id,
                        result.address_id or "",
                        weight,
                        result.reason,
                        result.parameters_version,
                    ]
                )
                count += 1
                if count % 2000 == 0:
                    progress.update(task, completed=offset)
            if state is not None:
                # saved before the end-of-file settling: a later run resumes the stream
                # where it stood, and gives what one run over both files would have
                resolver.save(state)
            if last is not None:
                resolver.settle(last)  # re-estimate once more and judge the redo queue
        elapsed = time.perf_counter() - started
        interim.seek(0)
        with output.open("w", newline="", encoding="utf-8") as handle:
            final = csv.writer(handle)
            final.writerow(LINK_COLUMNS)
            for row in csv.reader(interim):
                row[1] = resolver.person_of(row[1])
                final.writerow(row)
    for line in rejected[:_MAX_REPORTED]:
        err.print(f"rejected {line}", markup=False, soft_wrap=True)
    if len(rejected) > _MAX_REPORTED:
        err.print(f"… and {len(rejected) - _MAX_REPORTED} more rejected lines", markup=False)
    stats = resolver.stats
    say(
        f"Resolved {count} events in {elapsed:.1f}s ({count / max(elapsed, 1e-9):,.0f}/s): "
        f"{stats.new_persons} people created, {stats.links} links, {stats.exact_repeats} exact "
        f"repeats, {stats.merges} merges, {stats.possible_matches} possible matches for review, "
        f"{resolver.capped_blocks} capped blocks; {len(rejected)} lines rejected"
    )
    if stats.relearnt:
        say(
            f"Parameters learnt from the data {stats.relearnt} times (now version "
            f"{resolver.parameters.version}); {stats.redo_links} records kept apart were "
            "joined when judged again"
        )
    say(f"Links written to {output}")


def synth(
    output: Annotated[Path, typer.Option("--output", "-o", help="Events file (JSON Lines).")],
    truth: Annotated[Path, typer.Option(help="Ground truth CSV: event_id,person,address.")],
    events: Annotated[int, typer.Option(min=1, help="How many events.")] = 10_000,
    corruption: Annotated[
        str, typer.Option(help=f"One of {', '.join(CORRUPTION_LEVELS)}.")
    ] = "default",
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
) -> None:
    """Generate a synthetic population's partner events, with ground truth."""
    if corruption not in CORRUPTION_LEVELS:
        fail(f"corruption must be one of {', '.join(CORRUPTION_LEVELS)}")
    generator = EventGenerator(corruption, seed=seed)
    with (
        output.open("w", encoding="utf-8") as events_file,
        truth.open("w", newline="", encoding="utf-8") as truth_file,
        progress_bar() as progress,
    ):
        writer = csv.writer(truth_file)
        writer.writerow(["event_id", "person", "address"])
        task = progress.add_task("Generating", total=events)
        for number, item in enumerate(generator.generate(events), start=1):
            events_file.write(json.dumps(item.event, separators=(",", ":")) + "\n")
            writer.writerow([item.event["event_id"], item.person_id, item.address_id])
            if number % 5000 == 0:
                progress.update(task, completed=number)
    say(f"Wrote {events} events to {output} and their ground truth to {truth}")


def _read_column(path: Path, column: str) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            fail(f"{path} has no column {column!r}")
        return {row["event_id"]: row[column] for row in reader if row[column]}


def quality(
    truth: Annotated[Path | None, typer.Option(help="Ground truth CSV from `mast synth`.")] = None,
    links: Annotated[Path | None, typer.Option(help="Links CSV from `mast resolve`.")] = None,
    events: Annotated[
        int, typer.Option(help="Without --links: generate this many events per level.")
    ] = 20_000,
    levels: Annotated[
        str, typer.Option(help="Without --links: corruption levels to measure.")
    ] = "low,default,high",
    seed: Annotated[int, typer.Option()] = 11,
    orders: Annotated[
        int, typer.Option(help="Without --links: also resolve the default level in N orders.")
    ] = 0,
) -> None:
    """Pairwise precision, recall and F1 of resolution against ground truth: of a links
    file, or (without --links) of freshly generated data at several corruption levels, and
    how far the clustering depends on the order records arrive in."""
    table = Table("data", "records", "precision", "recall", "F1", "address F1")
    if links is not None:
        if truth is None:
            fail("--links needs --truth")
        people = pairwise_quality(_read_column(links, "person_id"), _read_column(truth, "person"))
        places = pairwise_quality(_read_column(links, "address_id"), _read_column(truth, "address"))
        table.add_row(
            str(links),
            str(people.records),
            f"{people.precision:.4f}",
            f"{people.recall:.4f}",
            f"{people.f1:.4f}",
            f"{places.f1:.4f}",
        )
    else:
        for level in levels.split(","):
            if level not in CORRUPTION_LEVELS:
                fail(f"unknown corruption level {level!r}")
            generated = list(EventGenerator(level, seed=seed).generate(events))
            final, addresses = _resolve_all(generated)
            people = pairwise_quality(final, {g.event["event_id"]: g.person_id for g in generated})
            places = pairwise_quality(
                addresses, {g.event["event_id"]: g.address_id for g in generated}
            )
            table.add_row(
                f"corruption {level}",
                str(events),
                f"{people.precision:.4f}",
                f"{people.recall:.4f}",
                f"{people.f1:.4f}",
                f"{places.f1:.4f}",
            )
    out.print(table)
    if orders > 1 and links is None:
        _order_report(events, seed, orders)


def _resolve_all(generated: list[SyntheticEvent]) -> tuple[dict[str, str], dict[str, str]]:
    """Final person id and address id per event (no address: an id of its own)."""
    resolver = Resolver()
    predicted, addresses = {}, {}
    for item in generated:
        result = resolver.resolve(parse_event(item.event))
        predicted[result.event_id] = result.person_id
        addresses[result.event_id] = result.address_id or f"none:{result.event_id}"
    return {k: resolver.person_of(v) for k, v in predicted.items()}, addresses


def _order_report(events: int, seed: int, orders: int) -> None:
    generated = list(EventGenerator("default", seed=seed).generate(events))
    baseline, _ = _resolve_all(generated)
    table = Table("order", "pairs agreeing (Rand)", "linked pairs agreeing (F1)")
    for number in range(1, orders):
        shuffled = generated[:]
        random.Random(number).shuffle(shuffled)
        other, _ = _resolve_all(shuffled)
        table.add_row(
            f"shuffle {number} vs file order",
            f"{pair_agreement(baseline, other):.6f}",
            f"{pairwise_quality(other, baseline).f1:.4f}",
        )
    out.print(table)


def estimate(
    input: Annotated[Path, typer.Option("--input", "-i", help="Events (JSON Lines).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Parameters file to write.")],
    pairs: Annotated[int, typer.Option(help="Pairs sampled for u and per EM rule.")] = 500_000,
) -> None:
    """Estimate m and u from unlabelled events (u by random pairs, m by EM); thresholds and
    the prior are kept from the defaults."""
    if not input.is_file():
        fail(f"no such file: {input}")
    rejected: list[str] = []
    parameters = estimate_parameters(
        (event for _, event in read_events(input, rejected)),
        random_pairs=pairs,
        blocked_pairs=pairs,
        say=say,
    )
    parameters.save(output)
    if rejected:
        err.print(f"{len(rejected)} lines rejected (first: {rejected[0]})", markup=False)
    say(f"Parameters written to {output}; use them with --parameters")
