"""Viewers are told, in the web app (Debian's chromium against the real API, the server and
browser of ``test_web_app``): a practitioner opens a person while two people's records are
merged into it; once a steward's split is stored, the navigation shows one new
notification, the Notifications page says what changed and links to both people (opened
with a purpose, as every person page), and opening the page marks it seen. The page
passes axe-core's automated WCAG 2.1 A and AA checks."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from sinks.clickhouse.writer import SinkWriter
from tests.factories import letters
from tests.integration import test_web_app as web
from tests.integration.signing_in import add_user

pytestmark = pytest.mark.integration

server = web.server  # module-scoped fixtures of the web app's tests: the API, the browser
browser = web.browser


def _record(run: str, name: str, agency: str, person: str, given: str, family: str, day: int):
    at = datetime(2026, 3, 2, 10, tzinfo=UTC) + timedelta(days=day)
    return {
        "interaction": {
            "event_id": f"{run}-{name}",
            "agency": agency,
            "source_system": f"{agency.title()} records",
            "source_record_id": f"{agency[:3]}-{day}",
            "event_type": "INCIDENT",
            "occurred_at": at,
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": "1983-05-17",
                "gender": "F",
                "address": {
                    "line1": "12 Sedge Walk",
                    "line2": None,
                    "town": "Darlaston",
                    "postcode": "WS10 9LT",
                    "uprn": None,
                },
                "nhs_number": None,
            },
            "case_status": None,
            "contact": {"name": "Duty", "team": "Duty", "phone": "0121 555 0142", "email": None},
        },
        "person_id": person,
        "address_id": f"A{run}",
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": at,
    }


def _now() -> datetime:
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    return moment


@pytest.fixture(scope="module")
def merged(clickhouse) -> dict[str, Any]:
    """P with a record of its own and B's record, B merged into P just now."""
    run = uuid.uuid4().hex[:8]
    family = "Corran" + letters(run)
    person, restored = f"P{run}p", f"P{run}b"
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            _record(run, "police", "POLICE", person, "Lena", family, 0),
            _record(run, "health", "HEALTH", restored, "Lina", family, 6),
        ]
    )
    merge_id = f"M{run}"
    writer.write_merges(
        [
            {
                "merge_id": merge_id,
                "surviving_person_id": person,
                "retired_person_id": restored,
                "triggered_by_event_id": f"{run}-health",
                "match_weight": 9.0,
                "evidence": [{"field": "family_name", "level": "exact", "weight": 8.0}],
                "merged_at": _now(),
            }
        ]
    )
    return {"run": run, "family": family, "person": person, "restored": restored, "merge": merge_id}


def test_the_viewer_is_told_in_the_navigation_and_on_the_notifications_page(
    server, browser, merged, clickhouse
):
    url, context = server
    practitioner = add_user(context, "practitioner", "POLICE", prefix="told")
    family, person, restored = merged["family"], merged["person"], merged["restored"]

    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    page.evaluate(
        "sessionStorage.setItem('mast.purpose', "
        "JSON.stringify({purpose: 'welfare_check', purpose_detail: 'ref 31'}))"
    )
    page.goto(f"{url}/#/person/{person}")
    # merged: P's page is named from B's record, the latest, and shows P's own too
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Lina {family}")
    expect(page.locator("main")).to_contain_text(f"Lena {family}")
    page.close()

    SinkWriter(clickhouse).write_splits(
        [
            {
                "split_id": f"S{merged['run']}",
                "merge_id": merged["merge"],
                "surviving_person_id": person,
                "restored_person_id": restored,
                "correction_id": f"C{merged['run']}",
                "moved_records": 1,
                "split_at": _now(),
            }
        ]
    )

    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name="Notifications (1 new)")
    expect(link).to_be_visible()
    expect(page.locator("#notification-status")).to_have_text("1 new notification")

    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    card = page.locator("article.notification")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", level=2)).to_have_text(
        "New: A person you viewed has been corrected"
    )
    expect(card).to_contain_text("was two people")
    expect(card).not_to_contain_text(family)  # ids and dates, never a name
    kept = card.get_by_role("link", name=f"The person the records stayed with ({person})")
    split_off = card.get_by_role(
        "link", name=f"The person whose records were split off ({restored})"
    )
    expect(kept).to_have_attribute("href", f"#/person/{person}")
    expect(split_off).to_have_attribute("href", f"#/person/{restored}")
    expect(page.get_by_role("status").filter(has_text="1 notification, 1 new")).to_have_count(1)
    # opening the page marked it seen: the count is gone
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert web._accessibility_problems(page) == []

    # the link opens the person as they are now, with a purpose declared first
    split_off.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a person")
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Lina {family}")
    expect(page.locator("main")).not_to_contain_text(f"Lena {family}")

    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.locator("article.notification h2")).to_have_text(
        "A person you viewed has been corrected"
    )
    page.close()
