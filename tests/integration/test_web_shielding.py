"""Shielding and break-glass in the web app (Debian's chromium against the real API, the
server and browser of ``test_web_app``), with the world of ``shielded_story``: a police
practitioner searching Sarah sees only that she is shielded and whom to call; opening her
page shows the refusal and a break-glass form, and breaking the glass with a reason opens
her page under a banner, with the refuge's postcode (the refuge itself still needs a
break-glass of its own); alerts about her and the refuge do not name them, and her son's
page says an address is not shown. A health manager is told, sees the break-glass in the
review queue and records an outcome, after which it leaves the open queue; the data
protection officer sees it reviewed, and breaks the glass into her subject access report,
which shows its banner. A steward places and lifts a shield on the Shields page. The new
screens pass axe-core's WCAG 2.1 A and AA checks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.integration import test_web_app as web
from tests.integration.shielded_story import REFUGE_PHONE, REFUGE_TEAM, ShieldedStory, write_story
from tests.integration.signing_in import add_user

pytestmark = pytest.mark.integration

server = web.server  # module-scoped fixtures of the web app's tests: the API, the browser
browser = web.browser

REASON = "Child missing overnight; police need to reach the mother at once"
HELD_BY_HEALTH = f"A record is held by HEALTH — contact {REFUGE_TEAM}, {REFUGE_PHONE}"


@pytest.fixture(scope="module")
def story(clickhouse) -> ShieldedStory:
    return write_story(clickhouse)


def _heading(page: Page):
    return page.get_by_role("heading", level=1)


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def _shows_nothing_hidden(page: Page, story: ShieldedStory) -> None:
    for hidden in story.hidden_text():
        expect(page.locator("main")).not_to_contain_text(hidden)


def test_break_glass_from_search_to_review(server, browser, story):
    url, context = server
    problems: dict[str, list[str]] = {}
    practitioner = add_user(context, "practitioner", "POLICE", prefix="glass")

    # the search shows Sarah only as shielded, with whom to call
    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Break-glass reviews")).to_be_hidden()
    expect(nav.get_by_role("link", name="Shields")).to_be_hidden()
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")
    page.get_by_label("Given name").fill("Sarah")
    page.get_by_label("Family name").fill(story.family)
    page.get_by_role("button", name="Search").click()
    row = page.locator("#results tbody tr").filter(has_text=story.sarah)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Shielded")
    expect(row).to_contain_text(HELD_BY_HEALTH)
    expect(row).not_to_contain_text("Sarah")
    _shows_nothing_hidden(page, story)

    # her page is refused, saying whom to call, with a form to break the glass
    row.get_by_role("link", name="Open in an emergency (break glass)").click()
    expect(_heading(page)).to_have_text("Shielded person")
    notice = page.locator(".notice.shielded")
    expect(notice).to_contain_text("This person is shielded.")
    expect(notice).to_contain_text(HELD_BY_HEALTH)
    expect(page.locator("main")).not_to_contain_text("POST /api")
    form = page.get_by_role("form", name="Open it in an emergency")
    expect(form).to_contain_text("Purpose: Welfare check.")
    _shows_nothing_hidden(page, story)
    page.wait_for_load_state("networkidle")
    problems["shielded notice"] = web._accessibility_problems(page)

    reason = page.get_by_label("Why you must see it now")
    reason.fill("   short    ")  # long enough for the browser, not once trimmed
    page.get_by_role("button", name="Break glass and open").click()
    expect(form.get_by_role("alert")).to_contain_text("at least 10 characters")
    expect(_heading(page)).to_have_text("Shielded person")

    reason.fill(REASON)
    page.get_by_role("button", name="Break glass and open").click()
    expect(_heading(page)).to_have_text(f"Sarah {story.family}")
    banner = page.get_by_role("note", name="Opened by break-glass")
    expect(banner).to_contain_text("audited")
    expect(banner).to_contain_text("Access ends:")
    expect(banner).to_contain_text(REASON)
    addresses = page.locator("#s-addresses").locator("xpath=..")
    expect(addresses).to_contain_text(story.refuge.postcode)
    page.wait_for_load_state("networkidle")
    problems["break-glass banner"] = web._accessibility_problems(page)

    # the grant is for her only: the refuge, her address, is answered on its own as an
    # address MAST does not hold (its id can be worked out from the address), with the form
    addresses.get_by_role("link", name=re.compile(story.refuge.postcode)).click()
    expect(_heading(page)).to_have_text("No such address")
    expect(page.locator("main")).not_to_contain_text(REFUGE_PHONE)
    expect(page.get_by_role("form", name="Open it in an emergency")).to_be_visible()

    # nor does it open her son's page in full: it leaves out the address they share
    page.goto(f"{url}/#/person/{story.tom}")
    expect(_heading(page)).to_have_text(f"Tomasz {story.family}")
    expect(page.locator("#s-addresses").locator("xpath=..")).to_contain_text(
        "1 address not shown: shielded."
    )
    expect(page.locator("main")).not_to_contain_text(story.refuge.postcode)

    # alerts about her and the refuge do not name them
    for rule, words in (
        ("sarah_rule", f"Shielded person (MAST id {story.sarah})"),
        ("refuge_rule", f"Shielded address (MAST id {story.refuge.address_id})"),
    ):
        _nav(page, "Alerts")
        expect(_heading(page)).to_have_text("Alerts")
        page.get_by_label("Rule").fill(rule)
        page.get_by_role("button", name="Filter").click()
        alert = page.locator("tbody tr").filter(has_text=words)
        expect(alert).to_have_count(1)
        expect(alert.get_by_role("link", name=words)).to_be_visible()
    _shows_nothing_hidden(page, story)
    page.close()

    # a manager of the organisation holding her record is told, and reviews it
    manager = add_user(context, "manager", "HEALTH", prefix="hmgr")
    page = browser.new_page()
    web._sign_in(page, url, manager)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Break-glass reviews")).to_be_visible()
    expect(nav.get_by_role("link", name=re.compile(r"Notifications \(\d+ new\)"))).to_be_visible()
    _nav(page, "Notifications")
    told = (
        page.locator("article.notification")
        .filter(has_text=practitioner)
        .filter(has_text="broke the glass")
    )
    expect(told).to_have_count(1)
    expect(told.get_by_role("heading", level=2)).to_contain_text(
        "A shielded record was opened by break-glass"
    )
    told.get_by_role("link", name=re.compile("The break-glass review")).click()
    expect(_heading(page)).to_have_text("Break-glass review")
    card = page.locator("article.grant")
    expect(card).to_have_count(1)
    for text in (practitioner, "Police", "Practitioner", story.sarah, REASON, "Welfare check"):
        expect(card).to_contain_text(text)

    _nav(page, "Break-glass reviews")
    expect(_heading(page)).to_have_text("Break-glass reviews")
    card = page.locator("article.grant").filter(has_text=practitioner)
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading", level=2)).to_have_text(
        f"{practitioner} opened a shielded person"
    )
    page.wait_for_load_state("networkidle")
    problems["review queue"] = web._accessibility_problems(page)
    card.get_by_label("Justified", exact=True).check()
    card.get_by_label("Note").fill("Confirmed with the duty inspector")
    card.get_by_role("button", name="Record outcome").click()
    expect(card.locator(".decision")).to_contain_text("Justified")
    expect(card.locator(".decision")).to_contain_text(manager)
    page.get_by_role("button", name="Show").click()  # "Not reviewed yet" again
    expect(
        page.get_by_role("heading", name=f"{practitioner} opened a shielded person")
    ).to_have_count(0)
    page.close()

    # the data protection officer sees it reviewed, and may break glass into her report
    officer = add_user(context, "dpo", "OTHER", prefix="dpo")
    page = browser.new_page()
    web._sign_in(page, url, officer)
    _nav(page, "Break-glass reviews")
    expect(_heading(page)).to_have_text("Break-glass reviews")
    # the officer reviews independently: still open for them, with the manager's outcome
    card = page.locator("article.grant").filter(has_text=practitioner)
    expect(card.locator(".decision")).to_contain_text("Confirmed with the duty inspector")
    expect(card.get_by_role("button", name="Record outcome")).to_have_count(1)

    _nav(page, "Subject access")
    page.get_by_label("Given name").fill("Sarah")
    page.get_by_label("Family name").fill(story.family)
    page.get_by_role("button", name="Find").click()
    found = page.locator("tbody tr").filter(has_text=story.sarah)
    expect(found).to_contain_text("Shielded")
    found.get_by_role("link", name=f"Report on {story.sarah}").click()
    expect(page.locator(".notice.shielded")).to_contain_text(HELD_BY_HEALTH)
    page.get_by_label("Purpose", exact=True).select_option(label="Welfare check")
    page.get_by_label("Why you must see it now").fill("Subject access request 2026/118 from her")
    page.get_by_role("button", name="Break glass and open").click()
    records = page.get_by_role(
        "table", name="Each partner's record, oldest first, and why MAST linked it"
    )
    expect(records).to_contain_text(story.refuge.postcode)
    expect(page.get_by_role("note", name="Opened by break-glass")).to_contain_text("Access ends:")
    page.close()
    assert {screen: found for screen, found in problems.items() if found} == {}


def test_a_steward_places_and_lifts_a_shield(server, browser, story):
    url, context = server
    steward = add_user(context, "steward", "OTHER", prefix="stew")
    page = browser.new_page()
    web._sign_in(page, url, steward)
    _nav(page, "Shields")
    expect(_heading(page)).to_have_text("Shields")
    reason = "Witness in a trial; police asked for it"

    page.get_by_label("Shield", exact=True).select_option(label="A person")
    page.get_by_label("MAST id", exact=True).fill(story.carl)
    page.get_by_label("Reason", exact=True).fill(reason)
    page.get_by_role("button", name="Place shield").click()
    expect(page.locator("main")).to_contain_text(f"Person {story.carl} shielded.")
    row = page.locator(f"tr[data-shield='{story.carl}']")
    expect(row).to_contain_text(reason)
    expect(row).to_contain_text(steward)
    page.wait_for_load_state("networkidle")
    assert web._accessibility_problems(page) == []

    page.get_by_label("MAST id", exact=True).fill(story.carl)
    page.get_by_label("Reason", exact=True).fill("The trial is over; lifted")
    page.get_by_role("button", name="Lift shield").click()
    expect(page.locator("main")).to_contain_text(f"Shield lifted from Person {story.carl}.")
    expect(row).to_have_count(0)

    # a partner's mark stays, and the page says so
    page.get_by_label("MAST id", exact=True).fill(story.sarah)
    page.get_by_label("Reason", exact=True).fill("Asked to lift it by phone")
    page.get_by_role("button", name="Lift shield").click()
    expect(page.locator("main")).to_contain_text("still shielded")
    page.close()

    # a manager places shields too; a practitioner has no such page
    for role, shown in (("manager", True), ("practitioner", False)):
        page = browser.new_page()
        web._sign_in(page, url, add_user(context, role, "FIRE"))
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Shields")
        if shown:
            link.click()
            expect(page.get_by_role("button", name="Place shield")).to_be_visible()
        else:
            expect(link).to_be_hidden()
        page.close()
