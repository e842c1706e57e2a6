"""Why, at the point of use, in Debian's chromium against the real API (the server and
browser of ``test_web_app``): beside each record on a person page, the sentence saying why
it is the person's, with each field's part on demand; and a History section listing the
merges of the person's records with their evidence. Every role that opens a person page
sees them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mast_core.events import parse_event
from sinks.clickhouse.writer import SinkWriter
from stream_processors.resolution import ResolutionStage, resolved_record
from tests.integration import test_web_app as web

pytestmark = pytest.mark.integration

server = web.server  # module-scoped fixtures of the web app's tests: the API, the browser
browser = web.browser
PASSWORD = web.PASSWORD
NHS = "9434765919"
ALDER = {"line1": "12 Alder Street", "town": "Walsall", "postcode": "WS1 2AB"}


@dataclass(frozen=True)
class People:
    margaret: str
    margaret_family: str
    dorothy: str
    dorothy_family: str
    bridge: str


def _letters(hex_digits: str) -> str:
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in hex_digits)


def _event(event_id: str, agency: str, given: str, family: str, at: str, **fields: Any):
    """An event of this module's own (names invented)."""
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "source_system": fields.pop("system", agency.title()),
            "source_record_id": fields.pop("record", None),
            "event_type": "INCIDENT",
            "occurred_at": at,
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": fields.pop("dob", "1957-02-13"),
                "gender": "F",
                "address": fields.pop("address", ALDER),
                "nhs_number": fields.pop("nhs", None),
            },
            "contact": {"name": "Duty officer", "team": "Duty", "phone": "01922 000000"},
        }
    )


@pytest.fixture(scope="module")
def people(clickhouse) -> People:
    """Margaret, known to health and then to the police as Peggy; Dorothy, whose two
    identities a third record merged."""
    run = uuid.uuid4().hex[:6]
    margaret_family = "Thornbury" + _letters(run)
    dorothy_family = "Quenby" + _letters(run[::-1])
    cedar = {"line1": "3 Cedar Walk", "town": "Walsall", "postcode": "WS2 9PL"}
    events = [
        _event(f"{run}-h1", "HEALTH", "Margaret", margaret_family, "2026-03-01T09:00:00Z"),
        _event(f"{run}-p1", "POLICE", "Peggy", margaret_family, "2026-03-05T22:00:00Z"),
        _event(
            f"{run}-da",
            "HEALTH",
            "Dorothy",
            dorothy_family,
            "2026-04-03T10:00:00Z",
            system="PAS",
            nhs=NHS,
            dob=None,
            address=cedar,
        ),
        _event(
            f"{run}-db",
            "POLICE",
            "Dorothy",
            dorothy_family,
            "2026-04-04T10:00:00Z",
            system="Niche",
            record="P-7",
            address={"line1": "9 Elm Way", "town": "Dudley", "postcode": "DY9 9ZZ"},
        ),
        _event(
            f"{run}-dc",
            "POLICE",
            "Dorothy",
            dorothy_family,
            "2026-04-06T10:00:00Z",
            system="Niche",
            record="P-7",
            nhs=NHS,
            address=cedar,
        ),
    ]
    stage = ResolutionStage.fresh()
    received = [e.occurred_at + timedelta(minutes=1) for e in events if e.occurred_at]
    outputs = [
        o for o in (stage.process(e, at) for e, at in zip(events, received, strict=True)) if o
    ]
    writer = SinkWriter(clickhouse)
    writer.write_resolved([resolved_record(o) for o in outputs])
    merges = [merge for o in outputs for merge in o.merges]
    assert len(merges) == 1, "Dorothy's third record should merge her two identities"
    writer.write_merges(merges)
    assert outputs[1].resolved["person_id"] == outputs[0].resolved["person_id"]
    return People(
        margaret=outputs[0].resolved["person_id"],
        margaret_family=margaret_family,
        dorothy=merges[0]["surviving_person_id"],
        dorothy_family=dorothy_family,
        bridge=f"{run}-dc",
    )


def _user(server, role: str) -> str:
    _url, context = server
    username = f"{role[:4]}-{uuid.uuid4().hex[:6]}"
    context.users.add(username, PASSWORD, role, "ADULT_SOCIAL_CARE")
    return username


def _open_person(page: Page, url: str, person_id: str) -> None:
    page.goto(f"{url}/#/person/{person_id}")
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name="Records by agency")).to_be_visible()


def _history(page: Page):
    return page.locator("#s-history").locator("xpath=..")


def test_the_sentence_is_beside_each_record_with_its_evidence_on_demand(server, browser, people):
    url, _context = server
    page = browser.new_page()
    web._sign_in(page, url, _user(server, "practitioner"))
    _open_person(page, url, people.margaret)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(people.margaret_family))

    records = page.locator("#s-records-by-agency").locator("xpath=..").locator("tbody tr")
    police = records.filter(has_text="Police")
    health = records.filter(has_text="Health")
    sentence = police.locator(".why-sentence")
    expect(sentence).to_be_visible()
    expect(sentence).to_contain_text("Date of birth exact")  # the strongest evidence first
    expect(sentence).to_contain_text("given name a known short form")
    expect(sentence).to_contain_text("same address")
    expect(sentence).to_have_text(re.compile(r": (very )?strong$"))
    expect(health.locator(".why-sentence")).to_have_text(
        "The first record of this person: no earlier record matched"
    )
    expect(health.get_by_text("Evidence by field")).to_have_count(0)  # nothing was compared

    # each field's part, on demand
    evidence = police.locator("ul.evidence")
    expect(evidence).to_be_hidden()
    police.get_by_text("Evidence by field").click()
    expect(evidence).to_be_visible()
    expect(evidence.locator("li.for").filter(has_text="Date of birth exact")).to_have_count(1)
    expect(evidence).to_contain_text("Given name a known short form or middle name")

    # every interaction says it too; the history has no merge to list
    interactions = page.locator("#s-interactions").locator("xpath=..").locator("tbody tr")
    expect(interactions.filter(has_text="Police").locator(".why-sentence")).to_contain_text(
        "Date of birth exact"
    )
    expect(_history(page)).to_contain_text("No merges")
    assert web._accessibility_problems(page) == []


@pytest.mark.parametrize("role", ["practitioner", "manager"])
def test_the_history_lists_the_merge_with_its_evidence(server, browser, people, role):
    url, _context = server
    page = browser.new_page()
    web._sign_in(page, url, _user(server, role))
    _open_person(page, url, people.dorothy)
    history = _history(page)
    merge = history.locator("ol.history > li")
    expect(merge).to_have_count(1)
    expect(merge.get_by_role("heading", level=3)).to_have_text("Merged 6 Apr 2026 10:01")
    expect(merge).to_contain_text(f"Police's record {people.bridge} matched both")
    expect(merge).to_contain_text(f"joined those of {people.dorothy}")
    expect(merge.locator(".why-sentence")).to_contain_text("given name exact")
    expect(merge.locator(".why-sentence")).to_contain_text(": very strong")
    merge.get_by_text("Evidence by field").click()
    evidence = merge.locator("ul.evidence")
    expect(evidence).to_be_visible()
    expect(evidence.locator("li.for").filter(has_text="Given name exact")).to_have_count(1)
    expect(evidence.locator("li.for")).not_to_have_count(0)
    # the record that started the retired identity says the merge brought it in
    records = page.locator("#s-records-by-agency").locator("xpath=..")
    expect(records).to_contain_text("joined to this person later by a merge")
    if role == "practitioner":
        assert web._accessibility_problems(page) == []
