"""A possible match in the web app, in Debian's chromium against the real API and the real
broker (the server and browser of ``test_web_app``): a steward sees on the Disputes page the
record kept for review beside the person it may be, with the evidence and no contact, and
confirms them the same person with a note; the CONFIRM_MATCH correction is on the
corrections topic. The page passes axe-core's automated WCAG 2.1 A and AA checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from mast_core.avro import CORRECTION, codec
from sinks.clickhouse.writer import SinkWriter
from tests.factories import letters
from tests.integration import test_web_app as web
from tests.integration.signing_in import add_user
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration

server = web.server  # module-scoped fixtures of the web app's tests: the API, the browser
browser = web.browser
PHONE = "01902 771203"


def _record(run: str, name: str, agency: str, person: str, given: str, family: str, dob: str):
    at = datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(days=len(name))
    return {
        "interaction": {
            "event_id": f"{run}-{name}",
            "agency": agency,
            "source_system": f"{agency.title()} records",
            "source_record_id": f"{agency[:3]}-{name}",
            "event_type": "INCIDENT",
            "occurred_at": at,
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "gender": "F",
                "address": {
                    "line1": "3 Campion Close",
                    "line2": None,
                    "town": "Darlaston",
                    "postcode": "WS10 7PD",
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
        "match_reason": "new person; possible match kept for review",
        "resolved_at": at,
    }


@pytest.fixture(scope="module")
def scene(clickhouse) -> dict[str, Any]:
    """Person A (a health record) and person B (a police record kept for review beside A)."""
    run = uuid.uuid4().hex[:8]
    family = "Ashdown" + letters(run)
    first, second = f"P{run}a", f"P{run}b"
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            _record(run, "health", "HEALTH", first, "Imogen", family, "1988-05-14"),
            _record(run, "police", "POLICE", second, "Imogen", family, "1988-06-14"),
        ]
    )
    possible_id = f"Q{uuid.uuid4().hex[:16]}"
    writer.write_possible_matches(
        [
            {
                "possible_id": possible_id,
                "agency": "POLICE",
                "event_id": f"{run}-police",
                "person_id": second,
                "candidate_person_id": first,
                "match_weight": 5.6,
                "reason": "given name exact, family name exact, date of birth typo: possible",
                "evidence": [
                    {"field": "family_name", "level": "exact", "weight": 8.0},
                    {"field": "date_of_birth", "level": "typo", "weight": 3.1},
                ],
                "found_at": datetime.now(UTC),
            }
        ]
    )
    return {"run": run, "family": family, "first": first, "second": second, "id": possible_id}


def test_a_steward_confirms_a_possible_match(server, browser, scene, kafka):
    url, context = server
    steward = add_user(context, "steward", "OTHER", prefix="steward")
    page = browser.new_page()
    web._sign_in(page, url, steward)
    expect(page.get_by_role("heading", level=1)).to_have_text("Disputes")
    card = page.locator(f"article[data-dispute='{scene['id']}']")
    expect(card.get_by_role("heading", level=2)).to_have_text(f"Open: possible match {scene['id']}")
    kept = card.get_by_role(
        "table", name=f"Person {scene['second']}: the record kept for review first (1)"
    )
    expect(kept).to_contain_text(f"Imogen {scene['family']}")
    expect(kept).to_contain_text("14 Jun 1988")
    candidate = card.get_by_role("table", name=f"Person {scene['first']}, who it may be (1)")
    expect(candidate).to_contain_text("14 May 1988")
    evidence = card.get_by_role("table", name=f"Evidence for possible match {scene['id']}")
    expect(evidence).to_contain_text("Date of birth")
    expect(page.locator("main")).not_to_contain_text(PHONE)  # no contacts for a steward
    page.wait_for_load_state("networkidle")
    assert web._accessibility_problems(page) == []

    card.get_by_role("radio", name="Same person: merge them").check()
    card.get_by_label("Note").fill("Same woman: the police had her birth month wrong")
    card.get_by_role("button", name="Record decision").click()
    expect(card.locator("p.decision")).to_contain_text(f"Merged: the same person by {steward}")
    expect(card.locator("p.decision")).to_contain_text("sent to the resolver")
    page.close()

    corrections = [
        c
        for c in (
            codec(CORRECTION).decode(m.value()) for m in read_topic(kafka, kafka.corrections_topic)
        )
        if c["dispute_id"] == scene["id"]
    ]
    assert [(c["kind"], c["person_id"], c["other_person_id"]) for c in corrections] == [
        ("CONFIRM_MATCH", scene["second"], scene["first"])
    ]
