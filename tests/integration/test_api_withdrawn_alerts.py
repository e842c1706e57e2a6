"""Withdrawn alerts leave the person and address pages (issue 13), on the real engine (chDB)
through the sink's writer: an alert whose evidence a steward's split or a partner's
retraction separated is listed before its withdrawal, not after, and a page as at a time
between the two still lists it. The withdrawal's own time (the split's or the retraction's,
here months earlier than the moment it is stored) does not decide: the time the sink stored
it does, as for every row an as-at page reads."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from tests.factories import alert_row, event_dict
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 3, 9, tzinfo=UTC)
ORG = "ADULT_SOCIAL_CARE"
PURPOSE = {"purpose": "self_neglect_review"}


def _resolved(run: str, name: str, person: str, agency: str, hours: int) -> dict:
    interaction = event_dict(
        event_id=f"{run}-{name}",
        agency=agency,
        source_system=agency.title(),
        source_record_id=f"{agency[:3]}-{run}-{name}",
        occurred_at=None,
    )
    interaction["occurred_at"] = T0 + timedelta(hours=hours)
    return {
        "interaction": interaction,
        "person_id": person,
        "address_id": f"A{run}",
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": T0 + timedelta(hours=hours),
    }


@pytest.fixture
def scene(settings, clickhouse):
    """Two people's records wrongly merged into one (a), at one address; a person alert
    about a and an address alert, both counting the record that was someone else's (b's
    police record), and a person alert counting a's records only."""
    run = uuid.uuid4().hex[:8]
    a, b = f"P{run}a", f"P{run}b"
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            _resolved(run, "asc", a, ORG, 0),
            _resolved(run, "fire", a, "FIRE", 5),
            _resolved(run, "police", b, "POLICE", 9),
        ]
    )
    writer.write_merges(
        [
            {
                "merge_id": f"{run}-m1",
                "surviving_person_id": a,
                "retired_person_id": b,
                "triggered_by_event_id": f"{run}-police",
                "match_weight": 14.0,
                "evidence": [{"field": "family_name", "level": "exact", "weight": 9.0}],
                "merged_at": T0 + timedelta(hours=9),
            }
        ]
    )
    alerts = {
        "linked": alert_row(
            "multi_agency_contact",
            a,
            {"FIRE": 1, "POLICE": 1},
            alert_id=f"AL{run}p",
            evidence=[f"{run}-fire", f"{run}-police"],
        ),
        "own": alert_row(
            "rising_contacts", a, {ORG: 1, "FIRE": 1}, evidence=[f"{run}-asc", f"{run}-fire"]
        ),
        "address": alert_row(
            "domestic_abuse_where_child_lives",
            f"A{run}",
            {"FIRE": 1, "POLICE": 1},
            alert_id=f"AL{run}a",
            kind="ADDRESS",
            evidence=[f"{run}-fire", f"{run}-police"],
        ),
    }
    writer.write_alerts(list(alerts.values()))
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    _viewer, practitioner = signed_in(context, client, "practitioner", ORG, prefix="wdp")
    _reviewer, manager = signed_in(context, client, "manager", ORG, prefix="wdm")
    return {
        "run": run,
        "a": a,
        "b": b,
        "address": f"A{run}",
        "alerts": {name: alert["alert_id"] for name, alert in alerts.items()},
        "writer": writer,
        "client": client,
        "practitioner": practitioner,
        "manager": manager,
    }


def _page(scene, path: str, as_at: datetime | None = None) -> dict:
    params = dict(PURPOSE)
    headers = scene["practitioner"]
    if as_at is not None:
        params["as_at"] = as_at.isoformat()
        headers = scene["manager"]
    answer = scene["client"].get(path, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _listed(page: dict) -> set[str]:
    return {alert["alert_id"] for alert in page["alerts"]}


def _between() -> datetime:
    """A time after everything stored so far and before anything stored next."""
    time.sleep(0.01)
    at = datetime.now(UTC)
    time.sleep(0.01)
    return at


def test_a_split_takes_the_alert_it_undid_off_the_person_page_from_then(scene):
    run, a, b, alerts = scene["run"], scene["a"], scene["b"], scene["alerts"]
    path = f"/api/v1/persons/{a}"
    before = _page(scene, path)
    assert _listed(before) == {alerts["linked"], alerts["own"], alerts["address"]}
    between = _between()

    scene["writer"].write_splits(
        [
            {
                "split_id": f"{run}-s1",
                "merge_id": f"{run}-m1",
                "surviving_person_id": a,
                "restored_person_id": b,
                "correction_id": f"{run}-c1",
                "moved_records": 1,
                "split_at": T0 + timedelta(hours=20),  # months before it is stored
            }
        ]
    )
    after = _page(scene, path)
    assert _listed(after) == {alerts["own"], alerts["address"]}, "the withdrawn one is listed"
    assert _listed(_page(scene, f"/api/v1/persons/{b}")) == {alerts["address"]}

    then = _page(scene, path, as_at=between)
    assert then["alerts"] == before["alerts"], "as at before the withdrawal, it was listed"
    assert _listed(_page(scene, path, as_at=_between())) == {alerts["own"], alerts["address"]}


def test_a_retraction_takes_the_alerts_it_counted_in_off_the_address_page(scene):
    run, alerts = scene["run"], scene["alerts"]
    path = f"/api/v1/addresses/{scene['address']}"
    before = _page(scene, path)
    assert _listed(before) == {alerts["address"]}
    between = _between()

    scene["writer"].write_retractions(
        [
            {
                "retraction_id": f"{run}-r1",
                "agency": "POLICE",
                "retracted_event_id": f"{run}-police",
                "retracting_event_id": f"{run}-police-r",
                "kind": "WITHDRAWN",
                "person_id": scene["b"],
                "merge_ids_undone": [],
                "retracted_at": T0 + timedelta(hours=30),
            }
        ]
    )
    assert _listed(_page(scene, path)) == set(), "the withdrawn alert is still listed"
    assert alerts["linked"] not in _listed(_page(scene, f"/api/v1/persons/{scene['a']}"))

    then = _page(scene, path, as_at=between)
    assert _listed(then) == {alerts["address"]}, "as at before the withdrawal, it was listed"
    assert _listed(_page(scene, path, as_at=_between())) == set()
