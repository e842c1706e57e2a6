"""Notifications to the lead agency (sensitive records issue, item 3), through the API on the
real engine (chDB): when someone of another organisation opens the page of a person whose
open case an organisation holds, that organisation's practitioners and managers are told at
once (who, organisation, purpose, when, and nothing else they looked at); a view by the case
holder's own organisation, a view for a quiet purpose (MASH triage), and views of a person
whose case has closed tell no one. The open case may sit under an id merged into the person."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from tests.factories import letters
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

URL = "/api/v1/notifications"


def _record(run, name, agency, person, family, day, case_status=None, reference=None):
    at = datetime(2026, 6, 1, 10, tzinfo=UTC) + timedelta(days=day)
    return {
        "interaction": {
            "event_id": f"{run}-{name}",
            "agency": agency,
            "source_system": f"{agency.title()} records",
            "source_record_id": reference or f"{agency[:3]}-{name}",
            "event_type": "CONTACT",
            "occurred_at": at,
            "subject": {
                "given_name": "Nell",
                "family_name": family,
                "date_of_birth": "1990-03-03",
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


@pytest.fixture(scope="module")
def partnership(settings, clickhouse) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    family = "Pargeter" + letters(run)
    held, held_old, other, closed = (f"P{run}{x}" for x in "hoqc")
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            # health's open case was recorded under an id since merged into the person
            _record(run, "h1", "HEALTH", held_old, family, 0, "OPEN", f"HEA-{run}"),
            _record(run, "p1", "POLICE", held, family, 1),
            _record(run, "q1", "POLICE", other, family, 2),
            _record(run, "c1", "HEALTH", closed, family, 3, "OPEN", f"HEA-{run}-c"),
            _record(run, "c2", "HEALTH", closed, family, 9, "CLOSED", f"HEA-{run}-c"),
        ]
    )
    writer.write_merges(
        [
            {
                "merge_id": f"M{run}",
                "surviving_person_id": held,
                "retired_person_id": held_old,
                "triggered_by_event_id": f"{run}-p1",
                "match_weight": 15.0,
                "evidence": [{"field": "date_of_birth", "level": "exact", "weight": 9.0}],
                "merged_at": datetime.now(UTC),
            }
        ]
    )
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    people = {
        "health": ("practitioner", "HEALTH"),
        "health_manager": ("manager", "HEALTH"),
        "health_colleague": ("practitioner", "HEALTH"),
        "health_steward": ("steward", "HEALTH"),
        "police": ("practitioner", "POLICE"),
        "fire": ("practitioner", "FIRE"),
    }
    users = {
        k: signed_in(context, client, role, org, prefix=k) for k, (role, org) in people.items()
    }
    return {
        "run": run,
        "held": held,
        "other": other,
        "closed": closed,
        "client": client,
        "users": users,
        "context": context,
    }


def _view(p, user: str, person: str, purpose: str = "welfare_check") -> None:
    answer = p["client"].post(
        f"/api/v1/persons/{person}/view",
        json={"purpose": purpose, "purpose_detail": "secret detail"},
        headers=p["users"][user][1],
    )
    assert answer.status_code == 200, answer.text


def _told(p, user: str) -> list[dict[str, Any]]:
    answer = p["client"].get(URL, headers=p["users"][user][1])
    assert answer.status_code == 200, answer.text
    return [n for n in answer.json()["notifications"] if n["kind"] == "viewed_by_other_agency"]


def test_the_case_holder_is_told_at_once_of_another_organisations_view(partnership) -> None:
    p = partnership
    police = p["users"]["police"][0]
    _view(p, "police", p["held"])
    _view(p, "police", p["other"])  # no open case: nobody is told of this one
    told = _told(p, "health")  # derived from the audit: there as soon as the view is
    assert len(told) == 1
    notice = told[0]
    assert police in notice["message"] and "POLICE" in notice["message"]
    assert "welfare_check" in notice["message"]
    assert p["held"] in notice["message"] and p["other"] not in notice["message"]
    assert "secret detail" not in notice["message"] and "Nell" not in notice["message"]
    assert notice["links"] == [{"kind": "person", "id": p["held"], "label": "The person"}]
    assert notice["seen"] is False
    assert [n["notification_id"] for n in _told(p, "health_manager")] != []
    assert _told(p, "fire") == [] and _told(p, "police") == [] and _told(p, "health_steward") == []


def test_own_organisation_quiet_purposes_and_closed_cases_tell_no_one(partnership) -> None:
    p = partnership
    before = {n["notification_id"] for n in _told(p, "health")}
    _view(p, "health_colleague", p["held"])
    _view(p, "police", p["held"], purpose="mash_triage")
    _view(p, "fire", p["closed"])
    assert {n["notification_id"] for n in _told(p, "health")} == before


def test_each_view_is_its_own_notification_and_is_marked_seen(partnership) -> None:
    p = partnership
    before = len(_told(p, "health"))
    _view(p, "fire", p["held"], purpose="missing_person")
    told = _told(p, "health")
    assert len(told) == before + 1
    newest = told[0]
    assert p["users"]["fire"][0] in newest["message"] and "missing_person" in newest["message"]
    marked = p["client"].post(
        f"{URL}/seen",
        json={"notification_ids": [newest["notification_id"]]},
        headers=p["users"]["health"][1],
    )
    assert marked.status_code == 200, marked.text
    assert next(n for n in _told(p, "health") if n["notification_id"] == newest["notification_id"])[
        "seen"
    ]
    # the colleague's copy is their own: still unseen
    assert not next(n for n in _told(p, "health_colleague") if n["message"] == newest["message"])[
        "seen"
    ]


def test_the_case_holders_person_page_lists_recent_views_by_other_agencies(partnership) -> None:
    p = partnership
    _view(p, "police", p["held"], purpose="mash_triage")  # quiet: listed, though no one is told

    def asked(user: str) -> Any:
        return p["client"].post(
            f"/api/v1/persons/{p['held']}/views-by-other-agencies/view",
            json={"purpose": "welfare_check", "purpose_detail": "my own case"},
            headers=p["users"][user][1],
        )

    mine = asked("health")
    assert mine.status_code == 200, mine.text
    listed = mine.json()
    assert listed["case_holder"] is True and listed["person_id"] == p["held"]
    whom = {(v["username"], v["organisation"], v["purpose"]) for v in listed["views"]}
    assert (p["users"]["police"][0], "POLICE", "mash_triage") in whom
    assert (p["users"]["police"][0], "POLICE", "welfare_check") in whom
    assert all(v["organisation"] != "HEALTH" for v in listed["views"])  # own views not listed
    assert "secret detail" not in mine.text
    theirs = asked("police").json()
    assert theirs["case_holder"] is False and theirs["views"] == []
    assert asked("health_steward").status_code == 403
    audit = p["context"].audit.search("HEALTH", username=p["users"]["health"][0])
    assert any(
        e["action"] == "view_other_agency_views" and p["held"] in e["person_ids"] for e in audit
    )
