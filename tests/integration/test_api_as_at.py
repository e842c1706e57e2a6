"""Pages as they stood (issue 13, "as at"), on the real engine (chDB) through the sink's
writer: a practitioner views a person and their address; then the identity changes (a
steward's split undoes the merge the page relied on, a new record arrives, an alert is raised
again with more evidence and another is raised); a manager opens, from the view's audit
entry, the page as at the view's time and gets the first answer again, field for field.
Also: who may ask, and what a malformed or future time is answered with."""

from __future__ import annotations

import json
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


def _resolved(run: str, name: str, person: str, agency: str, hours: int, **subject) -> dict:
    interaction = event_dict(
        event_id=f"{run}-{name}",
        agency=agency,
        source_system=agency.title(),
        source_record_id=f"{agency[:3]}-{run}-{name}",
        occurred_at=None,
        case_status="OPEN" if agency == ORG else None,
    )
    interaction["occurred_at"] = T0 + timedelta(hours=hours)
    interaction["subject"] = {**interaction["subject"], **subject}
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
    """Edith (a) and a record of someone else (b) wrongly merged into her, at one address,
    with an alert about Edith whose evidence is both records."""
    run = uuid.uuid4().hex[:8]
    a, b = f"P{run}a", f"P{run}b"
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            _resolved(run, "asc", a, ORG, 0, given_name="Edith"),
            _resolved(run, "fire", a, "FIRE", 5, given_name="Edith"),
            _resolved(run, "police", b, "POLICE", 9, given_name="Edie", nhs_number=None),
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
    alert = alert_row(
        "multi_agency_contact",
        a,
        {"FIRE": 1, "POLICE": 1},
        alert_id=f"AL{run}",
        evidence=[f"{run}-fire", f"{run}-police"],
    )
    writer.write_alerts([alert])
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    viewer, practitioner = signed_in(context, client, "practitioner", ORG, prefix="asat")
    reviewer, manager = signed_in(context, client, "manager", ORG, prefix="asatm")
    return {
        "run": run,
        "a": a,
        "b": b,
        "address": f"A{run}",
        "alert": alert,
        "writer": writer,
        "context": context,
        "client": client,
        "viewer": viewer,
        "practitioner": practitioner,
        "manager": manager,
        "reviewer": reviewer,
    }


def _change_the_identity(scene) -> None:
    """A steward's split undoes the merge; a new record of Edith's arrives; the alert is
    raised again under its id with more evidence, and another alert is raised."""
    run, a, b, writer = scene["run"], scene["a"], scene["b"], scene["writer"]
    writer.write_splits(
        [
            {
                "split_id": f"{run}-s1",
                "merge_id": f"{run}-m1",
                "surviving_person_id": a,
                "restored_person_id": b,
                "correction_id": f"{run}-c1",
                "moved_records": 1,
                "split_at": T0 + timedelta(hours=20),
            }
        ]
    )
    writer.write_resolved([_resolved(run, "health", a, "HEALTH", 30, given_name="Edith")])
    again = {
        **scene["alert"],
        "counts_by_agency": {"FIRE": 1, "HEALTH": 1},
        "evidence_event_ids": [f"{run}-fire", f"{run}-health"],
        "raised_at": scene["alert"]["raised_at"] + timedelta(seconds=1),
    }
    other = alert_row("rising_contacts", a, {"HEALTH": 1}, evidence=[f"{run}-health"])
    writer.write_alerts([again, other])


def _merge_every_part(scene) -> None:
    """What a background merge does sooner or later: each key of the current tables keeps
    only its latest row (the merge's alias version and the alert's first version go), and the
    tables of every version are merged too, which drops nothing."""
    client, run, b = scene["writer"].client, scene["run"], scene["b"]
    for table in ("person_aliases", "alerts", "person_alias_versions", "alert_versions"):
        client.command(f"OPTIMIZE TABLE {table} FINAL")
    current = client.query(
        "SELECT surviving_person_id FROM person_aliases WHERE retired_person_id = {b:String}",
        parameters={"b": b},
    ).result_rows
    assert current == [(b,)], "the merge's alias version should be gone from the current table"
    kept = client.query(
        "SELECT surviving_person_id FROM person_alias_versions "
        "WHERE retired_person_id = {b:String} ORDER BY stored_at",
        parameters={"b": b},
    ).result_rows
    assert kept == [(scene["a"],), (b,)], "every version should be kept, once"
    alert = scene["alert"]["alert_id"]
    for table, versions in (("alerts", 1), ("alert_versions", 2)):
        count = client.query(
            f"SELECT count() FROM {table} WHERE alert_id = {{a:String}}",
            parameters={"a": alert},
        ).result_rows[0][0]
        assert count == versions, (table, run)


