"""The unusual-access review through the API on the real engine (chDB): each pattern the
shipped rules look for is planted in the audit log and found, with the entries behind it,
beside a look-alike that is not a finding; only the data protection officer may list and
record outcomes; both routes are audited.

The fishing searches go through the API, so their entries are the ones the API writes; the
other patterns need times (out of hours) or volumes that a test plants as rows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.tables import AUDIT_LOG, AuditRow
from sinks.clickhouse.writer import SinkWriter
from tests.factories import alert_row, letters
from tests.integration.signing_in import PASSWORD, sign_in, signed_in

pytestmark = pytest.mark.integration

URL = "/api/v1/access-review"
PURPOSE = {"purpose": "welfare_check", "purpose_detail": ""}


BEFORE = datetime.now(UTC) - timedelta(days=20)
"""When the planted cases opened and alerts were raised: before every planted view."""


def _record(run: str, n: int, person: str, family: str, case_status: str | None):
    at = BEFORE
    return {
        "interaction": {
            "event_id": f"{run}-{n}",
            "agency": "POLICE",
            "source_system": "Police records",
            "source_record_id": f"POL-{run}-{n}",
            "event_type": "INCIDENT",
            "occurred_at": at,
            "subject": {
                "given_name": "Ada",
                "family_name": family,
                "date_of_birth": "1980-02-03",
                "gender": "F",
                "address": None,
                "nhs_number": None,
            },
            "case_status": case_status,
            "contact": None,
        },
        "person_id": person,
        "address_id": "",
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": at,
        "search_keys": [],
    }


def _entry(user: str, at: datetime, action: str, people: list[str]) -> AuditRow:
    return AuditRow(
        uuid.uuid4(),
        at,
        user,
        "POLICE",
        "practitioner",
        action,
        "shown",
        "welfare_check",
        "",
        json.dumps({}),
        people,
        [],
        [],
    )


def _last_saturday_night(now: datetime) -> datetime:
    london = now.astimezone(ZoneInfo("Europe/London"))
    days_back = (london.weekday() - 5) % 7 or 7
    night = (london - timedelta(days=days_back)).replace(hour=23, minute=0, second=0)
    return night.astimezone(UTC)


@pytest.fixture(scope="module")
def planted(settings, clickhouse) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    users = {
        name: f"{name}-{run}"
        for name in ("browser", "caseworker", "night", "daytime", "fisher", "relative")
    }
    family = "Quarrie" + letters(run)
    for name, username in users.items():
        display = f"Sam {family}" if name == "relative" else "Sam Other"
        context.users.add(username, PASSWORD, "practitioner", "POLICE", display)
    dpo, dpo_headers = signed_in(context, client, "dpo", "OTHER")

    # people: 30 the caseworker has a reason to view, 15 unknown to police, and one who
    # shares the "relative" user's family name
    cased = [f"P{run}c{i}" for i in range(30)]
    strangers = [f"P{run}s{i}" for i in range(15)]
    kin = f"P{run}k"
    writer = SinkWriter(clickhouse)
    # the caseworker's reasons: police cases open for 15, alerts for 15 (either alone would
    # leave 15 people viewed without one)
    writer.write_resolved(
        [_record(run, i, p, "Case" + letters(run), "OPEN") for i, p in enumerate(cased[:15])]
        + [_record(run, i, p, "Alert" + letters(run), None) for i, p in enumerate(cased[15:], 15)]
        + [_record(run, 100, kin, family, None)]
    )
    writer.write_alerts(
        [{**alert_row("repeat_incidents", p, {"FIRE": 3}), "raised_at": BEFORE} for p in cased[15:]]
    )
    night = _last_saturday_night(datetime.now(UTC))
    noon = night - timedelta(days=4, hours=11)  # the Tuesday before, about midday
    rows = (
        [
            _entry(users["browser"], noon + timedelta(minutes=i), "view_person", [p])
            for i, p in enumerate(strangers)
        ]
        + [
            _entry(users["caseworker"], noon + timedelta(minutes=i), "view_person", [p])
            for i, p in enumerate(cased)
        ]
        + [
            _entry(users["night"], night + timedelta(minutes=i), "search_persons", [kin])
            for i in range(10)
        ]
        + [
            _entry(users["daytime"], noon + timedelta(minutes=i), "search_persons", [kin])
            for i in range(10)
        ]
        + [_entry(users["relative"], noon, "view_person", [kin])]
    )
    clickhouse.insert(AUDIT_LOG, rows, column_names=AuditRow._fields)
    fisher = sign_in(client, users["fisher"])
    for i in range(5):
        answer = client.post(
            "/api/v1/search/persons",
            json={"given_name": "Zebedee", "family_name": f"Nobody{letters(run)}{i}", **PURPOSE},
            headers=fisher,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == []
    listed = client.get(URL, params={"status": "all", "limit": 500}, headers=dpo_headers)
    assert listed.status_code == 200, listed.text
    ours = [f for f in listed.json() if f["username"] in users.values()]
    return {
        "context": context,
        "client": client,
        "users": users,
        "dpo": dpo,
        "dpo_headers": dpo_headers,
        "findings": ours,
        "strangers": strangers,
        "kin": kin,
    }


def _by_user(planted: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in planted["findings"]:
        name = next(n for n, u in planted["users"].items() if u == f["username"])
        found.setdefault(name, []).append(f["rule_id"])
    return {name: sorted(rules) for name, rules in found.items()}


def test_each_planted_pattern_is_found_and_look_alikes_are_not(planted) -> None:
    assert _by_user(planted) == {
        "browser": ["many_people_without_involvement"],
        "night": ["out_of_hours_burst"],
        "fisher": ["fishing"],
        "relative": ["own_surname"],
    }


def test_findings_carry_the_audit_entries_behind_them(planted) -> None:
    context: ApiContext = planted["context"]
    findings = {f["rule_id"]: f for f in planted["findings"]}
    browsing = findings["many_people_without_involvement"]
    assert browsing["count"] == 15
    assert sorted(browsing["person_ids"]) == sorted(planted["strangers"])
    assert [e["action"] for e in browsing["entries"]] == ["view_person"] * 15
    fishing = findings["fishing"]
    logged = {
        str(e["audit_id"])
        for e in context.audit.search("POLICE", username=planted["users"]["fisher"])
        if e["action"] == "search_persons"
    }
    assert {e["audit_id"] for e in fishing["entries"]} == logged
    assert findings["own_surname"]["person_ids"] == [planted["kin"]]


def test_an_outcome_is_recorded_and_the_finding_leaves_the_open_queue(planted) -> None:
    client, headers = planted["client"], planted["dpo_headers"]
    finding = next(f for f in planted["findings"] if f["rule_id"] == "fishing")
    url = f"{URL}/{finding['finding_id']}/outcome"
    answer = client.post(
        url, json={"outcome": "advice_given", "note": "spoke to them"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["reviewed_by"] == planted["dpo"]
    still_open = client.get(URL, params={"status": "open", "limit": 500}, headers=headers).json()
    assert finding["finding_id"] not in {f["finding_id"] for f in still_open}
    reviewed = client.get(URL, params={"status": "reviewed", "limit": 500}, headers=headers)
    mine = [f for f in reviewed.json() if f["finding_id"] == finding["finding_id"]]
    assert mine[0]["outcome"]["outcome"] == "advice_given"
    unknown = client.post(
        f"{URL}/F{'0' * 32}/outcome", json={"outcome": "no_concern", "note": "x"}, headers=headers
    )
    assert unknown.status_code == 404
    bad = client.post(url, json={"outcome": "shrug", "note": "x"}, headers=headers)
    assert bad.status_code == 422
    audit = planted["context"].audit.search("OTHER", username=planted["dpo"])
    actions = {(e["action"], e["outcome"]) for e in audit}
    assert {
        ("view_access_review", "shown"),
        ("record_access_review", "shown"),
        ("record_access_review", "not_found"),
    } <= actions


@pytest.mark.parametrize("role", ["practitioner", "manager", "admin", "steward"])
def test_only_the_data_protection_officer_works_the_review(planted, role) -> None:
    context, client = planted["context"], planted["client"]
    username, headers = signed_in(context, client, role, "POLICE")
    assert client.get(URL, headers=headers).status_code == 403
    finding = planted["findings"][0]["finding_id"]
    refused = client.post(
        f"{URL}/{finding}/outcome", json={"outcome": "no_concern", "note": "x"}, headers=headers
    )
    assert refused.status_code == 403
    audit = context.audit.search("POLICE", username=username)
    assert {e["action"] for e in audit if e["outcome"] == "refused"} == {
        "view_access_review",
        "record_access_review",
    }


def test_the_officer_reads_every_organisations_audit_and_no_case_details(planted) -> None:
    context, client, headers = planted["context"], planted["client"], planted["dpo_headers"]
    audit = client.get("/api/v1/audit", params={"organisation": "POLICE"}, headers=headers)
    assert audit.status_code == 200, audit.text
    assert any(e["username"] == planted["users"]["fisher"] for e in audit.json())
    refused = {
        "search": client.post(
            "/api/v1/search/persons",
            json={"given_name": "Ada", "family_name": "Quarrie", **PURPOSE},
            headers=headers,
        ),
        "person": client.post(
            f"/api/v1/persons/{planted['kin']}/view", json=PURPOSE, headers=headers
        ),
        "alerts": client.get("/api/v1/alerts", headers=headers),
    }
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 403)
    assert "access review" in refused["person"].json()["detail"]
    logged = context.audit.search("OTHER", username=planted["dpo"])
    assert any(
        e["action"] == "view_person"
        and e["outcome"] == "refused"
        and planted["kin"] in e["person_ids"]
        for e in logged
    )
