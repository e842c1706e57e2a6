"""``mast produce csv|jsonl``: publish a partner's file to the interactions topic, with a
report of what was rejected and why.

Exit codes: 0 when every row was published, 2 when some rows were rejected (the rest were
published; the report names each), 1 when nothing could be sent (a mapping that does not fit
the extract, a broker that does not acknowledge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from mast_cli.console import err, fail, progress_bar, say
from mast_core.events import Agency, InteractionEvent
from mast_core.settings import get_settings
from producers.extract import ExtractReport, read_csv_extract, read_jsonl
from producers.mapping import ExtractMapping, MappingError
from producers.publisher import InteractionPublisher

app = typer.Typer(help="Publish partner files to the interactions topic.")

CheckOption = Annotated[
    bool,
    typer.Option(
        "--check",
        help="Validate and write the report without sending anything (to try a mapping).",
    ),
]

_SHOWN = 10


def _publish(events: Iterator[InteractionEvent], report: ExtractReport, check: bool) -> None:
    if check:  # validate only: read every row, send nothing
        for _event in events:
            pass
        return
    delivery = InteractionPublisher(get_settings()).publish(events)
    report.published = delivery.delivered
    report.failed = delivery.failed


def _finish(
    path: Path, report: ExtractReport, report_path: Path | None, topic: str, check: bool
) -> None:
    target = report_path or path.with_name(path.name + ".report.csv")
    report.write_csv(target)
    sent = (
        f"{report.accepted:,} valid (checked only: nothing sent)"
        if check
        else f"{report.published:,} event{'' if report.published == 1 else 's'} "
        f"published to {topic}"
    )
    say(
        f"{path.name}: {report.rows:,} rows; {sent}; {len(report.rejected):,} rejected; "
        f"{len(report.repeated):,} repeated rows sent once"
    )
    for item in report.rejected[:_SHOWN]:
        say(f"  line {item.line}: {item.reason}")
    if len(report.rejected) > _SHOWN:
        say(f"  … and {len(report.rejected) - _SHOWN:,} more")
    say(f"Report: {target}")
    if report.failed:
        fail(f"{len(report.failed):,} events were not acknowledged by Kafka; send the file again")
    if report.rejected:
        raise typer.Exit(2)


def _progress_callback(progress: Progress, path: Path) -> Callable[[int], None]:
    total = path.stat().st_size
    task = progress.add_task(f"Publishing {path.name}", total=total)
    marks = {"next": total // 10}

    def advance(done: int) -> None:
        progress.update(task, completed=done)
        if not err.is_terminal and total and done >= marks["next"]:
            say(f"  {done * 100 // total}% of {path.name} read")
            marks["next"] += max(total // 10, 1)

    return advance


@app.command("csv")
def produce_csv(
    extract: Annotated[Path, typer.Argument(help="The partner's extract (CSV with a header).")],
    mapping: Annotated[
        Path, typer.Option(help="Which column is which field (producers/mappings/ has examples).")
    ],
    agency: Annotated[
        Agency | None, typer.Option(help="The partner's agency (else the mapping's).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the report (default: beside the extract, NAME.report.csv)."
        ),
    ] = None,
    check: CheckOption = False,
) -> None:
    """Validate each row of a nightly extract and publish it; rejected rows are listed with
    their line number and reason, a repeated row is one event."""
    if not extract.is_file():
        fail(f"no such file: {extract}")
    try:
        rules = ExtractMapping.load(mapping)
    except MappingError as exc:
        fail(str(exc))
    chosen = agency or rules.agency
    if chosen is None:
        fail("say which agency the extract is from: --agency, or agency: in the mapping")
    if agency is not None and rules.agency is not None and agency != rules.agency:
        fail(f"the mapping is for {rules.agency.value}, not {agency.value}")
    outcome = ExtractReport()
    with progress_bar() as progress:
        advance = _progress_callback(progress, extract)
        events = read_csv_extract(extract, rules, chosen, outcome, advance)
        try:
            _publish(events, outcome, check)
        except MappingError as exc:
            fail(str(exc))
        except UnicodeDecodeError:
            fail(f"{extract} is not in the mapping's encoding ({rules.encoding})")
    _finish(extract, outcome, report, get_settings().interactions_topic, check)


@app.command("jsonl")
def produce_jsonl(
    events_file: Annotated[
        Path,
        typer.Argument(
            metavar="EVENTS.jsonl",
            help="One event a line, in the JSON form of docs/event-contract.md.",
        ),
    ],
    agency: Annotated[Agency | None, typer.Option(help="Reject lines of any other agency.")] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Where to write the report (default: beside the file, NAME.report.csv)."),
    ] = None,
    check: CheckOption = False,
) -> None:
    """Validate and publish events already in MAST's JSON form."""
    if not events_file.is_file():
        fail(f"no such file: {events_file}")
    outcome = ExtractReport()
    with progress_bar() as progress:
        advance = _progress_callback(progress, events_file)
        try:
            _publish(read_jsonl(events_file, outcome, advance, agency), outcome, check)
        except UnicodeDecodeError:
            fail(f"{events_file} is not UTF-8")
    _finish(events_file, outcome, report, get_settings().interactions_topic, check)
