"""Alerts through the API: filters, acknowledge, assign, each action audited."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from mast_core.events import parse_event
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from stream_processors.resolution import ResolutionStage, resolved_record
from tests.factories import alert_row
from tests.integration.signing_in import add_user, signed_in

pytestmark = pytest.mark.integration

CSC = "CHILDREN_SOCIAL_CARE"


def _event(run: str, event_id: str, agency: str, at: str, team: str) -> dict:
    return parse_event(
        {
            "event_id": f"{run}-{event_id}",
            "agency": agency,
            "event_type": "INCIDENT",
            "occurred_at": at,
            "subject": {
                "given_name": "Edna",
                "family_name": f"Wren{run}",
                "date_of_birth": "04/03/1950",
                "gender": "F",
                "address": {"line1": "3 Juniper Court", "town": "Walsall", "postcode": "WS4 2GH"},
            },
            "contact": {"name": f"{team} duty", "team": team, "phone": "01922 650000"},
        }
    )


def _resolved(clickhouse, run: str) -> tuple[str, str]:
    """Edna's records at one address, from the police (twice) and health: her person id
    and the address id. (An address of its own: address ids derive from the address, and
    other modules' scenes share the database.)"""
    events = [
        _event(run, "police-1", "POLICE", "2026-01-05T10:00:00Z", "Response"),
        _event(run, "health", "HEALTH", "2026-01-10T10:00:00Z", "ED Liaison"),
        _event(run, "police-2", "POLICE", "2026-01-20T10:00:00Z", "Public protection"),
    ]
    stage = ResolutionStage.fresh()
    outputs = [o for o in (stage.process(e) for e in events) if o is not None]
    SinkWriter(clickhouse).write_resolved([resolved_record(o) for o in outputs])
    person, address = (outputs[-1].resolved[k] for k in ("person_id", "address_id"))
    assert {o.resolved["person_id"] for o in outputs} == {person}
    return person, address


def test_list_filter_acknowledge_assign(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    user, headers = signed_in(context, client, "practitioner", CSC, prefix="duty")
    colleague = add_user(context, "practitioner", CSC, prefix="colleague")
    run = uuid.uuid4().hex[:6]
    person, address = _resolved(clickhouse, run)
    rule = f"rule_{run}"
    fires, rise = f"AL{uuid.uuid4().hex[:10]}", f"AL{uuid.uuid4().hex[:10]}"
    evidence = tuple(f"{run}-{e}" for e in ("police-1", "health", "police-2"))
    SinkWriter(clickhouse).write_alerts(
        [
            # The user's organisation is among each alert's evidence: theirs to act on.
            alert_row(rule, address, {"FIRE": 3, CSC: 1}, alert_id=fires, kind="ADDRESS"),
            alert_row(
                rule,
                person,
                {"POLICE": 2, "HEALTH": 1, CSC: 1},
                alert_id=rise,
                severity="MEDIUM",
                evidence=evidence,
            ),
        ]
    )

    def listed(**params) -> list[str]:
        response = client.get("/api/v1/alerts", params={"rule": rule, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return [a["alert_id"] for a in response.json()]

    assert set(listed()) == {fires, rise}

    # Each alert says whom or where it is about, who owns it and whom to call there.
    shown = {
        a["alert_id"]: a
        for a in client.get("/api/v1/alerts", params={"rule": rule}, headers=headers).json()
    }
    about_her = shown[rise]
    assert about_her["subject_person"] == {
        "given_name": "Edna",
        "family_name": f"Wren{run}",
        "date_of_birth": "04/03/1950",
        "gender": "F",
    }
    assert about_her["subject_address"] is None
    assert about_her["owners"] == [CSC, "HEALTH", "POLICE"]
    # One contact per owner with evidence held (none from children's social care here):
    # the latest of that agency's evidence.
    assert about_her["contacts"] == [
        {
            "agency": "HEALTH",
            "name": "ED Liaison duty",
            "team": "ED Liaison",
            "phone": "01922 650000",
            "email": None,
        },
        {
            "agency": "POLICE",
            "name": "Public protection duty",
            "team": "Public protection",
            "phone": "01922 650000",
            "email": None,
        },
    ]
    at_address = shown[fires]
    assert at_address["subject_address"] == {
        "line1": "3 Juniper Court",
        "line2": None,
        "town": "Walsall",
        "postcode": "WS4 2GH",
    }
    assert at_address["subject_person"] is None
    assert (at_address["owners"], at_address["contacts"]) == ([CSC, "FIRE"], [])
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
    assert assigned_entry["person_ids"] == [person]
    # The list is one look-up, recorded with the subjects it showed: no entry per person.
    lists = [
        e
        for e in context.audit.search("CHILDREN_SOCIAL_CARE", username=user)
        if e["action"] == "list_alerts"
    ]
    assert all(e["person_ids"] in ([], [person]) for e in lists)
    assert set(actions) == {"list_alerts", "alert_acknowledged", "alert_assigned"}
