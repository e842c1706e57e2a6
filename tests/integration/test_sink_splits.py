"""A split through the sink on the real engine (chDB): the merge stays in the history, the
restored id and the ids merged into it before are a person of their own again, ids merged
into the survivor stay with it, and a later merge still applies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from query_api.pages import PersonHistory
from query_api.reads import Reader
from query_api.records import Records
from sinks.clickhouse.tables import SHIELDS, ShieldRow
from sinks.clickhouse.writer import SinkWriter
from tests.factories import alert_row, event_dict
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 3, tzinfo=UTC)


def _resolved(event_id: str, person: str) -> dict:
    interaction = event_dict(event_id=event_id, occurred_at=None)
    interaction["occurred_at"] = T0
    return {
        "interaction": interaction,
        "person_id": person,
        "address_id": None,
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": T0,
    }


def _merge(merge_id: str, surviving: str, retired: str, at: datetime) -> dict:
    return {
        "merge_id": merge_id,
        "surviving_person_id": surviving,
        "retired_person_id": retired,
        "triggered_by_event_id": None,
        "match_weight": 20.0,
        "evidence": [{"field": "nhs_number", "level": "agree", "weight": 12.0}],
        "merged_at": at,
    }


def _people(clickhouse, run: str) -> dict[str, str]:
    rows = clickhouse.query(
        f"SELECT event_id, person_id FROM identity_map WHERE event_id LIKE '{run}-%'"
    ).result_rows
    return {str(event): str(person) for event, person in rows}


def test_a_split_restores_the_retired_person_and_those_merged_into_it(settings, clickhouse):
    run = uuid.uuid4().hex[:8]
    a, b, c, d = (f"P{run}{x}" for x in "abcd")
    writer = SinkWriter(clickhouse)
    writer.write_resolved([_resolved(f"{run}-{x}", f"P{run}{x}") for x in "abcd"])
    writer.write_merges([_merge(f"{run}-m1", b, c, T0 + timedelta(minutes=1))])  # c into b
    writer.write_merges([_merge(f"{run}-m2", a, b, T0 + timedelta(minutes=2))])  # b into a
    writer.write_merges([_merge(f"{run}-m3", a, d, T0 + timedelta(minutes=3))])  # d into a
    assert set(_people(clickhouse, run).values()) == {a}

    split = {
        "split_id": f"{run}-s1",
        "merge_id": f"{run}-m2",
        "surviving_person_id": a,
        "restored_person_id": b,
        "correction_id": f"{run}-c1",
        "moved_records": 2,
        "split_at": T0 + timedelta(minutes=4),
    }
    # an alert on a (after the merges) whose evidence is a's and b's records; one on d alone
    relied = alert_row("multi_agency_contact", a, {"FIRE": 2}, evidence=[f"{run}-a", f"{run}-b"])
    own = alert_row("multi_agency_contact", d, {"FIRE": 1}, evidence=[f"{run}-d"])
    writer.write_alerts([relied, own])
    sink = SinkWriter(clickhouse)  # a restarted sink: it loads the aliases from the table
    assert sink.write_splits([split]) == 1
    people = _people(clickhouse, run)
    assert people == {f"{run}-a": a, f"{run}-b": b, f"{run}-c": b, f"{run}-d": a}
    reader = Reader(clickhouse)
    assert reader.current_person(c) == b and reader.current_person(b) == b
    assert set(reader.owners([a])) == {a, d}
    assert set(reader.owners([b])) == {b, c}
    # the merge stays in the history; the split is stored once, however often it is written
    sink.write_splits([split])
    merges = clickhouse.query(
        f"SELECT count() FROM identity_merges FINAL WHERE merge_id LIKE '{run}-%'"
    ).result_rows[0][0]
    splits = clickhouse.query(
        f"SELECT count() FROM identity_splits FINAL WHERE split_id LIKE '{run}-%'"
    ).result_rows[0][0]
    assert (merges, splits) == (3, 1)
    assert _people(clickhouse, run) == people
    for person in (a, b):  # both histories show the merge and, after it, its split
        kinds = [(e["kind"], e["merge_id"]) for e in Records(clickhouse).history(person)["entries"]]
        assert kinds.index(("split", f"{run}-m2")) < kinds.index(("merge", f"{run}-m2"))
    assert PersonHistory.model_validate(Records(clickhouse).history(b))
    client = TestClient(
        create_app(lambda: {"ready": True}, context := ApiContext.create(settings, clickhouse))
    )
    _name, headers = signed_in(context, client, "practitioner", "POLICE")
    answer = client.get(
        f"/api/v1/persons/{b}/history", params={"purpose": "welfare_check"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert [e["kind"] for e in answer.json()["entries"]][:2] == ["split", "merge"]

    # the alert that relied on the link is withdrawn, and no one can act on it; the other stands
    withdrawn = clickhouse.query(
        "SELECT alert_id, username, action, assignee FROM alert_actions "
        "WHERE alert_id IN {ids:Array(String)}",
        parameters={"ids": [relied["alert_id"], own["alert_id"]]},
    ).result_rows
    assert withdrawn == [(relied["alert_id"], "MAST", "withdrawn", f"{run}-s1")]
    _admin_name, admin = signed_in(context, client, "admin", "POLICE")
    listed = client.get("/api/v1/alerts", params={"status": "withdrawn"}, headers=admin)
    assert listed.status_code == 200, listed.text
    assert relied["alert_id"] in {item["alert_id"] for item in listed.json()}
    assert own["alert_id"] not in {item["alert_id"] for item in listed.json()}
    acted = client.post(f"/api/v1/alerts/{relied['alert_id']}/acknowledge", headers=admin)
    assert acted.status_code == 409, acted.text

    # a later merge of the restored person into another still applies
    sink.write_merges([_merge(f"{run}-m4", d, b, T0 + timedelta(minutes=5))])
    assert _people(clickhouse, run)[f"{run}-c"] == a  # d is a's, so b's records are a's again


def test_a_detach_moves_the_records_rows_and_a_redelivery_follows_it(settings, clickhouse):
    """Records detached from a person (no merge): their rows move to the new identity in
    every table, the person's other records stay, the detach written again changes nothing,
    and the record read again (a redelivery) is stored under the new identity, never back
    under the person; a hand shield of the person is carried to the new identity; the
    person's history lists the detach."""
    run = uuid.uuid4().hex[:8]
    person, new = f"P{run}a", f"P{run}n"
    writer = SinkWriter(clickhouse)
    moved, stays = _resolved(f"{run}-1", person), _resolved(f"{run}-2", person)
    moved["address_id"] = f"A{run}"
    writer.write_resolved([moved, stays])
    detach = {
        "split_id": f"S{run}",
        "merge_id": "",
        "surviving_person_id": person,
        "restored_person_id": new,
        "correction_id": f"C{run}",
        "moved_records": 1,
        "detached": [{"agency": moved["interaction"]["agency"], "event_id": f"{run}-1"}],
        "split_at": T0 + timedelta(days=1),
    }
    clickhouse.insert(  # a steward shielded the person by hand
        SHIELDS,
        [ShieldRow("PERSON", person, "shield", "witness", "steward-1", "OTHER", T0)],
        column_names=ShieldRow._fields,
    )
    writer.write_splits([detach])
    writer.write_splits([detach])  # read again: nothing more
    writer.write_resolved([moved])  # a redelivery of the record, resolved before the detach

    def holders(table: str) -> list[tuple[str, str]]:
        rows = clickhouse.query(
            f"SELECT DISTINCT event_id, person_id FROM {table} WHERE event_id LIKE '{run}-%' "
            "ORDER BY event_id, person_id"
        ).result_rows
        return [(str(e), str(p)) for e, p in rows]

    assert holders("resolved_interactions") == [(f"{run}-1", new), (f"{run}-2", person)]
    carried = clickhouse.query(
        "SELECT DISTINCT action, organisation FROM shields WHERE subject_id = {id:String}",
        parameters={"id": new},
    ).result_rows
    assert carried == [("shield", "OTHER")]  # what was hidden stays hidden
    assert {p for e, p in holders("address_interactions") if e == f"{run}-1"} == {new}
    history = Records(clickhouse).history(person)
    assert history is not None
    [entry] = [e for e in history["entries"] if e["kind"] == "split"]
    assert (entry["restored_person_id"], entry["merge_id"]) == (new, "")
    assert PersonHistory.model_validate(history).entries[0].detached_event_ids == [f"{run}-1"]
