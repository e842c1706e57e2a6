"""Alerts acted on by the right organisation (security review, item 8): only an organisation
whose records are among an alert's evidence, the partnership's triage organisation
(MAST_TRIAGE_ORGANISATION) or an administrator acknowledges or assigns it; anyone else is
refused, audited, with an answer that says no more than that. The list puts the caller's
organisation's alerts first and marks what is new since the caller last looked."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from tests.factories import alert_row
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration


class Api:
    def __init__(self, context: ApiContext) -> None:
        self.context = context
        self.client = TestClient(create_app(lambda: {"ready": True}, context))

    def user(self, organisation: str, role: str = "practitioner") -> tuple[str, dict[str, str]]:
        return signed_in(
            self.context, self.client, role, organisation, prefix=organisation.lower()[:6]
        )

    def acknowledge(self, alert_id: str, headers: dict[str, str]) -> Any:
        return self.client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)

    def assign(self, alert_id: str, assignee: str, headers: dict[str, str]) -> Any:
        return self.client.post(
            f"/api/v1/alerts/{alert_id}/assign", json={"assignee": assignee}, headers=headers
        )

    def listed(self, rule: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        answer = self.client.get("/api/v1/alerts", params={"rule": rule}, headers=headers)
        assert answer.status_code == 200, answer.text
        listed: list[dict[str, Any]] = answer.json()
        return listed


@pytest.fixture
def api(settings, clickhouse) -> Api:
    return Api(ApiContext.create(settings, clickhouse))


def test_only_an_organisation_among_the_evidence_acts_on_an_alert(api, clickhouse):
    rule = f"owners_{uuid.uuid4().hex[:6]}"
    alert = alert_row(rule, "P-owned", {"POLICE": 2, "HEALTH": 1})
    SinkWriter(clickhouse).write_alerts([alert])
    alert_id = alert["alert_id"]
    outsider, outsider_headers = api.user("CHILDREN_SOCIAL_CARE")
    outsider_colleague, _ = api.user("CHILDREN_SOCIAL_CARE")
    manager, manager_headers = api.user("CHILDREN_SOCIAL_CARE", "manager")
    _, officer_headers = api.user("POLICE")
    officer_colleague, _ = api.user("POLICE")

    refusals = [
        api.acknowledge(alert_id, outsider_headers),
        api.assign(alert_id, outsider_colleague, outsider_headers),
        api.assign(alert_id, f"nobody-{uuid.uuid4().hex[:6]}", outsider_headers),
        api.acknowledge(alert_id, manager_headers),
    ]
    assert [r.status_code for r in refusals] == [403] * 4
    # One answer for every refusal, naming neither the owners nor the subject.
    assert {r.text for r in refusals} == {refusals[0].text}
    for secret in ("POLICE", "HEALTH", "P-owned", "triage"):
        assert secret.lower() not in refusals[0].text.lower()
    (listed,) = api.listed(rule, outsider_headers)
    assert (listed["status"], listed["assignee"]) == ("open", "")  # nothing was recorded

    audited = [
        (e["action"], e["outcome"], e["person_ids"], e["asked"])
        for e in api.context.audit.search("CHILDREN_SOCIAL_CARE", username=outsider)
        if e["action"].startswith("alert_")
    ]
    assert sorted(a[:3] for a in audited) == [
        ("alert_acknowledged", "refused", ["P-owned"]),
        ("alert_assigned", "refused", ["P-owned"]),
        ("alert_assigned", "refused", ["P-owned"]),
    ]
    assert all(alert_id in asked for *_, asked in audited)
    assert [
        e["outcome"]
        for e in api.context.audit.search("CHILDREN_SOCIAL_CARE", username=manager)
        if e["action"] == "alert_acknowledged"
    ] == ["refused"]

    assert api.acknowledge(alert_id, officer_headers).status_code == 204
    assert api.assign(alert_id, officer_colleague, officer_headers).status_code == 204
    (listed,) = api.listed(rule, officer_headers)
    assert (listed["status"], listed["assignee"]) == ("assigned", officer_colleague)


def test_the_triage_organisation_and_administrators_act_on_every_alert(
    settings, clickhouse
) -> None:
    rule = f"triage_{uuid.uuid4().hex[:6]}"
    alerts = [
        alert_row(rule, f"P-triage-{n}", {"FIRE": 3}, ended=timedelta(days=n)) for n in range(3)
    ]
    SinkWriter(clickhouse).write_alerts(alerts)
    triage = Api(
        ApiContext.create(settings.model_copy(update={"triage_organisation": "OTHER"}), clickhouse)
    )
    untriaged = Api(ApiContext.create(settings, clickhouse))
    _, mash_headers = triage.user("OTHER")
    mash_colleague, _ = triage.user("OTHER")
    _, mash_headers_untriaged = untriaged.user("OTHER")
    _, admin_headers = untriaged.user("EDUCATION", "admin")
    teacher, teacher_headers = untriaged.user("EDUCATION")

    # Without the setting the same organisation is an outsider to a fire alert.
    assert untriaged.acknowledge(alerts[0]["alert_id"], mash_headers_untriaged).status_code == 403
    assert triage.acknowledge(alerts[0]["alert_id"], mash_headers).status_code == 204
    assert triage.assign(alerts[1]["alert_id"], mash_colleague, mash_headers).status_code == 204
    assert all(a["mine"] and a["may_act"] for a in triage.listed(rule, mash_headers))
    # The owners the list names are those who may act: the evidence's agencies, then triage.
    assert [a["owners"] for a in triage.listed(rule, mash_headers)] == [["FIRE", "OTHER"]] * 3
    assert [a["owners"] for a in untriaged.listed(rule, teacher_headers)] == [["FIRE"]] * 3

    assert untriaged.acknowledge(alerts[2]["alert_id"], teacher_headers).status_code == 403
    assert untriaged.acknowledge(alerts[2]["alert_id"], admin_headers).status_code == 204
    # An administrator assigns only to someone who may act on the alert: not the teacher.
    assert untriaged.assign(alerts[2]["alert_id"], teacher, admin_headers).status_code == 422
    shown = untriaged.listed(rule, admin_headers)
    assert [(a["mine"], a["may_act"]) for a in shown] == [(False, True)] * 3
    assert [(a["mine"], a["may_act"]) for a in untriaged.listed(rule, teacher_headers)] == [
        (False, False)
    ] * 3


def test_the_callers_organisation_comes_first_and_new_alerts_are_marked(api, clickhouse):
    rule = f"mine_{uuid.uuid4().hex[:6]}"
    writer = SinkWriter(clickhouse)
    theirs = alert_row(rule, "P-theirs", {"POLICE": 2})
    ours_older = alert_row(rule, "P-ours-1", {"POLICE": 1, "HOUSING": 2}, ended=timedelta(days=5))
    ours_newer = alert_row(rule, "P-ours-2", {"HOUSING": 4}, ended=timedelta(days=1))
    writer.write_alerts([theirs, ours_older, ours_newer])
    _, housing = api.user("HOUSING")
    _, police = api.user("POLICE")

    first = api.listed(rule, housing)
    assert [a["alert_id"] for a in first] == [
        ours_newer["alert_id"],
        ours_older["alert_id"],
        theirs["alert_id"],
    ]
    assert [(a["mine"], a["may_act"]) for a in first] == [(True, True)] * 2 + [(False, False)]
    assert [a["new"] for a in first] == [True] * 3  # never looked before

    police_view = api.listed(rule, police)
    assert [a["alert_id"] for a in police_view] == [
        theirs["alert_id"],
        ours_older["alert_id"],
        ours_newer["alert_id"],
    ]

    later = alert_row(rule, "P-later", {"HOUSING": 3}, ended=timedelta(days=10))
    writer.write_alerts([later])
    second = {a["alert_id"]: a["new"] for a in api.listed(rule, housing)}
    assert second == {
        ours_newer["alert_id"]: False,
        ours_older["alert_id"]: False,
        theirs["alert_id"]: False,
        later["alert_id"]: True,
    }
    assert not any(a["new"] for a in api.listed(rule, housing))
    # Each user's own last look: the police officer has not looked since the later alert.
    assert {a["alert_id"]: a["new"] for a in api.listed(rule, police)}[later["alert_id"]]


def test_the_alert_list_declares_its_fields(api):
    document = api.client.get("/openapi.json").json()
    answer = document["paths"]["/api/v1/alerts"]["get"]["responses"]["200"]
    items = answer["content"]["application/json"]["schema"]["items"]
    name = items["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][name]
    assert {"alert_id", "counts_by_agency", "status", "new", "mine", "may_act"} <= set(
        schema["properties"]
    )
    assert schema["properties"]["new"]["type"] == "boolean"
    assert {"new", "mine", "may_act"} <= set(schema["required"])
