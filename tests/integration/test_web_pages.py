"""What a new user meets in the web app, in Debian's chromium against the real API (the
server and browser of ``test_web_app``): an address search names its residents; an alert
says whom it is about and which agency's team follows it up; dates of birth read in one
form whichever way each partner wrote them; and an answer that arrives after the user has
moved on does not draw over the page they moved to. Also: the page's ES modules load under
the Content-Security-Policy every answer carries."""

from __future__ import annotations

import uuid
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, expect

from mast_core.events import parse_event
from sinks.clickhouse.writer import SinkWriter
from stream_processors.resolution import ResolutionStage, resolved_record
from tests.factories import alert_row, letters
from tests.integration import test_web_app as web
from tests.integration.signing_in import add_user

pytestmark = pytest.mark.integration

server = web.server  # module-scoped fixtures of the web app's tests: the API, the browser
browser = web.browser


@dataclass(frozen=True)
class Household:
    family: str
    street: str
    address: str
    mabel: str
    joan: str
    rule: str


@pytest.fixture(scope="module")
def household(clickhouse) -> Household:
    """Mabel (her date of birth written 14/06/1951 by health, 1951-06-14 by the police) and
    her daughter Joan at an address of their own, and an alert about Mabel whose evidence is
    health's and the police's interactions."""
    run = uuid.uuid4().hex[:6]
    family = "Quill" + letters(run)
    street = f"{letters(run[::-1]).title()} Road"

    def event(event_id: str, agency: str, at: str, given: str, dob: str, team: str):
        return parse_event(
            {
                "event_id": f"{run}-{event_id}",
                "agency": agency,
                "source_system": agency.title(),
                "source_record_id": f"{agency[:3]}-{event_id}",
                "event_type": "INCIDENT",
                "occurred_at": at,
                "subject": {
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": dob,
                    "gender": "F",
                    "address": {"line1": f"12 {street}", "town": "Dudley", "postcode": "DY3 2PL"},
                },
                "contact": {"name": f"{team} duty", "team": team, "phone": "01384 555010"},
            }
        )

    events = [
        event("health", "HEALTH", "2026-03-02T09:00:00Z", "Mabel", "14/06/1951", "ED Liaison"),
        event("housing", "HOUSING", "2026-03-05T11:00:00Z", "Joan", "1980-02-02", "Tenancy"),
        event("police", "POLICE", "2026-03-20T22:00:00Z", "Mabel", "1951-06-14", "Response"),
    ]
    stage = ResolutionStage.fresh()
    outputs = [o for o in (stage.process(e) for e in events) if o is not None]
    SinkWriter(clickhouse).write_resolved([resolved_record(o) for o in outputs])
    mabel = outputs[2].resolved["person_id"]
    assert outputs[0].resolved["person_id"] == mabel, "Mabel's two records should link"
    rule = f"web_rule_{run}"
    SinkWriter(clickhouse).write_alerts(
        [
            alert_row(
                rule,
                mabel,
                {"HEALTH": 1, "POLICE": 1},
                evidence=[f"{run}-health", f"{run}-police"],
                summary="Contact with two agencies within 30 days",
            )
        ]
    )
    return Household(
        family=family,
        street=street,
        address=f"12 {street}, Dudley, DY3 2PL",
        mabel=mabel,
        joan=outputs[1].resolved["person_id"],
        rule=rule,
    )


@pytest.fixture
def health_practitioner(server) -> str:
    _url, context = server
    return add_user(context, "practitioner", "HEALTH", prefix="nurse")


def _signed_in(browser, url: str, username: str) -> Page:
    page = browser.new_page()
    web._sign_in(page, url, username)
    return page


def _declare_purpose(page: Page) -> None:
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")


