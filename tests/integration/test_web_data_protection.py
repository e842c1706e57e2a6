"""The data protection officer's screens in the web app (Debian's chromium against the real
API, the server and browser of ``test_web_app``): the access review (a burst of out-of-hours
searches planted in the audit is listed with the entries behind it, an outcome is recorded
and the finding leaves the queue), the retention page (also a manager's), and a subject
access report (the person found, the report made in both copies). The officer's navigation
has no searches or alerts; each new page passes axe-core's WCAG 2.1 A and AA checks."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from mast_core.events import parse_event
from mast_core.linkage.blocking import filed_keys
from mast_core.linkage.estimation import profiles_from_events
from sinks.clickhouse.tables import AUDIT_LOG, AuditRow
from sinks.clickhouse.writer import SinkWriter
from tests.factories import letters
from tests.integration import test_web_app as web
from tests.integration.signing_in import add_user

pytestmark = pytest.mark.integration

server = web.server
browser = web.browser


def test_the_officer_reviews_a_burst_of_searches_at_night(server, browser, clickhouse):
    url, context = server
    officer = add_user(context, "dpo", "OTHER", prefix="dpo")
    searcher = f"owl-{uuid.uuid4().hex[:8]}"
    night = (datetime.now(UTC) - timedelta(days=1)).replace(hour=2, minute=0)  # 02:00-03:00 here
    clickhouse.insert(
        AUDIT_LOG,
        [
            AuditRow(
                uuid.uuid4(),
                night + timedelta(minutes=3 * i),
                searcher,
                "HOUSING",
                "practitioner",
                "search_persons",
                "shown",
                "welfare_check",
                "",
                "{}",
                [f"P{searcher}{i}"],
                [],
                [],
            )
            for i in range(10)
        ],
        column_names=AuditRow._fields,
    )

    page = browser.new_page()
    web._sign_in(page, url, officer)
    nav = page.get_by_role("navigation", name="Main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Access review")
    expect(nav.get_by_role("link", name="Access review")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit")).to_be_visible()
    expect(nav.get_by_role("link", name="Search people")).to_be_hidden()
    expect(nav.get_by_role("link", name="Alerts")).to_be_hidden()

    card = page.locator("article.finding").filter(has_text=searcher)
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", level=2)).to_have_text(
        f"a burst of look-ups out of hours: {searcher}"
    )
    expect(card.locator("tbody tr")).to_have_count(10)
    page.wait_for_load_state("networkidle")
    assert web._accessibility_problems(page) == []

    card.get_by_label("Advice given").check()
    card.get_by_label("Note").fill("Night shift cover, confirmed with the team manager")
    card.get_by_role("button", name="Record outcome").click()
    expect(card.locator(".decision")).to_contain_text("Advice given")
    expect(card.locator(".decision")).to_contain_text(officer)

    page.get_by_role("button", name="Show").click()  # "Not reviewed yet" again
    expect(page.locator("article.finding").filter(has_text=searcher)).to_have_count(0)
    page.get_by_label("Show").select_option(label="Reviewed")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("article.finding").filter(has_text=searcher)).to_contain_text(
        "Night shift cover"
    )
    page.close()

    listed = context.audit.search("OTHER", username=officer)
    recorded = [e for e in listed if e["action"] == "record_access_review"]
    assert len(recorded) == 1 and json.loads(recorded[0]["asked"])["outcome"] == "advice_given"


def test_managers_and_the_officer_see_what_is_held_and_for_how_long(server, browser):
    url, context = server
    for role, organisation in (("dpo", "OTHER"), ("manager", "FIRE")):
        user = add_user(context, role, organisation, prefix=role)
        page = browser.new_page()
        web._sign_in(page, url, user)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Retention").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Retention")
        audit = page.locator("tr[data-table='audit_log']")
        expect(audit).to_contain_text("The audit and decisions (MAST_AUDIT_RETENTION_DAYS)")
        expect(audit).to_contain_text(f"{context.settings.audit_retention_days:,} days")
        expect(page.locator("tr[data-table='identity_merges']")).to_contain_text("Not removed")
        expect(page.get_by_role("table", name="Kafka topics")).to_contain_text(
            context.settings.interactions_topic
        )
        page.wait_for_load_state("networkidle")
        if role == "dpo":
            assert web._accessibility_problems(page) == []
        page.close()
    practitioner = add_user(context, "practitioner", "FIRE")
    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Search people")).to_be_visible()
    expect(nav.get_by_role("link", name="Retention")).to_be_hidden()
    page.close()


def test_the_officer_finds_a_person_and_makes_their_subject_access_report(
    server, browser, clickhouse
):
    url, context = server
    run = uuid.uuid4().hex[:8]
    family = "Lowther" + letters(run)
    person = f"P{run}"
    at = datetime(2026, 5, 4, 9, tzinfo=UTC)
    interaction = {
        "event_id": f"{run}-1",
        "agency": "HOUSING",
        "source_system": "Housing records",
        "source_record_id": f"HOU-{run}",
        "event_type": "TENANCY_CHECK",
        "occurred_at": at,
        "subject": {
            "given_name": "Maud",
            "family_name": family,
            "date_of_birth": "1949-12-01",
            "gender": "F",
            "address": None,
            "nhs_number": None,
        },
        "case_status": None,
        "contact": {
            "name": "Kit Marlowe",
            "team": "Tenancy",
            "phone": "01384 555 0101",
            "email": None,
        },
    }
    [profile] = profiles_from_events([parse_event(interaction)])
    SinkWriter(clickhouse).write_resolved(
        [
            {
                "interaction": interaction,
                "person_id": person,
                "address_id": "",
                "match_weight": None,
                "match_reason": "new person",
                "resolved_at": at,
                "search_keys": filed_keys(profile),
            }
        ]
    )
    officer = add_user(context, "dpo", "OTHER", prefix="dpo")
    page = browser.new_page()
    web._sign_in(page, url, officer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subject access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subject access")
    page.get_by_label("Given name").fill("Maud")
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Date of birth").fill("01/12/1949")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=f"Report on {person}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Subject access report: {person}")
    records = page.get_by_role(
        "table", name="Each partner's record, oldest first, and why MAST linked it"
    )
    expect(records).to_contain_text(f"Maud {family}")
    expect(records).to_contain_text("Kit Marlowe")
    who = page.get_by_role(
        "table", name="Every audited look-up that named the person, oldest first"
    )
    expect(who).to_contain_text(officer)  # the officer's own search named the person
    page.wait_for_load_state("networkidle")
    assert web._accessibility_problems(page) == []

    page.get_by_label("Copy").select_option("person")
    page.get_by_role("button", name="Make report").click()
    expect(records).to_contain_text("a member of staff of HOUSING")
    expect(records).not_to_contain_text("Kit Marlowe")
    expect(who).not_to_contain_text(officer)
    page.close()
    made = [
        json.loads(e["asked"])["copy"]
        for e in context.audit.search("OTHER", username=officer)
        if e["action"] == "subject_access_report"
    ]
    assert sorted(made) == ["officer", "person"]
