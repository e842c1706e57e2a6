"""Reading a partner's file into validated events, streaming (a million-row extract is never
held in memory), with a report of every row that could not be sent and why.

Each row is admitted by the rules every door shares (``producers.admission``): the agency
check, the pipeline's validation (``parse_event``), and repeats within the file, which are
sent once. A row rejected here would have been dead-lettered by the pipeline: the partner
learns at once, with the line number.

Extracts come in whatever encoding the partner's tool writes. A byte-order mark decides it
(UTF-8, UTF-16 or UTF-32 either way round: a spreadsheet's "Unicode text" is UTF-16 with one);
without one, the mapping's ``encoding`` when it names one other than UTF-8; otherwise UTF-8 if
the whole file is valid UTF-8, else Windows-1252 (what a spreadsheet on a UK Windows machine
writes as "CSV"). UTF-16 without a mark is recognised by its zero bytes. The report says which
was used.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from mast_core.events import Agency, InteractionEvent
from producers.admission import REPEATED, Admission, Admissions, Outcome
from producers.mapping import ExtractMapping, MappingError, RowError

Progress = Callable[[int], None]
"""Told the number of bytes read so far."""

FALLBACK_ENCODING = "cp1252"
"""For a file that is not UTF-8 and says nothing else: Windows' Western European code page,
which decodes all but five byte values (ISO-8859-1 text reads the same, bar a few symbols)."""
_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UTF8_NAMES = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"}
_DELIMITERS = (",", "\t", ";", "|")


class ExtractEncodingError(MappingError):
    """A file that cannot be read in the encoding chosen for it."""


@dataclass(frozen=True)
class Encoding:
    codec: str
    """The Python codec the text is decoded with (after the mark, if any)."""
    skip: int
    """Bytes of byte-order mark before the text."""
    source: str
    """How it was chosen, for the report: "byte-order mark", "mapping", "detected"."""

    def describe(self) -> str:
        return f"{self.codec} ({self.source})"


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
    encoding: str = ""
    """How the file was read (``Encoding.describe``)."""

    def record(self, line: int, admission: Admission) -> InteractionEvent | None:
        """Count one admitted row; its event when it is to be sent."""
        if admission.outcome is Outcome.REJECTED:
            self.rejected.append(Rejected(line, admission.field, admission.reason))
            return None
        if admission.outcome is Outcome.REPEATED:
            self.repeated.append(line)
            return None
        self.accepted += 1
        return admission.event

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "outcome", "field", "reason"])
            for item in self.rejected:
                writer.writerow([item.line, Outcome.REJECTED.value, item.field, item.reason])
            for line in self.repeated:
                writer.writerow([line, Outcome.REPEATED.value, "event_id", REPEATED])
            for event_id, reason in self.failed:
                writer.writerow(["", "not acknowledged", event_id, reason])


def detect_encoding(path: Path, declared: str | None = None) -> Encoding:
    """The encoding to read ``path`` in (see the module's docstring for the order)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    marked = _marked(head)
    if marked is not None:
        return marked
    if declared and declared.lower().replace("_", "-") not in _UTF8_NAMES:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise MappingError(
                f"the mapping's encoding {declared!r} is not one Python knows"
            ) from None
        return Encoding(name, 0, "mapping")
    unmarked = _unmarked_utf16(head)
    if unmarked is not None:
        return Encoding(unmarked, 0, "detected")
    if _is_utf8(path):
        return Encoding("utf-8", 0, "detected")
    return Encoding(FALLBACK_ENCODING, 0, "detected: not UTF-8")


def _marked(head: bytes) -> Encoding | None:
    for mark, name in _BOMS:
        if head.startswith(mark):
            return Encoding(name, len(mark), "byte-order mark")
    return None


def _unmarked_utf16(head: bytes) -> str | None:
    """UTF-16 without a mark: text in Latin script has a zero byte in every other place."""
    pairs = len(head) // 2
    if pairs < 8:
        return None
    even = sum(1 for i in range(0, pairs * 2, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, pairs * 2, 2) if head[i] == 0)
    if odd > pairs * 0.4 and even < pairs * 0.05:
        return "utf-16-le"
    if even > pairs * 0.4 and odd < pairs * 0.05:
        return "utf-16-be"
    return None


def _is_utf8(path: Path) -> bool:
    """Whether the whole file is valid UTF-8 (one pass over its bytes, a megabyte at a time,
    before any row is sent: a file cannot change encoding halfway through its rows)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _text_lines(
    path: Path,
    encoding: Encoding,
    newline: str,
    progress: Progress | None,
    errors: str = "strict",
) -> Iterator[str]:
    """The file's lines, decoded, with the bytes read reported every thousand lines."""
    with path.open("rb") as raw:
        raw.seek(encoding.skip)
        text = io.TextIOWrapper(raw, encoding=encoding.codec, errors=errors, newline=newline)
        for number, line in enumerate(text, start=1):
            if progress is not None and number % 1000 == 0:
                progress(raw.tell())
            yield line
        if progress is not None:
            progress(raw.tell())


def _decoded_rows_only(path: Path, encoding: Encoding, progress: Progress | None) -> Iterator[str]:
    """The extract's lines, stopping with ExtractEncodingError at the first line that does
    not decode. Text is decoded a block at a time, so a strict decoder would fail before the
    good lines of the block were read: bytes that do not decode are kept as escapes instead
    (``surrogateescape``) and the line holding one is the line named."""
    number = 0
    lines = _text_lines(path, encoding, "", progress, errors="surrogateescape")
    try:
        for number, line in enumerate(lines, start=1):
            if _ESCAPED.search(line):
                raise ExtractEncodingError(
                    f"{path.name}: line {number} cannot be read as {encoding.describe()}; "
                    + _SAY_ENCODING
                )
            yield line
    except UnicodeDecodeError:  # a multi-byte codec's error the escapes cannot carry
        raise ExtractEncodingError(
            f"{path.name} cannot be read as {encoding.describe()} beyond line {number}; "
            + _SAY_ENCODING
        ) from None


_ESCAPED = re.compile("[\udc80-\udcff]")
"""Where ``surrogateescape`` kept a byte the codec could not decode."""
_SAY_ENCODING = "say its encoding in the mapping (encoding: …) or save it as UTF-8"


def _choose_delimiter(first_line: str, mapping: ExtractMapping) -> str:
    """The mapping's delimiter, unless the header only fits the mapping with another (a
    spreadsheet's "Unicode text" is tab-separated, a European "CSV" semicolon-separated)."""
    wanted = {*mapping.columns.values(), *mapping.identity_columns}
    for delimiter in (mapping.delimiter, *_DELIMITERS):
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        if wanted <= {name.lstrip("\ufeff").strip() for name in header}:
            return delimiter
    return mapping.delimiter


def read_csv_extract(
    path: Path,
    mapping: ExtractMapping,
    agency: Agency,
    report: ExtractReport,
    progress: Progress | None = None,
) -> Iterator[InteractionEvent]:
    """Valid, first-seen events in file order. Raises MappingError before the first event
    when the header lacks a mapped column, and ExtractEncodingError when the file stops
    decoding."""
    encoding = detect_encoding(path, mapping.encoding)
    report.encoding = encoding.describe()
    lines = _decoded_rows_only(path, encoding, progress)
    first = next(lines, None)
    if first is None:
        return
    reader = csv.reader(chain([first], lines), delimiter=_choose_delimiter(first, mapping))
    header = next(reader, None)
    if header is None:
        return
    header = [name.lstrip("\ufeff").strip() for name in header]
    mapping.check_header(header)
    admissions = Admissions(agency)
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
            item = mapping.event(dict(zip(header, values, strict=True)), agency)
        except RowError as exc:
            report.rejected.append(Rejected(start, exc.field, str(exc)))
            continue
        event = report.record(start, admissions.admit(item))
        if event is not None:
            yield event


def read_jsonl(
    path: Path,
    report: ExtractReport,
    progress: Progress | None = None,
    agency: Agency | None = None,
) -> Iterator[InteractionEvent]:
    """Events in the JSON form, one a line; with ``agency``, a line that leaves the agency
    out is taken as that agency's and one naming another is rejected (a partner sends only
    its own records), as over HTTP. UTF-8 (JSON's own encoding), or as a byte-order mark
    says; a file in neither raises UnicodeDecodeError."""
    with path.open("rb") as handle:
        encoding = _marked(handle.read(4)) or Encoding("utf-8", 0, "JSON")
    report.encoding = encoding.describe()
    admissions = Admissions(agency)
    for number, line in enumerate(_text_lines(path, encoding, "\n", progress), start=1):
        if not line.strip():
            continue
        report.rows += 1
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            report.rejected.append(Rejected(number, "(line)", f"not JSON ({exc.msg})"))
            continue
        event = report.record(number, admissions.admit(item))
        if event is not None:
            yield event
