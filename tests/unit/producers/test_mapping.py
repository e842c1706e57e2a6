"""Mapping a partner's extract to events: the shipped example mappings load, columns become
fields, dates become ISO, codes become values, and the derived event id is stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from mast_core.events import Agency, parse_event
from producers.extract import ExtractReport, read_csv_extract
from producers.mapping import (
    ExtractMapping,
    MappingError,
    RowError,
    derived_event_id,
    split_full_name,
)

MAPPINGS = Path(__file__).resolve().parents[3] / "producers" / "mappings"


@pytest.mark.parametrize("name", ["police", "fire", "health", "social_care"])
def test_the_example_mappings_load(name):
    mapping = ExtractMapping.load(MAPPINGS / f"{name}.yaml")
    assert mapping.agency is not None
    assert mapping.columns


def _police() -> ExtractMapping:
    return ExtractMapping.load(MAPPINGS / "police.yaml")


ROW = {
    "Occurrence Ref": "OC-1",
    "Person URN": "URN9",
    "Occurrence Type": "DA",
    "Reported Date/Time": "03/04/2026 22:15",
    "Subject Name": "O'NEILL, Margaret Ann",
    "DOB": "13/02/1957",
    "Sex": "Female",
    "Address": "12 Stanley St",
    "Town": "Walsall",
    "Postcode": "ws1 2ab",
    "Officer In Case": "PC 123 Khan",
    "OIC Phone": "101",
}


def test_a_row_becomes_an_event_in_the_contract():
    event = parse_event(_police().event(ROW, Agency.POLICE))
    assert event.agency == Agency.POLICE
    assert event.source_system == "Niche RMS"
    assert event.event_type == "DOMESTIC_ABUSE_INCIDENT"
    assert (event.subject.given_name, event.subject.family_name) == ("Margaret Ann", "O'NEILL")
    assert event.subject.date_of_birth == "1957-02-13"
    assert event.subject.gender.value == "F"
    assert event.occurred_at is not None
    assert event.occurred_at.isoformat() == "2026-04-03T21:15:00+00:00"  # BST to UTC
    assert event.contact is not None and event.contact.team == "Public Protection Unit"


def test_the_derived_event_id_is_stable_and_follows_the_identity_columns():
    mapping = _police()
    first = mapping.event(ROW, Agency.POLICE)["event_id"]
    assert first == mapping.event(dict(ROW), Agency.POLICE)["event_id"]
    assert first.startswith("police-")
    # a corrected spelling of the same occurrence and person is the same event
    corrected = mapping.event({**ROW, "Subject Name": "O'NEIL, Margaret"}, Agency.POLICE)
    assert corrected["event_id"] == first
    other_person = mapping.event({**ROW, "Person URN": "URN10"}, Agency.POLICE)
    assert other_person["event_id"] != first
    assert derived_event_id(Agency.FIRE, {"a": "1"}) != derived_event_id(Agency.POLICE, {"a": "1"})


def test_a_messy_date_of_birth_is_kept_as_written_but_a_bad_time_is_refused():
    mapping = _police()
    kept = mapping.event({**ROW, "DOB": "13th Feb 57"}, Agency.POLICE)
    assert kept["subject"]["date_of_birth"] == "13th Feb 57"
    with pytest.raises(RowError) as refused:
        mapping.event({**ROW, "Reported Date/Time": "yesterday"}, Agency.POLICE)
    assert refused.value.field == "occurred_at"
    assert "yesterday" not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SMITH, John Paul", ("John Paul", "SMITH")),
        ("John Smith", ("John", "Smith")),
        ("Cher", (None, "Cher")),
        ("  de  la Cruz,  Ana ", ("Ana", "de la Cruz")),
    ],
)
def test_full_names_are_split(text, expected):
    assert split_full_name(text) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"columns": {"subject.shoe_size": "Shoes"}}, "not an event field"),
        ({"columns": {"event_type": "Type"}}, "name column"),
        ({"columns": {"subject.family_name": "S"}, "agency": "NAVY"}, "agency must be one of"),
        ({"columns": {"subject.family_name": "S"}, "timezone": "Mars/Base"}, "timezone"),
        ({"columns": {"subject.family_name": "S"}, "colour": "red"}, "unknown settings"),
        (["not", "a", "mapping"], "top level"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_with_a_reason(data, message):
    with pytest.raises(MappingError, match=message):
        ExtractMapping.from_dict(data)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_reading_an_extract_reports_each_bad_row_by_line(tmp_path):
    header = list(ROW)
    good = list(ROW.values())
    rows = [
        good,
        [good[0], "URN12", *good[2:4], "", *good[5:]],  # no name: still an event
        [*good[:3], "not a time", *good[4:]],
        good,  # repeated
        good[:5],  # short row
        [*good[:1], "URN11", *good[2:]],
    ]
    path = _write(tmp_path / "extract.csv", header, rows)
    report = ExtractReport()
    events = list(read_csv_extract(path, _police(), Agency.POLICE, report))
    assert report.rows == 6
    assert [r.line for r in report.rejected] == [4, 6]
    assert report.rejected[0].field == "occurred_at"
    assert "columns" in report.rejected[1].reason
    assert report.repeated == [5]
    assert len(events) == report.accepted == 3
    assert len({e.event_id for e in events}) == 3
    assert events[1].subject.family_name is None


def test_an_extract_without_a_mapped_column_is_refused_before_anything_is_read(tmp_path):
    header = [h for h in ROW if h != "DOB"]
    path = _write(tmp_path / "extract.csv", header, [[ROW[h] for h in header]])
    with pytest.raises(MappingError, match="'DOB'"):
        list(read_csv_extract(path, _police(), Agency.POLICE, ExtractReport()))
