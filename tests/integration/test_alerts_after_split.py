"""Alerts after a split on the real broker and the worker's ClickHouse (chDB): an alert the
merged person's records met is withdrawn by the sink, and the alert the surviving person's
own records still meet is raised again for them, under a new id, saying why (issue 13:
"alerts that relied on the wrong link are re-evaluated: withdrawn with a reason, or raised
anew")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mast_core.avro import CORRECTION, IDENTITY_MERGE, codec
from messaging.clients import make_producer
from producers.publisher import InteractionPublisher
from tests.correction_cases import split_alert_case
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration


def test_after_a_split_the_alert_one_persons_records_meet_is_raised_again(
    pipeline_settings, worker
):
    settings = pipeline_settings
    worker.start()
    publisher = InteractionPublisher(settings)
    for n, event in enumerate(split_alert_case(), start=1):  # in order: the last one links
        assert publisher.publish([event]).failed == []
        worker.wait_for(lambda s, n=n: s["counts"].get("resolved", 0) >= n, 90, f"event {n}")
    worker.wait_for(lambda s: s["counts"].get("sink_alerts", 0) >= 1, 60, "the merged alert")
    (merge,) = [
        codec(IDENTITY_MERGE).decode(m.value())
        for m in read_topic(settings, settings.identity_merges_topic)
    ]
    producer = make_producer(settings)
    producer.produce(
        settings.corrections_topic,
        key=b"C-alerts-1",
        value=codec(CORRECTION).encode(
            {
                "correction_id": "C-alerts-1",
                "kind": "SPLIT",
                "person_id": merge["surviving_person_id"],
                "merge_ids": [merge["merge_id"]],
                "other_person_id": None,
                "dispute_id": "D-alerts-1",
                "decided_by_organisation": "PARTNERSHIP",
                "decided_at": datetime.now(UTC),
            }
        ),
    )
    assert producer.flush(30) == 0
    worker.wait_for(lambda s: s["counts"].get("sink_identity_splits", 0) >= 1, 90, "the split")
    worker.wait_for(lambda s: s["counts"].get("sink_alerts", 0) >= 2, 60, "the new alert")
    assert worker.stop() == 0

    alerts = {
        str(row[0]): (str(row[1]), sorted(row[2]), str(row[3]))
        for row in worker.query(
            "SELECT alert_id, subject_id, evidence_event_ids, summary FROM alerts FINAL"
        )
    }
    withdrawn = {
        str(row[0])
        for row in worker.query("SELECT alert_id FROM alert_actions WHERE action = 'withdrawn'")
    }
    surviving = merge["surviving_person_id"]
    merged = [a for a, (_s, evidence, _t) in alerts.items() if evidence == ["a", "b", "b2", "d"]]
    again = [a for a, (_s, evidence, _t) in alerts.items() if evidence == ["a", "c", "d"]]
    assert len(merged) == 1 and len(again) == 1, alerts
    assert withdrawn == set(merged)  # the merged person's alert, and only it
    subject, _evidence, summary = alerts[again[0]]
    assert subject == surviving
    assert "raised after a correction" in summary
    # the pages read open alerts: the survivor has the new one, nobody has the merged one
    open_alerts = worker.query(
        "SELECT alert_id FROM alerts FINAL WHERE alert_id NOT IN "
        "(SELECT alert_id FROM alert_actions WHERE action = 'withdrawn')"
    )
    assert [str(row[0]) for row in open_alerts] == again
