"""A page as it stood, in the browser (Debian's chromium against the real API, the harness of
``test_web_app``): a practitioner opens a person; a new record of theirs arrives; the
manager finds the view in the audit, follows its link, and sees the page as it stood when it
was viewed, under a banner that says so, without the record that came later; the banner's
link leads to the page as it stands, which has it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from sinks.clickhouse.writer import SinkWriter
from tests.factories import event_dict
from tests.integration import test_web_app as web
from tests.integration.signing_in import add_user

pytestmark = pytest.mark.integration

server = web.server  # module-scoped fixtures of the web app's tests: the API, the browser
browser = web.browser

T0 = datetime(2026, 4, 3, 9, tzinfo=UTC)


def _resolved(run: str, agency: str, hours: int) -> dict:
    interaction = event_dict(
        event_id=f"{run}-{agency.lower()}",
        agency=agency,
        source_system=agency.title(),
        source_record_id=f"{agency[:3]}-{run}",
        occurred_at=None,
    )
    interaction["occurred_at"] = T0 + timedelta(hours=hours)
    interaction["subject"] = {**interaction["subject"], "family_name": f"Vale{run[:4]}"}
    return {
        "interaction": interaction,
        "person_id": f"P{run}",
        "address_id": f"A{run}",
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": T0 + timedelta(hours=hours),
    }


def test_the_manager_opens_from_the_audit_the_page_as_it_stood(server, browser, clickhouse):
    url, context = server
    run = uuid.uuid4().hex[:8]
    writer = SinkWriter(clickhouse)
    writer.write_resolved([_resolved(run, "FIRE", 0), _resolved(run, "POLICE", 5)])
    practitioner = add_user(context, "practitioner", "HOUSING", prefix="asatp")
    manager = add_user(context, "manager", "HOUSING", prefix="asatm")
    person = f"P{run}"

    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    page.goto(f"{url}/#/person/{person}")
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")
    page.get_by_role("button", name="Open").click()
    records = page.locator("#s-records-by-agency").locator("xpath=..").locator("tbody tr")
    expect(records).to_have_count(2)
    expect(page.locator(".as-at")).to_have_count(0)
    page.close()

    writer.write_resolved([_resolved(run, "HEALTH", 30)])  # a new record, after the view

    review = browser.new_page()
    web._sign_in(review, url, manager)
    review.get_by_role("link", name="Audit").click()
    review.get_by_label("User").fill(practitioner)
    review.get_by_role("button", name="Show").click()
    row = review.locator("table.audit tbody tr").filter(has_text="view person")
    link = row.get_by_role("link", name="Open as it stood")
    expect(link).to_have_count(1)
    href = link.get_attribute("href") or ""
    assert href.startswith(f"#/person/{person}/"), href
    viewed = datetime.fromisoformat(unquote(href.rsplit("/", 1)[1]))
    assert timedelta(0) < datetime.now(UTC) - viewed < timedelta(minutes=5)
    link.click()
    review.get_by_label("Purpose", exact=True).select_option(label="Self-neglect review")
    review.get_by_role("button", name="Open").click()
    banner = review.locator(".as-at")
    expect(banner).to_contain_text(
        f"As it stood at {viewed.day} {viewed:%b %Y %H:%M:%S} UTC", use_inner_text=True
    )
    records = review.locator("#s-records-by-agency").locator("xpath=..").locator("tbody tr")
    expect(records).to_have_count(2)
    expect(records.filter(has_text="Health")).to_have_count(0)
    expect(review.get_by_text("Mark records that belong to someone else")).to_have_count(0)

    banner.get_by_role("link", name="See it as it stands now").click()
    expect(review.locator(".as-at")).to_have_count(0)
    records = review.locator("#s-records-by-agency").locator("xpath=..").locator("tbody tr")
    expect(records).to_have_count(3)
    expect(records.filter(has_text="Health")).to_have_count(1)
    expect(review.get_by_text("Mark records that belong to someone else")).to_have_count(1)
    review.close()
