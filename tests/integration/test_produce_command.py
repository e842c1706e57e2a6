"""``mast produce csv`` as a partner runs it, against the real broker: the report and what
reaches the interactions topic agree, a repeated row is one event, and sending the same
extract again produces the same event ids (which the pipeline then ignores)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from mast_core.events import decode_interaction
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration

MAPPINGS = Path(__file__).resolve().parents[2] / "producers" / "mappings"
HEADER = [
    "Incident Number",
    "Incident Type",
    "Date of Call",
    "Occupier Forename",
    "Occupier Surname",
    "Occupier DOB",
    "Property Address",
    "Town",
    "Post Code",
    "Watch Manager",
    "Station",
    "Station Phone",
]


def _row(number: int, family: str, **changes: str) -> list[str]:
    row = {
        "Incident Number": f"FI-{number}",
        "Incident Type": "Safe and Well visit",
        "Date of Call": f"2026-04-{number:02d} 10:30:00",
        "Occupier Forename": "Edna",
        "Occupier Surname": family,
        "Occupier DOB": "1950-03-04",
        "Property Address": "7 Larch Close",
        "Town": "Walsall",
        "Post Code": "WS3 1EE",
        "Watch Manager": "WM Patel",
        "Station": "Walsall Blue Watch",
        "Station Phone": "01922 000000",
    } | changes
    return [row[name] for name in HEADER]


def _mast(settings, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mast_cli", "produce", *args],
        env=os.environ
        | {"MAST_STATE_DIR": str(tmp_path), "MAST_TOPIC_PREFIX": settings.topic_prefix},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _events_of(settings, family: str):
    events = [
        decode_interaction(m.value()) for m in read_topic(settings, settings.interactions_topic)
    ]
    return [e for e in events if e.subject.family_name == family]


def test_an_extract_with_good_bad_and_repeated_rows(kafka, tmp_path):
    settings = kafka
    family = "Fenn" + uuid.uuid4().hex[:6]
    rows = [
        _row(1, family),
        _row(2, family),
        _row(3, family, **{"Date of Call": "sometime in April"}),  # line 4: refused
        _row(1, family),  # line 5: the first row again
        _row(4, family, **{"Incident Type": "Dwelling fire"}),
        _row(5, family)[:7],  # line 7: too few columns
        _row(6, family, **{"Occupier DOB": "4th March 1950"}),  # messy, kept
    ]
    extract = tmp_path / "fire-extract.csv"
    with extract.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    report = tmp_path / "report.csv"
    args = ["csv", "--mapping", str(MAPPINGS / "fire.yaml"), "--report", str(report), str(extract)]
    run = _mast(settings, tmp_path, *args)
    assert run.returncode == 2, run.stderr  # some rows rejected, the rest published
    assert "7 rows; 4 events published" in run.stdout
    assert "2 rejected; 1 repeated" in run.stdout
    assert "line 4: occurred_at" in run.stdout
    assert "sometime" not in run.stdout  # reasons name fields, never values
    lines = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["line"], r["outcome"]) for r in lines] == [
        ("4", "rejected"),
        ("7", "rejected"),
        ("5", "repeated"),
    ]

    published = _events_of(settings, family)
    assert len(published) == 4
    assert len({e.event_id for e in published}) == 4
    assert {e.event_type for e in published} == {"SAFE_AND_WELL_VISIT", "FIRE_ATTENDANCE"}
    assert all(e.agency.value == "FIRE" and e.source_system == "IRS" for e in published)
    messy = [e for e in published if e.subject.date_of_birth == "4th March 1950"]
    assert len(messy) == 1

    again = _mast(settings, tmp_path, *args)
    assert again.returncode == 2
    resent = _events_of(settings, family)
    assert len(resent) == 8
    assert {e.event_id for e in resent} == {e.event_id for e in published}


def test_check_validates_and_reports_but_sends_nothing(kafka, tmp_path):
    family = "Chk" + uuid.uuid4().hex[:6]
    extract = tmp_path / "extract.csv"
    with extract.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([_row(1, family), _row(2, family, **{"Date of Call": "soon"})])
    mapping = str(MAPPINGS / "fire.yaml")
    run = _mast(kafka, tmp_path, "csv", "--check", "--mapping", mapping, str(extract))
    assert run.returncode == 2, run.stderr
    assert "1 valid (checked only: nothing sent); 1 rejected" in run.stdout
    assert (tmp_path / "extract.csv.report.csv").read_text().count("rejected") == 1
    assert _events_of(kafka, family) == []


def test_a_mapping_that_does_not_fit_sends_nothing(kafka, tmp_path):
    extract = tmp_path / "extract.csv"
    extract.write_text("Name,Date\nA,B\n", encoding="utf-8")
    run = _mast(kafka, tmp_path, "csv", "--mapping", str(MAPPINGS / "fire.yaml"), str(extract))
    assert run.returncode == 1
    assert "the extract has no column" in run.stderr
    assert "Traceback" not in run.stderr
    wrong_agency = _mast(
        kafka,
        tmp_path,
        "csv",
        "--agency",
        "POLICE",
        "--mapping",
        str(MAPPINGS / "fire.yaml"),
        str(extract),
    )
    assert wrong_agency.returncode == 1
    assert "the mapping is for FIRE" in wrong_agency.stderr


def test_jsonl_events_are_validated_and_published(kafka, tmp_path):
    family = "Jsonl" + uuid.uuid4().hex[:6]
    good = {
        "event_id": f"{family}-1",
        "agency": "HOUSING",
        "subject": {"given_name": "Ann", "family_name": family},
    }
    lines = [json.dumps(good), "{not json", json.dumps({**good, "event_id": ""}), json.dumps(good)]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = _mast(kafka, tmp_path, "jsonl", str(path))
    assert run.returncode == 2, run.stderr
    assert "4 rows; 1 event published" in run.stdout
    assert "line 2: not JSON" in run.stdout
    assert [e.event_id for e in _events_of(kafka, family)] == [f"{family}-1"]
