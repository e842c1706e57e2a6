""" "Not the same person" in the web app, in Debian's chromium against the real API and the
real broker (the server and browser of ``test_web_app``): the person page's "Not this
person" form (``dispute-form.js``) disputes a record and says the dispute's id; a steward
lands on the Disputes page, sees that record beside the person's others with the evidence
and no contact, and splits it off with a note; the correction is on the corrections
topic. The Disputes page passes axe-core's automated WCAG 2.1 A and AA checks."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mast_core.avro import CORRECTION, codec
from sinks.clickhouse.writer import SinkWriter
from tests.factories import letters
from tests.integration import test_web_app as web
from tests.integration.signing_in import add_user
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration

server = web.server  # module-scoped fixtures of the web app's tests: the API, the browser
browser = web.browser
PHONE = "01902 448812"


def _record(run: str, name: str, agency: str, person: str, given: str, family: str, day: int):
    at = datetime(2026, 2, 1, 10, tzinfo=UTC) + timedelta(days=day)
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
                "date_of_birth": "1974-10-02",
                "gender": "M",
                "address": {
                    "line1": "21 Teasel Lane",
                    "line2": None,
                    "town": "Bilston",
                    "postcode": "WV14 6RT",
                    "uprn": None,
                },
                "nhs_number": None,
            },
            "case_status": None,
            "contact": {"name": "Duty", "team": "Duty", "phone": PHONE, "email": None},
        },
        "person_id": person,
        "address_id": f"A{run}",
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": at,
    }


@pytest.fixture(scope="module")
def scene(clickhouse) -> dict[str, Any]:
    """Person P with a record of its own, and B's record, merged into P."""
    run = uuid.uuid4().hex[:8]
    family = "Bramwell" + letters(run)
    person, retired = f"P{run}p", f"P{run}b"
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            _record(run, "police", "POLICE", person, "Owen", family, 0),
            _record(run, "fire", "FIRE", retired, "Owain", family, 3),
        ]
    )
    merge_id = f"M{run}"
    writer.write_merges(
        [
            {
                "merge_id": merge_id,
                "surviving_person_id": person,
                "retired_person_id": retired,
                "triggered_by_event_id": f"{run}-fire",
                "match_weight": 10.5,
                "evidence": [
                    {"field": "family_name", "level": "exact", "weight": 8.0},
                    {"field": "given_name", "level": "similar", "weight": 2.5},
                ],
                "merged_at": datetime(2026, 2, 5, tzinfo=UTC),
            }
        ]
    )
    return {"run": run, "family": family, "person": person, "merge_id": merge_id}


def _raise_from_the_form(page: Page, url: str, scene: dict[str, Any]) -> str:
    """The "Not this person" form on the person page, with the session's purpose: the fire
    record disputed; the dispute's id."""
    page.evaluate(
        "sessionStorage.setItem('mast.purpose', "
        "JSON.stringify({purpose: 'welfare_check', purpose_detail: 'ref 77'}))"
    )
    page.goto(f"{url}/#/person/{scene['person']}")
    expect(page.get_by_role("heading", name="Not this person", level=2)).to_be_visible()
    page.get_by_text("Mark records that belong to someone else").click()
    page.get_by_label("Reason").fill("Owain is his cousin: another date of birth at fire")
    page.get_by_role("button", name="Dispute these records").click()
    form = page.get_by_role("form", name="Not this person")
    expect(form.get_by_role("alert")).to_have_text("Tick at least one record and give a reason.")
    page.get_by_label(f"Fire · Incident · 4 Feb 2026 (event {scene['run']}-fire)").check()
    page.get_by_role("button", name="Dispute these records").click()
    raised = page.locator("p.raised")
    expect(raised).to_contain_text("raised for 1 record: a steward will decide")
    found = re.search(r"Dispute (D[0-9a-f]{32}) raised", raised.inner_text())
    assert found, raised.inner_text()
    return found.group(1)


def test_a_dispute_raised_on_the_person_page_is_split_by_a_steward(server, browser, scene, kafka):
    url, context = server
    practitioner = add_user(context, "practitioner", "POLICE", prefix="pc")
    steward = add_user(context, "steward", "OTHER", prefix="steward")

    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    dispute_id = _raise_from_the_form(page, url, scene)
    page.close()

    page = browser.new_page()
    web._sign_in(page, url, steward)
    # a steward lands on the queue; searches and alerts are not offered
    expect(page.get_by_role("heading", level=1)).to_have_text("Disputes")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Disputes")).to_be_visible()
    expect(nav.get_by_role("link", name="Search people")).to_be_hidden()
    expect(nav.get_by_role("link", name="Alerts")).to_be_hidden()
    card = page.locator(f"article[data-dispute='{dispute_id}']")
    expect(card.get_by_role("heading", level=2)).to_have_text(f"Open: dispute {dispute_id}")
    expect(card).to_contain_text("Owain is his cousin")
    disputed = card.get_by_role("table", name="Disputed records")
    expect(disputed).to_contain_text(f"Owain {scene['family']}")
    expect(disputed).to_contain_text(f"Came with merge {scene['merge_id']}")
    others = card.get_by_role("table", name="The person's other records")
    expect(others).to_contain_text(f"Owen {scene['family']}")
    evidence = card.get_by_role("table", name=f"Evidence for merge {scene['merge_id']}")
    expect(evidence).to_contain_text("Family name")
    expect(page.locator("main")).not_to_contain_text(PHONE)  # no contacts for a steward
    page.wait_for_load_state("networkidle")
    assert web._accessibility_problems(page) == []

    card.get_by_role("radio", name="Split: these records are not this person").check()
    card.get_by_label("Note").fill("Different people: the fire service confirmed his age")
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator("p.decision")).to_contain_text(f"Split by {steward}")
    expect(card.locator("p.decision")).to_contain_text("sent to the resolver")
    page.close()

    messages = read_topic(kafka, kafka.corrections_topic)
    corrections = [
        c
        for c in (codec(CORRECTION).decode(m.value()) for m in messages)
        if c["dispute_id"] == dispute_id
    ]
    assert [(c["kind"], c["person_id"], c["merge_ids"]) for c in corrections] == [
        ("SPLIT", scene["person"], [scene["merge_id"]])
    ]
