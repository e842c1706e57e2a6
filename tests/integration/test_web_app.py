"""The web app in real headless Chromium (Debian's package, driven by Playwright) against the
real API on the embedded ClickHouse: a practitioner signs in with the notice, declares a
purpose, searches, opens a person and sees the timeline and whom to call; a manager of the
same organisation sees that look-up in the audit; a practitioner cannot reach the audit."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mast_core.events import parse_event
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from stream_processors.resolution import ResolutionStage, resolved_record
from tests.factories import letters
from tests.integration.signing_in import PASSWORD, add_user

pytestmark = pytest.mark.integration


def _event(event_id: str, agency: str, at: str, family: str, team: str, **extra: str):
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "source_system": agency.title(),
            "source_record_id": extra.get("record"),
            "event_type": extra.get("event_type", "INCIDENT"),
            "case_status": extra.get("case_status"),
            "occurred_at": at,
            "subject": {
                "given_name": extra.get("given", "Edna"),
                "family_name": family,
                "date_of_birth": extra.get("dob", "1950-03-04"),
                "gender": "F",
                "address": {"line1": "9 Rowan Way", "town": "Dudley", "postcode": "DY1 4QT"},
            },
            "contact": {"name": f"{team} duty", "team": team, "phone": "01384 222333"},
        }
    )


@pytest.fixture(scope="module")
def family(clickhouse) -> str:
    run = uuid.uuid4().hex[:6]
    family = "Wren" + letters(run)
    events = [
        _event(
            f"{run}-asc",
            "ADULT_SOCIAL_CARE",
            "2026-01-12T10:00:00Z",
            family,
            "Adults East",
            record="ASC-9",
            event_type="CASE_OPENED",
            case_status="OPEN",
        ),
        _event(f"{run}-fire", "FIRE", "2026-04-03T21:00:00Z", family, "Fire Safety"),
        _event(f"{run}-police", "POLICE", "2026-04-10T02:00:00Z", family, "Response"),
        _event(f"{run}-health", "HEALTH", "2026-04-22T14:00:00Z", family, "ED Liaison"),
    ]
    stage = ResolutionStage.fresh()
    outputs = [stage.process(event) for event in events]
    SinkWriter(clickhouse).write_resolved([resolved_record(o) for o in outputs if o])
    return family


@pytest.fixture(scope="module")
def server(settings, clickhouse) -> Iterator[tuple[str, ApiContext]]:
    context = ApiContext.create(settings, clickhouse)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(lambda: {"ready": True}, context),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", context
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed (scripts/setup.sh dev installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def users(server) -> dict[str, str]:
    _url, context = server
    return {
        "practitioner": add_user(context, "practitioner", "ADULT_SOCIAL_CARE", prefix="prac"),
        "manager": add_user(context, "manager", "ADULT_SOCIAL_CARE", prefix="mgr"),
        "other_manager": add_user(context, "manager", "POLICE", prefix="other"),
    }


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("fully audited")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("I have read the notice and accept it").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_a_look_up_from_sign_in_to_the_managers_audit(server, browser, users, family):
    url, _context = server
    practitioner = browser.new_page()

    # the notice must be accepted: without the tick the browser does not even send the form
    practitioner.goto(url)
    practitioner.get_by_label("Username").fill(users["practitioner"])
    practitioner.get_by_label("Password").fill(PASSWORD)
    practitioner.get_by_role("button", name="Sign in").click()
    expect(practitioner.get_by_role("navigation", name="Main")).to_be_hidden()

    _sign_in(practitioner, url, users["practitioner"])
    expect(practitioner.get_by_role("link", name="Audit")).to_be_hidden()
    expect(practitioner.get_by_role("heading", name="Search people")).to_be_visible()

    # searching without a purpose is stopped by the form; with one it runs
    practitioner.get_by_label("Family name").fill(family.upper())
    practitioner.get_by_label("Given name").fill("edna")
    practitioner.get_by_label("Date of birth").fill("4/3/1950")
    practitioner.get_by_role("button", name="Search").click()
    expect(practitioner.locator("#results table")).to_have_count(0)
    practitioner.get_by_label("Purpose", exact=True).select_option(label="Self-neglect review")
    practitioner.get_by_label("Detail (optional)").fill("referral 4471")
    practitioner.get_by_role("button", name="Search").click()
    result = practitioner.get_by_role("link", name=f"Edna {family}")
    expect(result).to_be_visible()
    row = practitioner.locator("#results tbody tr").first
    expect(row).to_contain_text("Adult social care")
    expect(row).to_contain_text("Fire")

    result.click()
    expect(practitioner.get_by_role("heading", level=1)).to_have_text(f"Edna {family}")
    expect(practitioner.get_by_text("Opened for: Self-neglect review")).to_be_visible()
    open_case = practitioner.locator("#s-open-cases").locator("xpath=..")
    expect(open_case).to_contain_text("open since 12 Jan 2026")
    chart = practitioner.get_by_role("img", name="Interactions per month by agency")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(4)
    april = chart.locator("rect[data-month='2026-04']")
    expect(april).to_have_count(3)
    tip = practitioner.get_by_role("tooltip").filter(has_text="Fire Safety")
    expect(tip).to_be_hidden()
    practitioner.get_by_role("button", name="Fire", exact=True).hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("01384 222333")

    # the address: search it as typed, open it, see who is linked to it
    practitioner.get_by_role("link", name="Search addresses").click()
    expect(practitioner.get_by_label("Purpose", exact=True)).to_have_value("self_neglect_review")
    practitioner.get_by_label("Address or postcode").fill("9 rowan way, dudley dy14qt")
    practitioner.get_by_role("button", name="Search").click()
    practitioner.get_by_role("link", name="9 Rowan Way, Dudley, DY1 4QT").click()
    expect(practitioner.get_by_role("heading", level=1)).to_have_text(
        "9 Rowan Way, Dudley, DY1 4QT"
    )
    residents = practitioner.locator("#s-people-linked-to-this-address").locator("xpath=..")
    expect(residents.get_by_role("link", name=f"Edna {family}")).to_be_visible()

    # a practitioner who types the audit's address is told no
    practitioner.goto(f"{url}/#/audit")
    expect(practitioner.get_by_role("alert")).to_contain_text("Only managers")

    manager = browser.new_page()
    _sign_in(manager, url, users["manager"])
    manager.get_by_role("link", name="Audit").click()
    manager.get_by_label("User").fill(users["practitioner"])
    manager.get_by_role("button", name="Show").click()
    views = manager.locator("table.audit tbody tr").filter(has_text="View person")
    expect(views).to_have_count(1)
    expect(manager.locator("table.audit tbody tr").filter(has_text="View address")).to_have_count(1)
    expect(views).to_contain_text("Self-neglect review (referral 4471)")
    searches = manager.locator("table.audit tbody tr").filter(has_text="Search persons")
    expect(searches.first).to_contain_text(family.upper())

    # a manager of another organisation sees none of it
    other = browser.new_page()
    _sign_in(other, url, users["other_manager"])
    other.get_by_role("link", name="Audit").click()
    other.get_by_label("User").fill(users["practitioner"])
    other.get_by_role("button", name="Show").click()
    expect(other.get_by_text("No entries match.")).to_be_visible()


def test_names_from_partners_are_shown_as_text_never_run(server, browser, users, clickhouse):
    url, _context = server
    run = uuid.uuid4().hex[:6]
    hostile = "<img src=x onerror=window.__pwned=1>"
    family = "Tern" + letters(run)
    event = _event(f"{run}-x", "POLICE", "2026-05-01T10:00:00Z", family, "Response", given=hostile)
    output = ResolutionStage.fresh().process(event)
    assert output is not None
    SinkWriter(clickhouse).write_resolved([resolved_record(output)])
    page = browser.new_page()
    _sign_in(page, url, users["practitioner"])
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")
    page.get_by_label("Family name").fill(family)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("give a date of birth or a postcode")
    page.get_by_label("Postcode").fill("dy1 4qt")
    page.get_by_role("button", name="Search").click()
    link = page.get_by_role("link", name=f"{hostile} {family}")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{hostile} {family}")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img").count() == 0


def _accessibility_problems(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A and AA checks on what the page shows now."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    results = Axe().run(page, options=options)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def test_every_screen_passes_automated_accessibility_checks(server, browser, users, family):
    url, _context = server
    page = browser.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    problems = {"sign-in": _accessibility_problems(page)}
    _sign_in(page, url, users["manager"])
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Date of birth").fill("1950-03-04")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results table")).to_be_visible()
    problems["search results"] = _accessibility_problems(page)
    page.get_by_role("link", name=f"Edna {family}").click()
    expect(page.get_by_role("img", name="Interactions per month by agency")).to_be_visible()
    problems["person"] = _accessibility_problems(page)
    page.get_by_role("link", name="9 Rowan Way, Dudley, DY1 4QT").click()
    expect(page.get_by_role("heading", name="People linked to this address")).to_be_visible()
    problems["address"] = _accessibility_problems(page)
    for name, heading in (
        ("Alerts", "Alerts"),
        ("Statistics", "Match statistics"),
        ("Audit", "Audit: Adult social care"),
    ):
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.wait_for_load_state("networkidle")
        problems[name] = _accessibility_problems(page)
    assert {screen: found for screen, found in problems.items() if found} == {}
