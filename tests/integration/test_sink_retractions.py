"""A retraction through the sink on the real engine (chDB): the withdrawn record's rows leave
every table that holds its details, an address's written form stays while another record
wrote it so, the alerts it was evidence for are withdrawn (once, however often the
retraction is read), and a resolved record or an alert read after its retraction (a replay,
or a slower topic) is kept out. Names are invented."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sinks.clickhouse.writer import SinkWriter
from tests.factories import alert_row, event_dict, letters

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 3, tzinfo=UTC)


def _resolved(event_id: str, person: str, given: str, line1: str) -> dict[str, Any]:
    interaction = event_dict(event_id=event_id, occurred_at=None)
    interaction["occurred_at"] = T0
    interaction["subject"] = {
        **interaction["subject"],
        "given_name": given,
        "address": {**interaction["subject"]["address"], "line1": line1},
    }
    return {
        "interaction": interaction,
        "person_id": person,
        "address_id": "A" + event_id.split("-")[0],  # one dwelling for the run
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": T0,
        "search_keys": [f"k:{given.lower()}"],
    }


def _retraction(run: str, event_id: str, person: str, n: int) -> dict[str, Any]:
    return {
        "retraction_id": f"R{run}{n}",
        "agency": "FIRE",
        "retracted_event_id": event_id,
        "retracting_event_id": f"{event_id}-x",
        "kind": "WITHDRAWN",
        "person_id": person,
        "merge_ids_undone": [],
        "retracted_at": T0 + timedelta(hours=n),
    }


def _holding(clickhouse, needle: str) -> list[str]:
    """Tables and String columns of MAST's database that hold ``needle`` anywhere."""
    columns = clickhouse.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() "
        "AND type LIKE '%String%' AND table IN (SELECT name FROM system.tables WHERE "
        "database = currentDatabase() AND engine NOT IN ('View', 'MaterializedView'))"
    ).result_rows
    return [
        f"{table}.{column}"
        for table, column in columns
        if clickhouse.query(
            f"SELECT count() FROM `{table}` WHERE positionCaseInsensitive(toString(`{column}`), "
            "{n:String}) > 0",
            parameters={"n": needle},
        ).result_rows[0][0]
    ]


def test_a_retracted_record_leaves_every_table_and_its_alerts_are_withdrawn(clickhouse):
    run = uuid.uuid4().hex[:8]
    mark = letters(run)
    given, street, neighbour = f"Zeph{mark}", f"7 Quill{mark} Row", f"Agnes{mark}"
    writer = SinkWriter(clickhouse)
    gone = _resolved(f"{run}-1", f"P{run}1", given, street)
    shares = _resolved(f"{run}-2", f"P{run}2", neighbour, street)  # the same written address
    writer.write_resolved([gone, shares])
    relied = alert_row("multi_agency_contact", f"P{run}1", {"FIRE": 2}, evidence=[f"{run}-1"])
    other = alert_row("multi_agency_contact", f"P{run}2", {"FIRE": 1}, evidence=[f"{run}-2"])
    writer.write_alerts([relied, other])
    assert {"resolved_interactions.given_name", "person_keys.given_name"} <= set(
        _holding(clickhouse, given)
    )

    retraction = _retraction(run, f"{run}-1", f"P{run}1", 1)
    assert writer.write_retractions([retraction]) == 1
    writer.write_retractions([retraction])  # read again: nothing more changes

    assert _holding(clickhouse, given) == []
    assert "address_keys.line1" in _holding(clickhouse, f"Quill{mark}")  # the neighbour's
    actions = clickhouse.query(
        "SELECT alert_id, username, action, assignee FROM alert_actions "
        "WHERE alert_id IN {ids:Array(String)}",
        parameters={"ids": [relied["alert_id"], other["alert_id"]]},
    ).result_rows
    assert actions == [(relied["alert_id"], "MAST", "withdrawn", f"R{run}1")]
    audit = clickhouse.query(
        "SELECT agency, retracted_event_id, retracting_event_id, kind FROM event_retractions "
        "FINAL WHERE retraction_id = {r:String}",
        parameters={"r": f"R{run}1"},
    ).result_rows
    assert audit == [("FIRE", f"{run}-1", f"{run}-1-x", "WITHDRAWN")]

    # the resolved batch read again after a crash, and an alert arriving late: kept out
    writer.write_resolved([gone])
    assert _holding(clickhouse, given) == []
    late = alert_row("multi_agency_contact", f"P{run}1", {"FIRE": 3}, evidence=[f"{run}-1"])
    writer.write_alerts([late])
    assert clickhouse.query(
        "SELECT action, assignee FROM alert_actions WHERE alert_id = {a:String}",
        parameters={"a": late["alert_id"]},
    ).result_rows == [("withdrawn", f"R{run}1")]

    # the last record that wrote the address so is retracted: its written form goes too
    writer.write_retractions([_retraction(run, f"{run}-2", f"P{run}2", 2)])
    assert _holding(clickhouse, f"Quill{mark}") == []
    assert _holding(clickhouse, neighbour) == []
