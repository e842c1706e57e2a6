"""Subject access reports through the API on the real engine (chDB): two people live at one
address and are looked at together (the address page, a search that finds both) and apart;
the report of one lists every audited access that named them and their own records, links
and alerts, and nothing about the other; the person's copy names organisations, not staff;
the CSV guards its cells; only the data protection officer may make one, audited."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mast_core.events import parse_event
from mast_core.linkage.blocking import filed_keys
from mast_core.linkage.estimation import profiles_from_events
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from tests.factories import alert_row, letters
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

PURPOSE = {"purpose": "welfare_check", "purpose_detail": "about the other one"}
SAR = {"purpose": "subject_access_request"}


def _record(run, name, agency, person, given, family, born, day, contact="Jo Bloggs"):
    at = datetime(2026, 2, 2, 10, tzinfo=UTC) + timedelta(days=day)
    interaction = {
        "event_id": f"{run}-{name}",
        "agency": agency,
        "source_system": f"{agency.title()} records",
        "source_record_id": f"{agency[:3]}-{name}",
        "event_type": "INCIDENT",
        "occurred_at": at,
        "subject": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "gender": "F",
            "address": {
                "line1": f"{day + 4} Juniper Row",
                "line2": None,
                "town": "Bilston",
                "postcode": "WV14 0QA",
                "uprn": None,
            },
            "nhs_number": None,
        },
        "case_status": "OPEN" if agency == "HEALTH" else None,
        "contact": {"name": contact, "team": "Duty", "phone": "01902 555 0100", "email": "d@x"},
    }
    [profile] = profiles_from_events([parse_event(interaction)])
    return {
        "interaction": interaction,
        "person_id": person,
        "address_id": f"A{run}",
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": at,
        "search_keys": filed_keys(profile),
    }


@pytest.fixture(scope="module")
def story(settings, clickhouse) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    family = "Ashdown" + letters(run)
    alice, bea, alice_old = f"P{run}a", f"P{run}b", f"P{run}o"
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            _record(run, "a1", "POLICE", alice, "Alice", family, "1980-04-05", 0),
            _record(
                run, "a2", "HEALTH", alice_old, "Ali", family, "1980-04-05", 3, "=HYPERLINK(1)"
            ),
            _record(run, "b1", "FIRE", bea, "Beatrix", family, "2011-09-30", 1, "Bea's worker"),
        ]
    )
    writer.write_merges(
        [
            {
                "merge_id": f"M{run}",
                "surviving_person_id": alice,
                "retired_person_id": alice_old,
                "triggered_by_event_id": f"{run}-a2",
                "match_weight": 14.0,
                "evidence": [{"field": "date_of_birth", "level": "exact", "weight": 9.0}],
                "merged_at": datetime.now(UTC),
            }
        ]
    )
    writer.write_alerts(
        [
            alert_row("alice_rule", alice, {"POLICE": 2}),
            alert_row("bea_rule", bea, {"FIRE": 2}),
            alert_row("home_rule", f"A{run}", {"FIRE": 1}, kind="ADDRESS"),
        ]
    )
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    viewer, viewer_headers = signed_in(context, client, "practitioner", "POLICE", prefix="viewer")

    def look(method: str, url: str, **options: Any) -> None:
        answer = client.request(method, url, headers=viewer_headers, **options)
        assert answer.status_code == 200, answer.text

    look("POST", f"/api/v1/persons/{alice}/view", json=PURPOSE)
    look("POST", f"/api/v1/persons/{bea}/view", json=PURPOSE)  # Bea alone: not Alice's
    look("POST", f"/api/v1/addresses/A{run}/view", json=PURPOSE)  # both named
    look(
        "POST",
        "/api/v1/search/persons",
        json={"family_name": family, "postcode": "WV14 0QA", **PURPOSE},
    )
    dpo, dpo_headers = signed_in(context, client, "dpo", "OTHER")
    return {
        "run": run,
        "family": family,
        "alice": alice,
        "bea": bea,
        "alice_old": alice_old,
        "context": context,
        "client": client,
        "viewer": viewer,
        "dpo": dpo,
        "headers": dpo_headers,
    }


def _report(story, person, **params):
    answer = story["client"].get(
        f"/api/v1/subject-access/{person}", params={**SAR, **params}, headers=story["headers"]
    )
    assert answer.status_code == 200, answer.text
    return answer


def test_the_report_holds_the_persons_records_links_alerts_and_accesses(story) -> None:
    report = _report(story, story["alice_old"]).json()
    assert report["person_id"] == story["alice"]
    assert sorted(report["ids"]) == sorted([story["alice"], story["alice_old"]])
    assert [r["event_id"] for r in report["records"]] == [
        f"{story['run']}-a1",
        f"{story['run']}-a2",
    ]
    assert {r["given_name"] for r in report["records"]} == {"Alice", "Ali"}
    assert all(r["linked_because"] for r in report["records"])
    assert [link["merge_id"] for link in report["links"]] == [f"M{story['run']}"]
    assert "date of birth exact" in report["links"][0]["because"]
    assert [a["rule_id"] for a in report["alerts"]] == ["alice_rule"]
    viewer_actions = sorted(a["action"] for a in report["accesses"] if a["who"] == story["viewer"])
    assert viewer_actions == ["search_persons", "view_address", "view_person"]
    assert all(
        a["purpose"] == "welfare_check" for a in report["accesses"] if a["who"] == story["viewer"]
    )


def test_nothing_about_the_other_person_is_in_the_report(story) -> None:
    text = _report(story, story["alice"]).text
    for other in (story["bea"], "Beatrix", "2011-09-30", "bea_rule", "Bea's worker", "home_rule"):
        assert other not in text
    assert "about the other one" not in text  # the purpose's detail is left out
    accesses = _report(story, story["bea"]).json()["accesses"]
    # Bea's report has her own page view, the address page and the search, not Alice's page
    assert sorted(a["action"] for a in accesses if a["who"] == story["viewer"]) == [
        "search_persons",
        "view_address",
        "view_person",
    ]


def test_the_persons_copy_names_organisations_not_staff(story) -> None:
    report = _report(story, story["alice"], copy="person")
    assert report.json()["made_for"] == "person"
    assert story["viewer"] not in report.text and "Jo Bloggs" not in report.text
    viewer = [a for a in report.json()["accesses"] if a["organisation"] == "POLICE"]
    assert viewer and {a["who"] for a in viewer} == {"a member of staff of POLICE"}
    assert {r["contact"]["name"] for r in report.json()["records"]} == {
        "a member of staff of POLICE",
        "a member of staff of HEALTH",
    }
    assert {r["contact"]["email"] for r in report.json()["records"]} == {None}


def test_the_csv_has_every_section_and_guards_formulas(story) -> None:
    answer = _report(story, story["alice"], format="csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {row["section"] for row in rows} == {"record", "link", "alert", "access"}
    assert "'=HYPERLINK(1)" in {row["who"] for row in rows}
    assert not any(value.startswith("=") for row in rows for value in row.values())


def test_only_the_officer_makes_reports_and_each_is_audited(story) -> None:
    context, client = story["context"], story["client"]
    logged = context.audit.search("OTHER", username=story["dpo"])
    made = [e for e in logged if e["action"] == "subject_access_report"]
    assert made and all(e["purpose"] == "subject_access_request" for e in made)
    assert story["alice"] in made[0]["person_ids"]
    assert {json.loads(e["asked"])["copy"] for e in made} >= {"officer", "person"}
    unknown = client.get("/api/v1/subject-access/P-nobody", params=SAR, headers=story["headers"])
    assert unknown.status_code == 404
    wrong = client.get(
        f"/api/v1/subject-access/{story['alice']}",
        params={"purpose": "welfare_check"},
        headers=story["headers"],
    )
    assert wrong.status_code == 422
    for role in ("practitioner", "manager", "admin", "steward"):
        name, headers = signed_in(context, client, role, "HEALTH")
        refused = client.get(
            f"/api/v1/subject-access/{story['alice']}", params=SAR, headers=headers
        )
        assert refused.status_code == 403
        searched = client.post(
            "/api/v1/subject-access/search", json={"family_name": story["family"]}, headers=headers
        )
        assert searched.status_code == 403
        audit = context.audit.search("HEALTH", username=name)
        assert {(e["action"], e["outcome"]) for e in audit} == {
            ("subject_access_report", "refused"),
            ("subject_access_search", "refused"),
        }


def test_the_officer_finds_the_person_a_request_is_about(story) -> None:
    found = story["client"].post(
        "/api/v1/subject-access/search",
        json={"given_name": "Alice", "family_name": story["family"], "date_of_birth": "05/04/1980"},
        headers=story["headers"],
    )
    assert found.status_code == 200, found.text
    assert found.json()[0]["person_id"] == story["alice"]
    assert set(found.json()[0]) == {
        "person_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "postcode",
        "town",
        "records",
        "confidence",
        "shielded",
    }
    assert found.json()[0]["shielded"] is False