def test_an_address_search_names_each_resident(server, browser, household, health_practitioner):
    url, _context = server
    page = _signed_in(browser, url, health_practitioner)
    page.get_by_role("link", name="Search addresses").click()
    _declare_purpose(page)
    page.get_by_label("Address or postcode").fill(f"12 {household.street.lower()}, dudley")
    page.get_by_role("button", name="Search").click()
    row = page.locator("#results tbody tr").filter(
        has=page.get_by_role("link", name=household.address, exact=True)
    )
    people = row.locator("td").nth(1)
    mabel = people.get_by_role("link", name=f"Mabel {household.family}", exact=True)
    expect(mabel).to_have_attribute("href", f"#/person/{household.mabel}")
    expect(people.get_by_role("link", name=f"Joan {household.family}")).to_be_visible()
    expect(people).to_contain_text(f"Mabel {household.family}, born 14 Jun 1951")
    expect(people).to_contain_text(f"Joan {household.family}, born 2 Feb 1980")
    expect(people).not_to_contain_text("http")
    expect(people).not_to_contain_text("#/person")
    mabel.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Mabel {household.family}")


def test_dates_of_birth_read_in_one_form(server, browser, household, health_practitioner):
    url, _context = server
    page = _signed_in(browser, url, health_practitioner)
    _declare_purpose(page)
    page.get_by_label("Given name").fill("Mabel")
    page.get_by_label("Family name").fill(household.family)
    page.get_by_label("Date of birth").fill("14.6.1951")
    page.get_by_role("button", name="Search").click()
    result = page.locator("#results tbody tr").filter(has_text=f"Mabel {household.family}")
    expect(result.locator("td").nth(1)).to_have_text("14 Jun 1951")

    result.get_by_role("link", name=f"Mabel {household.family}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Mabel {household.family}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("14 Jun 1951")
    records = page.locator("#s-records-by-agency").locator("xpath=..").locator("tbody tr")
    expect(records).to_have_count(2)
    for agency in ("Health", "Police"):
        expect(records.filter(has_text=agency).locator("td").nth(4)).to_have_text("14 Jun 1951")
    # the form each partner wrote is kept where it helps: on hover, and machine-readable
    written = records.filter(has_text="Health").locator("time")
    expect(written).to_have_attribute("title", "As written: 14/06/1951")
    expect(written).to_have_attribute("datetime", "1951-06-14")
    main = page.locator("main")
    expect(main).not_to_contain_text("14/06/1951")
    expect(main).not_to_contain_text("1951-06-14")

    page.get_by_role("link", name=household.address).first.click()
    residents = page.locator("#s-people-linked-to-this-address").locator("xpath=..")
    expect(residents.locator("tr").filter(has_text="Mabel")).to_contain_text("14 Jun 1951")
    expect(residents.locator("tr").filter(has_text="Joan")).to_contain_text("2 Feb 1980")


def test_an_alert_names_whom_it_is_about_and_who_follows_it_up(
    server, browser, household, health_practitioner
):
    url, _context = server
    page = _signed_in(browser, url, health_practitioner)

    # on the person's page the evidence is there, so each owner's team is named
    page.goto(f"{url}/#/person/{household.mabel}")
    _declare_purpose(page)
    page.get_by_role("button", name="Open").click()
    alert = page.locator("ul.alerts li").filter(has_text="Web rule")
    expect(alert).to_contain_text("Contact with two agencies within 30 days")
    follow_up = alert.locator(".follow-up")
    expect(follow_up).to_contain_text("Health: ED Liaison (ED Liaison duty, 01384 555010)")
    expect(follow_up).to_contain_text("Police: Response (Response duty, 01384 555010)")
    assert web._accessibility_problems(page) == []

    # the list: who owns the follow-up, and a link to the person
    page.get_by_role("link", name="Alerts").click()
    page.get_by_label("Rule").fill(household.rule)
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr").filter(has_text="Contact with two agencies")
    expect(row).to_have_count(1)
    about = row.locator("td").nth(3).get_by_role("link")
    expect(about).to_have_attribute("href", f"#/person/{household.mabel}")
    owners = row.locator("td").nth(5)
    expect(owners).to_contain_text("Health")
    expect(owners).to_contain_text("Police")

    # with the subject's details and the owners' contacts in the list (fields the API is
    # asked to add: subject_person, contacts), the list names her and each owner's team
    def enrich(route: Route) -> None:
        answer = route.fetch()
        alerts: list[dict[str, Any]] = answer.json()
        for a in alerts:
            if a["rule_id"] == household.rule:
                a.setdefault(
                    "subject_person",
                    {
                        "given_name": "Mabel",
                        "family_name": household.family,
                        "date_of_birth": "14/06/1951",
                        "gender": "F",
                    },
                )
                a.setdefault(
                    "contacts",
                    [
                        {"agency": "HEALTH", "name": "ED Liaison duty", "team": "ED Liaison"},
                        {"agency": "POLICE", "name": "Response duty", "team": "Response"},
                    ],
                )
        route.fulfill(response=answer, json=alerts)

    page.route("**/api/v1/alerts?*", enrich)
    page.get_by_role("button", name="Filter").click()
    named = f"Mabel {household.family}, born 14 Jun 1951"
    expect(row.locator("td").nth(3).get_by_role("link", name=named)).to_be_visible()
    expect(owners).to_contain_text("Health: ED Liaison")
    expect(owners).to_contain_text("Police: Response")
    assert web._accessibility_problems(page) == []
    page.unroute("**/api/v1/alerts?*")


def test_a_late_answer_does_not_draw_over_the_next_page(
    server, browser, household, health_practitioner
):
    url, _context = server
    page = _signed_in(browser, url, health_practitioner)
    held: list[Route] = []
    page.route("**/api/v1/persons/**", lambda route: held.append(route))

    page.goto(f"{url}/#/person/{household.mabel}")
    _declare_purpose(page)
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_text("Loading…")).to_be_visible()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the person page's request was not sent"

    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    with suppress(PlaywrightError):  # the app has cancelled it; if it is still open, answer
        held[0].continue_()
    page.wait_for_timeout(1000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    assert page.title() == "Alerts — MAST"
    # nothing of the person page drew over the list (which may itself name Mabel, as the
    # subject of an alert)
    expect(page.get_by_role("heading", name="Open cases")).to_have_count(0)
    expect(page.get_by_role("heading", name="Addresses")).to_have_count(0)

    # the guard itself, apart from cancelling: a page the user has left draws nothing
    drawn = page.evaluate(
        """async () => {
            const { navigate } = await import("/static/view.js");
            const left = navigate();
            const now = navigate();
            return { left: left.show("Left behind"), leftLive: left.live, now: now.live };
        }"""
    )
    assert drawn == {"left": False, "leftLive": False, "now": True}
    expect(page.get_by_role("heading", name="Left behind")).to_have_count(0)


def test_the_modules_load_under_the_content_security_policy(server, browser):
    url, _context = server
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    answer = page.goto(url)
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    script = page.request.get(f"{url}/static/main.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-security-policy"] == policy
    assert page.locator("script[type=module][src='/static/main.js']").count() == 1
    assert problems == []


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WRITTEN_DATES = [
    "14/06/1951",
    "1951-06-14",
    "14.6.1951",
    "19510614",
    "14 Jun 1951",
    "June 14th, 1951",
    "14-june-1951",
    "1951-14-06",  # day and month swapped
    "06/14/1951",
    "1957-02-30",  # no calendar has it
    "1900-01-01",  # a placeholder for "not known"
    "0001-01-01",
    "31/12/2999",
    "1951-06-14T00:00:00",
    "not known",
    " 4/3/1950 ",
]


def test_the_page_reads_dates_of_birth_as_the_resolver_does(server, browser):
    from mast_core.normalise.dates import parse_birth_date

    url, _context = server
    page = browser.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    read = page.evaluate(
        """async (dates) => {
            const { parseBirthDate, birthDateText } = await import("/static/format.js");
            return dates.map((d) => [parseBirthDate(d), birthDateText(d)]);
        }""",
        WRITTEN_DATES,
    )
    for written, (parsed, shown) in zip(WRITTEN_DATES, read, strict=True):
        expected = parse_birth_date(written)
        if expected is None:
            assert parsed is None, written
            assert shown == written.strip(), written
        else:
            assert parsed == {
                "year": expected.year,
                "month": expected.month,
                "day": expected.day,
                "valid": expected.valid,
            }, written
            if expected.valid:
                month = MONTHS[expected.month - 1]
                assert shown == f"{expected.day} {month} {expected.year}", written