def _view_time(scene, path_kind: str, subject: str) -> str:
    """The practitioner's latest view of ``subject``, as the audit keeps it: the time its
    data stood at."""
    entries = scene["context"].audit.search(ORG, username=scene["viewer"])
    entry = next(
        e
        for e in entries
        if e["action"] == f"view_{path_kind}" and subject in e[f"{path_kind}_ids"]
    )
    assert entry["outcome"] == "shown"
    asked = json.loads(entry["asked"])
    assert asked[f"{path_kind}_id"] == subject
    return asked["data_as_at"]


@pytest.mark.parametrize("kind", ["person", "address"])
def test_a_page_as_at_a_view_is_what_the_view_showed(scene, kind):
    client, practitioner, manager = scene["client"], scene["practitioner"], scene["manager"]
    subject = scene["a"] if kind == "person" else scene["address"]
    path = f"/api/v1/{'persons' if kind == 'person' else 'addresses'}/{subject}"
    seen = client.get(path, params=PURPOSE, headers=practitioner)
    assert seen.status_code == 200, seen.text
    first = seen.json()
    assert first["as_at"] is None
    at = _view_time(scene, kind, subject)

    _change_the_identity(scene)
    now = client.get(path, params=PURPOSE, headers=practitioner).json()
    assert now != {**first, "as_at": None}, "the change should show on the page as it stands"
    events_now = {i["event_id"] for i in now["interactions"]}
    assert f"{scene['run']}-health" in events_now
    if kind == "person":
        assert now["merged_ids"] == [] and f"{scene['run']}-police" not in events_now
    else:
        assert {p["person_id"] for p in now["people"]} == {scene["a"], scene["b"]}

    if kind == "person":  # the alert relied on the link the split undid: withdrawn
        assert scene["alert"]["alert_id"] not in {a["alert_id"] for a in now["alerts"]}

    _merge_every_part(scene)
    then = client.get(path, params={**PURPOSE, "as_at": at}, headers=manager)
    assert then.status_code == 200, then.text
    page = then.json()
    assert datetime.fromisoformat(page.pop("as_at")) == datetime.fromisoformat(at)
    first.pop("as_at")
    assert page == first  # field for field, lists in the same order
    if kind == "person":
        assert page["merged_ids"] == [scene["b"]]
        assert [a["evidence_event_ids"] for a in page["alerts"]] == [
            [f"{scene['run']}-fire", f"{scene['run']}-police"]
        ]
    # the same through the body, and the review itself audited as such, with its time
    posted = client.post(f"{path}/view", json={**PURPOSE, "as_at": at}, headers=manager)
    assert posted.status_code == 200, posted.text
    assert {**posted.json(), "as_at": None} == {**first, "as_at": None}
    review = scene["context"].audit.search(ORG, username=scene["reviewer"])
    review = [e for e in review if e["action"] == f"view_{kind}_as_at"]
    assert review and review[0]["outcome"] == "shown"
    assert json.loads(review[0]["asked"])["data_as_at"] == at


def test_a_page_as_at_a_time_before_its_first_record_is_not_found(scene):
    client, manager = scene["client"], scene["manager"]
    for kind, subject in (("persons", scene["a"]), ("addresses", scene["address"])):
        for early in ("2020-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"):
            answer = client.get(
                f"/api/v1/{kind}/{subject}", params={**PURPOSE, "as_at": early}, headers=manager
            )
            assert answer.status_code == 404, answer.text
            assert "at that time" in answer.json()["detail"]


