"""The ClickHouse sink's writes on the real engine (chDB): idempotent replays, merges seen
through the identity map, linkage parameter sets, retention by TTL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mast_core.linkage.parameters import Parameters
from messaging.parameter_sets import decode_parameter_set, encode_parameter_set
from sinks.clickhouse.writer import SinkWriter
from tests.factories import event_dict

pytestmark = pytest.mark.integration


def _resolved(event_id: str, person: str, address: str | None = "A1", **extra):
    interaction = event_dict(event_id=event_id, occurred_at=None)
    interaction["occurred_at"] = extra.pop("occurred_at", datetime(2026, 4, 3, tzinfo=UTC))
    return {
        "interaction": interaction,
        "person_id": person,
        "address_id": address,
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": extra.pop("resolved_at", datetime.now(UTC)),
    }


def _count(client, sql: str) -> int:
    return int(client.query(sql).result_rows[0][0])


def test_a_replayed_batch_is_stored_once(clickhouse):
    writer = SinkWriter(clickhouse)
    run = uuid.uuid4().hex[:8]
    batch = [_resolved(f"{run}-{i}", f"P{run}") for i in range(5)]
    writer.write_resolved(batch)
    writer.write_resolved(batch)  # the same batch again after a crash: token deduplicates
    where = f"WHERE event_id LIKE '{run}-%'"
    assert _count(clickhouse, f"SELECT count() FROM resolved_interactions {where}") == 5
    # a replay cut into different batches has other tokens: the key collapses it on read
    writer.write_resolved([*batch[2:], _resolved(f"{run}-5", f"P{run}")])
    assert _count(clickhouse, f"SELECT count() FROM resolved_interactions FINAL {where}") == 6
    assert _count(clickhouse, f"SELECT count() FROM address_interactions FINAL {where}") == 6


def test_merges_apply_through_the_identity_map_transitively(clickhouse):
    writer = SinkWriter(clickhouse)
    run = uuid.uuid4().hex[:8]
    a, b, c = (f"P{run}{x}" for x in "abc")
    writer.write_resolved(
        [_resolved(f"{run}-1", a), _resolved(f"{run}-2", b), _resolved(f"{run}-3", c)]
    )
    now = datetime.now(UTC)

    def merge(merge_id: str, surviving: str, retired: str) -> dict:
        return {
            "merge_id": f"{run}-{merge_id}",
            "surviving_person_id": surviving,
            "retired_person_id": retired,
            "triggered_by_event_id": None,
            "match_weight": 20.0,
            "evidence": [{"field": "nhs_number", "level": "exact", "weight": 12.0}],
            "merged_at": now,
        }

    writer.write_merges([merge("m1", b, c)])  # c is b
    writer.write_merges([merge("m2", a, b)])  # b is a, so c is a too
    rows = clickhouse.query(
        "SELECT event_id, person_id FROM identity_map "
        f"WHERE event_id LIKE '{run}-%' ORDER BY event_id"
    ).result_rows
    assert rows == [(f"{run}-1", a), (f"{run}-2", a), (f"{run}-3", a)]
    # a fresh writer (a restarted sink) loads the aliases it needs from the table
    d = f"P{run}d"
    SinkWriter(clickhouse).write_merges([merge("m3", d, a)])
    people = clickhouse.query(
        f"SELECT DISTINCT person_id FROM identity_map WHERE event_id LIKE '{run}-%'"
    ).result_rows
    assert people == [(d,)]


def test_alerts_and_dead_letters_are_stored_once(clickhouse):
    writer = SinkWriter(clickhouse)
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    alert = {
        "alert_id": f"AL{run}",
        "rule_id": "repeat_fires_where_children_live",
        "severity": "HIGH",
        "subject_kind": "ADDRESS",
        "subject_id": "A1",
        "window_start": now - timedelta(days=30),
        "window_end": now,
        "counts_by_agency": {"FIRE": 3},
        "evidence_event_ids": ["f1", "f2", "f3"],
        "summary": "three fires",
        "raised_at": now,
    }
    writer.write_alerts([alert])
    writer.write_alerts([alert])
    stored = clickhouse.query(
        f"SELECT counts_by_agency, evidence_event_ids FROM alerts WHERE alert_id = 'AL{run}'"
    ).result_rows
    assert stored == [({"FIRE": 3}, ["f1", "f2", "f3"])]
    letter = {
        "source_topic": f"t-{run}",
        "source_partition": 1,
        "source_offset": 7,
        "reason": "avro_decode",
        "field": None,
        "detail": "not single-object Avro",
        "raw": b"\x00junk",
        "failed_at": now,
    }
    writer.write_dead_letters([letter])
    writer.write_dead_letters([letter])
    assert (
        _count(clickhouse, f"SELECT count() FROM dead_letters WHERE source_topic = 't-{run}'") == 1
    )


def test_a_parameter_set_is_stored_once_by_version(clickhouse):
    """The shipped set only: this database serves other modules' searches, which score with
    the newest set stored (the shipped one, stored or not)."""
    shipped = Parameters.default()
    writer = SinkWriter(clickhouse)
    record = decode_parameter_set(
        encode_parameter_set(
            {
                "version": shipped.version,
                "published_at": datetime(2026, 4, 3, 21, 0, 0, 123000, tzinfo=UTC),
                "parameters": shipped.to_dict(),
            }
        )
    )
    where = f"WHERE version = '{shipped.version}'"
    writer.write_parameter_sets([record])
    writer.write_parameter_sets([record])  # a replayed batch: the token deduplicates
    assert _count(clickhouse, f"SELECT count() FROM linkage_parameters {where}") == 1
    stored = clickhouse.query(
        f"SELECT body, toUnixTimestamp64Milli(published_at) FROM linkage_parameters {where}"
    ).result_rows
    assert [(Parameters.from_dict(json.loads(body)).version, ms) for body, ms in stored] == [
        (shipped.version, 1_775_250_000_123)
    ]
    # published again later (a set back in force): one row, the latest publication
    writer.write_parameter_sets([{**record, "published_at": datetime(2026, 5, 1, tzinfo=UTC)}])
    assert _count(clickhouse, f"SELECT count() FROM linkage_parameters FINAL {where}") == 1
    assert (
        _count(clickhouse, f"SELECT toMonth(published_at) FROM linkage_parameters FINAL {where}")
        == 5
    )
