"""`mast synth`, `mast resolve`, `mast quality` and `mast estimate` as a user runs them."""

import csv
import json

from typer.testing import CliRunner

from mast_cli.app import app
from mast_core.linkage import Parameters

runner = CliRunner()


def test_synth_resolve_quality_round_trip(tmp_path):
    events, truth, links = tmp_path / "e.jsonl", tmp_path / "t.csv", tmp_path / "l.csv"
    result = runner.invoke(
        app, ["synth", "--events", "1500", "--output", str(events), "--truth", str(truth)]
    )
    assert result.exit_code == 0, result.output
    with events.open("a") as handle:
        handle.write('{"agency": "POLICE"}\n')
        handle.write("not json\n")
    with events.open("ab") as handle:  # a partner's extract in another encoding
        handle.write(b'{"agency": "FIRE", "event_id": "1", "subject": {"family_name": "\xe9"}}\n')

    result = runner.invoke(app, ["resolve", "--input", str(events), "--output", str(links)])
    assert result.exit_code == 0, result.output
    assert "Resolved 1500 events" in result.output
    assert "3 lines rejected" in result.output
    assert "line 1501: event_id: is required" in result.output
    assert "line 1502: not JSON" in result.output
    assert "line 1503: not UTF-8 text" in result.output

    with links.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "event_id",
        "person_id",
        "address_id",
        "match_weight",
        "reason",
        "parameters_version",
    ]
    assert len(rows) == 1500
    with events.open(errors="replace") as handle:
        order = [json.loads(line)["event_id"] for line in handle if line.startswith('{"event')]
    assert [row["event_id"] for row in rows] == order  # file order
    linked = [row for row in rows if row["match_weight"]]
    threshold = Parameters.default().match_threshold  # log2 odds of the match probability
    assert linked and all(float(row["match_weight"]) >= threshold for row in linked)
    # every link names the parameter set that made it; the file is shorter than the first
    # estimate's 5,000 records, so the shipped set made them all, and the end of the file
    # re-estimates (for the state it saves and the records kept for review)
    versions = {row["parameters_version"] for row in rows}
    assert versions == {Parameters.default().version}
    assert "Parameters learnt from the data 1 times" in result.output

    result = runner.invoke(app, ["quality", "--links", str(links), "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    assert "precision" in result.output


def test_resolve_resumes_from_saved_state(tmp_path):
    events, truth = tmp_path / "e.jsonl", tmp_path / "t.csv"
    runner.invoke(app, ["synth", "--events", "600", "--output", str(events), "--truth", str(truth)])
    lines = events.read_text().splitlines(keepends=True)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(lines[:300]))
    second.write_text("".join(lines[300:]))
    state = tmp_path / "state.pickle"
    whole, part_a, part_b = tmp_path / "w.csv", tmp_path / "pa.csv", tmp_path / "pb.csv"
    runner.invoke(app, ["resolve", "-i", str(events), "-o", str(whole)])
    runner.invoke(app, ["resolve", "-i", str(first), "-o", str(part_a), "--state", str(state)])
    result = runner.invoke(
        app, ["resolve", "-i", str(second), "-o", str(part_b), "--state", str(state)]
    )
    assert "Resuming from" in result.output
    with whole.open() as handle:
        expected = {row["event_id"]: row["person_id"] for row in csv.DictReader(handle)}
    with part_b.open() as handle:
        resumed = {row["event_id"]: row["person_id"] for row in csv.DictReader(handle)}
    assert resumed == {k: expected[k] for k in resumed}


def test_missing_input_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["resolve", "-i", str(tmp_path / "nope"), "-o", "x.csv"])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_estimate_writes_loadable_parameters(tmp_path):
    events, truth, out = tmp_path / "e.jsonl", tmp_path / "t.csv", tmp_path / "p.json"
    runner.invoke(
        app, ["synth", "--events", "2000", "--output", str(events), "--truth", str(truth)]
    )
    result = runner.invoke(app, ["estimate", "-i", str(events), "-o", str(out), "--pairs", "20000"])
    assert result.exit_code == 0, result.output
    parameters = Parameters.load(out)
    assert (
        parameters.weights["date_of_birth"]["exact"] > parameters.weights["date_of_birth"]["typo"]
    )
    assert parameters.weights["given_name"]["disagree"] < 0