def test_only_managers_may_open_a_page_as_it_stood(scene):
    context, client = scene["context"], scene["client"]
    at = datetime.now(UTC).isoformat()  # after the scene was stored, before it is asked
    path = f"/api/v1/persons/{scene['a']}"
    refused = client.get(path, params={**PURPOSE, "as_at": at}, headers=scene["practitioner"])
    assert refused.status_code == 403, refused.text
    assert "managers" in refused.json()["detail"]
    posted = client.post(
        f"{path}/view", json={**PURPOSE, "as_at": at}, headers=scene["practitioner"]
    )
    assert posted.status_code == 403
    entry = context.audit.search(ORG, username=scene["viewer"])[0]
    assert (entry["action"], entry["outcome"]) == ("view_person_as_at", "refused")
    assert scene["a"] in entry["person_ids"]
    _steward, steward = signed_in(context, client, "steward", ORG)
    assert client.get(path, params={**PURPOSE, "as_at": at}, headers=steward).status_code == 403
    _admin, admin = signed_in(context, client, "admin", "POLICE")
    assert client.get(path, params={**PURPOSE, "as_at": at}, headers=admin).status_code == 200
    # a purpose is still required, and refused as on every view
    assert client.get(path, params={"as_at": at}, headers=scene["manager"]).status_code == 422


@pytest.mark.parametrize(
    ("as_at", "says"),
    [
        ("yesterday", "not a time"),
        ("2026-04-03T17:00:00", "no time zone"),
        ("2026-04-03", "not a time"),
        ("3/4/2026 17:00", "not a time"),
        ("2026-02-30T10:00:00Z", "not a time"),
        ("2026-04-03T24:00:00Z", "not a time"),
        ("20260403T170000Z", "not a time"),
        ("2026-04-03 17:00:00Z", "not a time"),
        ("", "not a time"),
    ],
)
def test_a_time_that_is_not_one_is_refused_with_what_to_send(scene, as_at, says):
    client, manager = scene["client"], scene["manager"]
    for path in (f"/api/v1/persons/{scene['a']}", f"/api/v1/addresses/{scene['address']}"):
        answer = client.get(path, params={**PURPOSE, "as_at": as_at}, headers=manager)
        assert answer.status_code == 422, answer.text
        assert says in answer.json()["detail"]
        posted = client.post(f"{path}/view", json={**PURPOSE, "as_at": as_at}, headers=manager)
        assert posted.status_code == 422, posted.text
        assert says in posted.json()["detail"]
    entry = scene["context"].audit.search(ORG, username=scene["reviewer"])[0]
    assert (entry["action"], entry["outcome"]) == ("view_address_as_at", "refused")


@pytest.mark.parametrize("future", ["2999-01-01T00:00:00Z", "9999-12-31t23:59:59.999999-23:59"])
def test_a_time_not_yet_come_is_read_as_now(scene, future):
    client, manager = scene["client"], scene["manager"]
    for path in (f"/api/v1/persons/{scene['a']}", f"/api/v1/addresses/{scene['address']}"):
        before = datetime.now(UTC)
        answer = client.get(path, params={**PURPOSE, "as_at": future}, headers=manager)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        used = datetime.fromisoformat(page.pop("as_at"))
        assert before - timedelta(milliseconds=2) <= used <= datetime.now(UTC)
        now = client.get(path, params=PURPOSE, headers=manager).json()
        assert {**now, "as_at": None} == {**page, "as_at": None}
        entry = scene["context"].audit.search(ORG, username=scene["reviewer"])[1]
        assert datetime.fromisoformat(json.loads(entry["asked"])["data_as_at"]) == used


def test_malformed_requests_are_refused_not_failed(scene):
    client, manager = scene["client"], scene["manager"]
    path = f"/api/v1/persons/{scene['a']}"
    too_long = client.get(path, params={**PURPOSE, "as_at": "2" * 41}, headers=manager)
    assert too_long.status_code == 422
    not_text = client.post(f"{path}/view", json={**PURPOSE, "as_at": 1775206800}, headers=manager)
    assert not_text.status_code == 422
    # the history is the history as it stands: its body takes no time
    history = client.post(
        f"{path}/history/view", json={**PURPOSE, "as_at": "2026-04-03T17:00:00Z"}, headers=manager
    )
    assert history.status_code == 422
