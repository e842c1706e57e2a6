"""Reading a partner's file into validated events, streaming (a million-row extract is never
held in memory), with a report of every row that could not be sent and why.

Each row goes through the same validation as every other source (``parse_event``), so a
row rejected here would have been dead-lettered by the pipeline: the partner learns at once,
with the line number. A row repeated in the file (the same event id) is sent once.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mast_core.errors import InvalidEvent
from mast_core.events import Agency, InteractionEvent, parse_event
from producers.mapping import ExtractMapping, RowError

Progress = Callable[[int], None]
"""Told the number of bytes read so far."""


@dataclass(frozen=True)
class Rejected:
    line: int
    field: str
    reason: str


@dataclass
class ExtractReport:
    rows: int = 0
    accepted: int = 0
    published: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)
    """Line numbers of rows whose event was already sent from this file."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(event_id, reason) for events the broker did not acknowledge."""

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "outcome", "field", "reason"])
            for item in self.rejected:
                writer.writerow([item.line, "rejected", item.field, item.reason])
            for line in self.repeated:
                writer.writerow([line, "repeated", "", "the same event as an earlier row"])
            for event_id, reason in self.failed:
                writer.writerow(["", "not acknowledged", event_id, reason])


class _Seen:
    """Events already sent from this file, by their key (agency and event id, as
    ``event_key`` gives it), as 12-byte digests (a million is ~100 MB)."""

    def __init__(self) -> None:
        self._digests: set[bytes] = set()

    def first_time(self, event: InteractionEvent) -> bool:
        digest = hashlib.blake2b(event.key.encode("utf-8"), digest_size=12).digest()
        if digest in self._digests:
            return False
        self._digests.add(digest)
        return True


def _lines(path: Path, encoding: str, progress: Progress | None) -> Iterator[str]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if progress is not None and number % 1000 == 0:
                progress(handle.tell())
            yield raw.decode(encoding)
        if progress is not None:
            progress(handle.tell())


def read_csv_extract(
    path: Path,
    mapping: ExtractMapping,
    agency: Agency,
    report: ExtractReport,
    progress: Progress | None = None,
) -> Iterator[InteractionEvent]:
    """Valid, first-seen events in file order. Raises MappingError before the first event
    when the header lacks a mapped column."""
    encoding = mapping.encoding if mapping.encoding.lower() != "utf-8-sig" else "utf-8"
    lines = _lines(path, encoding, progress)
    reader = csv.reader(lines, delimiter=mapping.delimiter)
    header = next(reader, None)
    if header is None:
        return
    header = [name.lstrip("\ufeff").strip() for name in header]
    mapping.check_header(header)
    seen = _Seen()
    line = reader.line_num + 1
    for values in reader:
        start, line = line, reader.line_num + 1
        if not any(value.strip() for value in values):
            continue
        report.rows += 1
        if len(values) != len(header):
            report.rejected.append(
                Rejected(
                    start,
                    "(row)",
                    f"has {len(values)} columns where the header has {len(header)}",
                )
            )
            continue
        try:
            event = parse_event(mapping.event(dict(zip(header, values, strict=True)), agency))
        except RowError as exc:
            report.rejected.append(Rejected(start, exc.field, str(exc)))
            continue
        except InvalidEvent as exc:
            report.rejected.append(Rejected(start, exc.field, str(exc)))
            continue
        if not seen.first_time(event):
            report.repeated.append(start)
            continue
        report.accepted += 1
        yield event


def read_jsonl(
    path: Path,
    report: ExtractReport,
    progress: Progress | None = None,
    agency: Agency | None = None,
) -> Iterator[InteractionEvent]:
    """Events in DESIGN.md's JSON form, one a line; with ``agency``, a line naming another
    agency is rejected (a partner sends only its own records)."""
    seen = _Seen()
    for number, line in enumerate(_lines(path, "utf-8", progress), start=1):
        if not line.strip():
            continue
        report.rows += 1
        try:
            event = parse_event(json.loads(line))
        except json.JSONDecodeError as exc:
            report.rejected.append(Rejected(number, "(line)", f"not JSON ({exc.msg})"))
            continue
        except InvalidEvent as exc:
            report.rejected.append(Rejected(number, exc.field, str(exc)))
            continue
        if agency is not None and event.agency != agency:
            report.rejected.append(Rejected(number, "agency", f"agency: is not {agency.value}"))
            continue
        if not seen.first_time(event):
            report.repeated.append(number)
            continue
        report.accepted += 1
        yield event
