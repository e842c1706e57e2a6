"""Alerts through the API: filters, acknowledge, assign, each action audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
CSC = "CHILDREN_SOCIAL_CARE"


def _alert(alert_id: str, rule: str, severity: str, kind: str, subject: str, counts: dict):
    now = datetime.now(UTC)
    return {
        "alert_id": alert_id,
        "rule_id": rule,
        "severity": severity,
        "subject_kind": kind,
        "subject_id": subject,
        "window_start": now - timedelta(days=30),
        "window_end": now,
        "counts_by_agency": counts,
        "evidence_event_ids": ["e1"],
        "summary": rule,
        "raised_at": now,
    }


def test_list_filter_acknowledge_assign(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    user, colleague = (f"{n}-{uuid.uuid4().hex[:6]}" for n in ("duty", "colleague"))
    context.users.add(user, PASSWORD, "practitioner", "CHILDREN_SOCIAL_CARE")
    context.users.add(colleague, PASSWORD, "practitioner", "CHILDREN_SOCIAL_CARE")
    token = client.post(
        "/api/v1/auth/token",
        data={"username": user, "password": PASSWORD, "notice_accepted": "true"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    rule = f"rule_{uuid.uuid4().hex[:6]}"
    fires, rise = f"AL{uuid.uuid4().hex[:10]}", f"AL{uuid.uuid4().hex[:10]}"
    SinkWriter(clickhouse).write_alerts(
        [
            # The user's organisation is among each alert's evidence: theirs to act on.
            _alert(fires, rule, "HIGH", "ADDRESS", "A-fires", {"FIRE": 3, CSC: 1}),
            _alert(rise, rule, "MEDIUM", "PERSON", "P-rise", {"POLICE": 2, "HEALTH": 4, CSC: 1}),
        ]
    )

    def listed(**params) -> list[str]:
        response = client.get("/api/v1/alerts", params={"rule": rule, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return [a["alert_id"] for a in response.json()]

    assert set(listed()) == {fires, rise}
    assert listed(severity="HIGH") == [fires]
    assert listed(organisation="HEALTH") == [rise]
    assert set(listed(status="open")) == {fires, rise}

    assert client.post(f"/api/v1/alerts/{fires}/acknowledge", headers=headers).status_code == 204
    assert listed(status="acknowledged") == [fires]
    assigned = client.post(
        f"/api/v1/alerts/{rise}/assign", json={"assignee": colleague}, headers=headers
    )
    assert assigned.status_code == 204
    detail = client.get(
        "/api/v1/alerts", params={"rule": rule, "status": "assigned"}, headers=headers
    ).json()
    assert [(a["alert_id"], a["assignee"], a["updated_by"]) for a in detail] == [
        (rise, colleague, user)
    ]
    assert listed(status="open") == []

    assert client.post("/api/v1/alerts/ALnope/acknowledge", headers=headers).status_code == 404
    unknown = client.post(
        f"/api/v1/alerts/{rise}/assign", json={"assignee": "nobody-x"}, headers=headers
    )
    assert unknown.status_code == 422
    assert (
        client.get("/api/v1/alerts", params={"severity": "SEVERE"}, headers=headers).status_code
        == 422
    )
    assert client.get("/api/v1/alerts").status_code == 401

    actions = [e["action"] for e in context.audit.search("CHILDREN_SOCIAL_CARE", username=user)]
    assert "alert_acknowledged" in actions
    assert "alert_assigned" in actions
    assert "list_alerts" in actions
    assigned_entry = next(
        e
        for e in context.audit.search("CHILDREN_SOCIAL_CARE", username=user)
        if e["action"] == "alert_assigned"
    )
    assert assigned_entry["person_ids"] == ["P-rise"]
