"""Partners' files as their tools write them: every encoding a spreadsheet or case system
saves a CSV in, tab- and semicolon-separated text, and JSON lines with a byte-order mark; all
admitted by the shared rules, with the report's words."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import pytest

from mast_core.events import Agency
from producers.admission import REPEATED
from producers.extract import (
    ExtractEncodingError,
    ExtractReport,
    detect_encoding,
    read_csv_extract,
    read_jsonl,
)
from producers.mapping import ExtractMapping

MAPPINGS = Path(__file__).resolve().parents[3] / "producers" / "mappings"

HEADER = ["Occurrence Ref", "Person URN", "Occurrence Type", "Reported Date/Time",
          "Subject Name", "DOB", "Sex", "Address", "Town", "Postcode", "Officer In Case",
          "OIC Phone"]  # fmt: skip
ROWS = [
    ["OC-1", "URN1", "DA", "03/04/2026 22:15", "O’NEILL, Zoë", "13/02/1957", "F",
     "12 Stanley St", "Walsall", "WS1 2AB", "PC Núñez", "101"],
    ["OC-2", "URN2", "CONCERN", "04/04/2026 09:00", "BRONTË, Anaïs", "01/05/1980", "F",
     "3 Café Row", "Walsall", "WS1 3CD", "PC Reid", "101"],
]  # fmt: skip


def _police(**changes) -> ExtractMapping:
    mapping = ExtractMapping.load(MAPPINGS / "police.yaml")
    return ExtractMapping(**{**mapping.__dict__, **changes})


def _text(delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return buffer.getvalue()


def _read(path: Path, mapping: ExtractMapping | None = None) -> tuple[list, ExtractReport]:
    report = ExtractReport()
    events = list(read_csv_extract(path, mapping or _police(), Agency.POLICE, report))
    return events, report


def _names(events) -> list[tuple[str | None, str | None]]:
    return [(e.subject.given_name, e.subject.family_name) for e in events]


EXPECTED = [("Zoë", "O’NEILL"), ("Anaïs", "BRONTË")]


@pytest.mark.parametrize(
    ("label", "data", "read_as"),
    [
        ("UTF-8", _text().encode("utf-8"), "utf-8 (detected)"),
        ("UTF-8 with BOM", codecs.BOM_UTF8 + _text().encode("utf-8"), "utf-8 (byte-order mark)"),
        (
            "spreadsheet Unicode text: UTF-16 LE with BOM, tabs",
            codecs.BOM_UTF16_LE + _text("\t").encode("utf-16-le"),
            "utf-16-le (byte-order mark)",
        ),
        (
            "UTF-16 BE with BOM",
            codecs.BOM_UTF16_BE + _text().encode("utf-16-be"),
            "utf-16-be (byte-order mark)",
        ),
        ("UTF-16 LE without BOM", _text().encode("utf-16-le"), "utf-16-le (detected)"),
        (
            "UTF-32 LE with BOM",
            codecs.BOM_UTF32_LE + _text().encode("utf-32-le"),
            "utf-32-le (byte-order mark)",
        ),
        (
            "Windows-1252 (spreadsheet CSV)",
            _text().encode("cp1252"),
            "cp1252 (detected: not UTF-8)",
        ),
        ("Windows-1252, semicolons", _text(";").encode("cp1252"), "cp1252 (detected: not UTF-8)"),
    ],
)
def test_every_encoding_a_partners_tool_writes_is_read(tmp_path, label, data, read_as):
    path = tmp_path / "extract.csv"
    path.write_bytes(data)
    events, report = _read(path)
    assert report.rejected == [], label
    assert _names(events) == EXPECTED, label
    assert events[0].contact is not None and events[0].contact.name == "PC Núñez"
    assert report.encoding == read_as


def test_an_encoding_the_mapping_names_is_used_when_no_mark_says_otherwise(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_bytes(_text().encode("latin-1", errors="replace"))  # ’ has no Latin-1 byte
    events, report = _read(path, _police(encoding="latin-1"))
    assert report.encoding == "iso8859-1 (mapping)"
    assert _names(events)[1] == ("Anaïs", "BRONTË")
    marked = tmp_path / "marked.csv"
    marked.write_bytes(codecs.BOM_UTF8 + _text().encode("utf-8"))
    events, report = _read(marked, _police(encoding="latin-1"))  # the mark wins
    assert _names(events) == EXPECTED


def test_a_file_that_stops_decoding_is_named_with_the_line(tmp_path):
    path = tmp_path / "extract.csv"
    good = _text().encode("utf-8")
    path.write_bytes(good + b"OC-3,URN3,DA,05/04/2026 10:00,\x81BAD,,,,,,,\r\n")
    with pytest.raises(ExtractEncodingError, match=r"line 2 cannot be read as ascii \(mapping\)"):
        # the first row with a letter ASCII lacks
        _read(path, _police(encoding="ascii"))
    # not UTF-8, so read as Windows-1252, where 0x81 is one of the five undefined bytes
    with pytest.raises(ExtractEncodingError, match="line 4 cannot be read as cp1252"):
        _read(path)


def test_an_unknown_encoding_in_the_mapping_is_refused(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_bytes(_text().encode("utf-8"))
    with pytest.raises(ValueError, match="encoding 'klingon'"):
        detect_encoding(path, "klingon")


def test_jsonl_with_a_byte_order_mark_and_the_shared_rules(tmp_path):
    lines = [
        {"event_id": "j-1", "subject": {"family_name": "Kaye"}},  # agency filled in
        {"event_id": "j-2", "agency": "FIRE", "subject": {"family_name": "Kaye"}},
        {"event_id": "j-1", "agency": "POLICE", "subject": {"family_name": "Kaye"}},  # repeat
    ]
    path = tmp_path / "events.jsonl"
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    report = ExtractReport()
    events = list(read_jsonl(path, report, agency=Agency.POLICE))
    assert [e.event_id for e in events] == ["j-1"]
    assert [(r.line, r.field) for r in report.rejected] == [(2, "agency")]
    assert report.rejected[0].reason == "agency: is not POLICE, the agency sending these events"
    assert report.repeated == [3]
    assert report.encoding == "utf-8 (byte-order mark)"


def test_jsonl_that_is_not_utf8_fails_as_before(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(json.dumps({"event_id": "é"}).encode("utf-8") + b"\n\xff\xfe\n")
    with pytest.raises(UnicodeDecodeError):
        list(read_jsonl(path, ExtractReport()))


def test_the_report_uses_the_shared_words(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text(_text() + _text().splitlines()[1] + "\r\n", encoding="utf-8")
    events, report = _read(path)
    assert len(events) == 2 and report.repeated == [4]
    target = tmp_path / "report.csv"
    report.write_csv(target)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows == [{"line": "4", "outcome": "repeated", "field": "event_id", "reason": REPEATED}]
