"""A wrong merge corrected from end to end (corrections issue, the end-to-end item): ``mast up``
runs as a real process on the shared broker (localhost:9092) with a state folder, topics,
consumer groups and ports of its own, and its embedded chDB; the browser is Debian's
chromium driven by Playwright, as in the other ``test_web_*`` tests.

The story: a health record (NHS number, no birth date) and a police and a fire record of the
same name at another address are two people; a police record carrying both the NHS number
and the police reference bridges them, and the merged person now has three agencies' events
in 30 days, so ``multi_agency_contact`` raises an alert that depends on the link. A
practitioner opens the merged person and disputes the two records that came with the merge;
a steward splits them off; ``mast up`` is SIGKILLed the moment the API answers the decision
(Kafka has the correction; whether validation, the resolver and the sink got to it is left
to chance, and usually they have not) and started again, with no checkpoint to resume from,
so the whole accepted log (events and the correction, which validation may append a second
time) is replayed. (The bridging record itself cannot be disputed into a split: it was
linked directly, not brought by a merge, docs/pipeline.md "Corrections".) Within seconds of
the restart the two people's pages are apart again, the practitioner's Notifications page
says the person they viewed was corrected and links to both, and the alert is withdrawn.
Finally the stack is stopped and what ClickHouse holds is compared with the same accepted
log put through a fresh resolver in this process: the run without a kill.

The shared broker is used, not started: ``mast up`` starts a broker unless the one of its
state folder runs, so the test's state folder's ``kafka`` entry is a link to the shared
broker's folder; ``mast up`` then finds it running, and never stops it (it stops only a
broker it started). No checks with axe-core here: the Disputes and Notifications pages are
checked in ``test_web_disputes`` and ``test_web_notifications``."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from benchmarks.chaos_benchmark import Stack, add_user, run_sql, stack_env
from mast_core.avro import ACCEPTED_BATCH, CORRECTION, IDENTITY_MERGE, codec
from mast_core.events import InteractionEvent, decode_accepted
from mast_core.settings import Settings
from messaging.broker import LocalKafka
from producers.publisher import InteractionPublisher
from stream_processors.corrections import CorrectionNotApplied, apply_correction, is_correction
from stream_processors.pipeline import received_time
from stream_processors.resolution import ResolutionStage
from tests.factories import person_event
from tests.integration import test_web_app as web
from tests.integration.signing_in import PASSWORD, sign_in
from tests.integration.topic_reader import read_topic
from tests.worker_process import free_port

pytestmark = pytest.mark.integration

browser = web.browser  # the module-scoped headless chromium of the web app's tests

READY_S = 180.0
"""A first start applies every migration to a fresh chDB: tens of seconds on a busy machine."""
APART_S = 30.0
"""From the restart being ready to the two pages apart: the killed members' Kafka sessions
expire (6 s here), the log is replayed and the sink writes: seconds."""
PURPOSE = "welfare_check"


def _events(run: str) -> dict[str, InteractionEvent]:
    """``a``: health knows her NHS number, not her birth date; ``b`` and ``d``: police and
    fire know her birth date at another address (one person, apart from ``a``); ``c``: a
    police record with the NHS number and ``b``'s reference, which fits both strongly."""
    elsewhere = {"line1": "9 Elm Way", "postcode": "DY9 9ZZ", "town": "Dudley"}
    return {
        "a": person_event(agency="HEALTH", nhs="9434765919", dob=None, event_id=f"{run}-a"),
        "b": person_event(agency="POLICE", record="P-7", event_id=f"{run}-b", **elsewhere),
        "d": person_event(agency="FIRE", record="F-3", event_id=f"{run}-d", **elsewhere),
        "c": person_event(agency="POLICE", record="P-7", nhs="9434765919", event_id=f"{run}-c"),
    }


@pytest.fixture
def stack(tmp_path: Path, kafka: Settings) -> Iterator[Stack]:
    """``mast up`` of this test's own on the shared broker: its state, topics, consumer
    groups and ports; a long checkpoint interval, so a kill leaves no checkpoint and the
    restart replays the whole accepted log; short Kafka sessions, so a restart after a kill
    resumes within seconds. Stopped (SIGTERM, then SIGKILL) at the end whatever happened."""
    run = uuid.uuid4().hex[:8]
    shared = Settings()  # the shared broker's state folder, as the session fixture finds it
    assert LocalKafka(shared).status().running, "the shared broker on localhost:9092 is down"
    settings = Settings(
        state_dir=tmp_path / "state",
        topic_prefix=f"journey-{run}.",
        app_id=f"mast-journey-{run}",
        clickhouse_database="mast_journey",
        checkpoint_interval_s=3600.0,
        kafka_session_timeout_s=6.0,
        api_port=free_port(),
        worker_port=free_port(),
        log_level="INFO",
    )
    settings.state_dir.mkdir(parents=True)
    settings.kafka_dir.symlink_to(shared.kafka_dir.resolve(), target_is_directory=True)
    process = Stack(settings, stack_env(settings), tmp_path / "up.log")
    yield process
    if process.alive():
        if _started_a_broker(process):
            process.kill()  # SIGTERM would stop the broker it started: the shared one
        else:
            process.stop(timeout=60)


def _started_a_broker(stack: Stack) -> bool:
    """Whether ``mast up`` started the broker (the shared one was down when it started)."""
    return "Starting Kafka" in stack.log_path.read_text(errors="replace")


def _ready(stack: Stack, what: str) -> None:
    """Start ``mast up`` and wait until it says it is ready; it must have found the shared
    broker running, not started one."""
    stack.start()
    assert stack.wait_ready(READY_S) is not None, f"mast up not ready ({what}):\n{stack.tail(40)}"
    log = stack.log_path.read_text(errors="replace")
    assert log.count("Kafka is already running") == stack.starts, log
    assert not _started_a_broker(stack), log


def _until(check: Callable[[], Any], seconds: float, what: str, stack: Stack) -> Any:
    """Poll ``check`` until it returns something true; its last answer."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert stack.alive(), f"mast up exited while waiting for {what}:\n{stack.tail(40)}"
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s\n{stack.tail(20)}"
        time.sleep(0.3)
    return found


def _counted(stack: Stack, name: str, at_least: int) -> bool:
    """Whether the running stack's status counts ``at_least`` of ``name``."""
    return int(((stack.status() or {}).get("counts") or {}).get(name, 0)) >= at_least


def _records(client: httpx.Client, headers: dict[str, str], person: str) -> tuple[str, set[str]]:
    """The person page of ``person`` as the API serves it: its current id and event ids."""
    answer = client.get(f"/api/v1/persons/{person}", params={"purpose": PURPOSE}, headers=headers)
    if answer.status_code == 404:  # not stored yet
        return "", set()
    assert answer.status_code == 200, answer.text
    page = answer.json()
    return page["person_id"], {i["event_id"] for i in page["interactions"]}


def _alert_ids(client: httpx.Client, headers: dict[str, str], status: str) -> set[str]:
    answer = client.get("/api/v1/alerts", params={"status": status}, headers=headers)
    assert answer.status_code == 200, answer.text
    return {a["alert_id"] for a in answer.json()}


def _shows_records(page: Page, event_ids: set[str], seconds: float = 15.0) -> None:
    """Wait until the person page on screen lists exactly these records (the boxes of its
    "Not this person" form, one per record)."""
    boxes = page.locator("form.dispute-form input[name=event_ids]")
    deadline = time.monotonic() + seconds
    while (shown := set(boxes.evaluate_all("boxes => boxes.map(b => b.value)"))) != event_ids:
        assert time.monotonic() < deadline, f"the page shows {sorted(shown)}"
        page.wait_for_timeout(100)


def _clean_run(settings: Settings) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The accepted log as it now stands (events and the steward's correction, in the log's
    order and with its received times) through a fresh resolver in this process: each
    event's person at the end, and each alert raised with its evidence."""
    stage = ResolutionStage.fresh()
    held: dict[str, str] = {}
    alerts: dict[str, list[str]] = {}
    messages = read_topic(settings, settings.accepted_interactions_topic)
    for message in sorted(messages, key=lambda m: m.offset()):
        received = received_time(message.timestamp()[1] / 1000)
        if is_correction(message.headers()):
            correction = codec(CORRECTION).decode(message.value())
            with contextlib.suppress(CorrectionNotApplied):  # the pipeline: dead letters
                applied = apply_correction(stage, correction, received)
                # alerts a person's own records still meet after a split, where raised anew
                for a in getattr(applied, "alerts", []):
                    alerts[a["alert_id"]] = list(a["evidence_event_ids"])
            continue
        for item in codec(ACCEPTED_BATCH).decode(message.value())["events"]:
            event = decode_accepted(item)
            output = stage.process(event, received)
            if output is None:
                continue  # appended twice (validation replayed after the kill): seen
            held[event.event_id] = output.resolved["person_id"]
            alerts.update({a["alert_id"]: list(a["evidence_event_ids"]) for a in output.alerts})
    people = {event: stage.resolver.person_of(person) for event, person in held.items()}
    return people, alerts


@pytest.mark.timeout(420)
def test_a_wrong_merge_is_disputed_split_and_replayed_after_a_kill(
    stack: Stack, browser: Browser
) -> None:
    settings, url = stack.settings, stack.url
    env = stack.env
    practitioner, steward, watcher = (f"{p}-{uuid.uuid4().hex[:8]}" for p in ("pc", "st", "w"))
    add_user(env, practitioner, "practitioner", "POLICE", PASSWORD)
    add_user(env, steward, "steward", "OTHER", PASSWORD)
    add_user(env, watcher, "practitioner", "FIRE", PASSWORD)  # the API polls: its own audit
    run = uuid.uuid4().hex[:8]
    events = _events(run)
    ids = {name: event.event_id for name, event in events.items()}

    _ready(stack, "first start")
    publisher = InteractionPublisher(settings)
    for n, event in enumerate(events.values(), start=1):  # in order: the bridge comes last
        assert publisher.publish([event]).failed == []
        _until(partial(_counted, stack, "resolved", n), 60, f"event {n} resolved", stack)
    (merge,) = [
        codec(IDENTITY_MERGE).decode(m.value())
        for m in read_topic(settings, settings.identity_merges_topic)
    ]
    merged, retired = merge["surviving_person_id"], merge["retired_person_id"]
    client = httpx.Client(base_url=url, timeout=30)
    watching = sign_in(client, watcher)
    _until(
        lambda: _records(client, watching, merged) == (merged, set(ids.values())),
        60,
        "the merged person stored",
        stack,
    )
    (alert,) = _until(lambda: _alert_ids(client, watching, "open"), 60, "the alert", stack)
    came_with_merge = ("b", "d")  # the retired person's: the bridge joined a's person

    # the practitioner opens the merged person and disputes the records that came with the merge
    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    page.evaluate(
        "sessionStorage.setItem('mast.purpose', "
        f"JSON.stringify({{purpose: '{PURPOSE}', purpose_detail: 'ref 13'}}))"
    )
    page.goto(f"{url}/#/person/{merged}")
    expect(page.get_by_role("heading", name="Not this person", level=2)).to_be_visible()
    form = page.get_by_role("form", name="Not this person")
    page.get_by_text("Mark records that belong to someone else").click()
    expect(form.get_by_role("checkbox")).to_have_count(4)  # all four records on one page
    for name in came_with_merge:
        form.get_by_label(re.compile(rf"\(event {re.escape(ids[name])}\)$")).check()
    page.get_by_label("Reason").fill("Fire and police know a woman born in 1957 at Dudley")
    page.get_by_role("button", name="Dispute these records").click()
    raised = page.locator("p.raised")
    expect(raised).to_contain_text("raised for 2 records: a steward will decide")
    found = re.search(r"Dispute (D[0-9a-f]{32}) raised", raised.inner_text())
    assert found, raised.inner_text()
    dispute_id = found.group(1)
    page.close()

    # the steward splits them off; mast up is killed the moment the decision is published
    page = browser.new_page()
    web._sign_in(page, url, steward)
    card = page.locator(f"article[data-dispute='{dispute_id}']")
    expect(card.get_by_role("heading", level=2)).to_have_text(f"Open: dispute {dispute_id}")
    expect(card.get_by_role("table", name="Disputed records")).to_contain_text(
        f"Came with merge {merge['merge_id']}"
    )
    card.get_by_role("radio", name="Split: these records are not this person").check()
    card.get_by_label("Note").fill("Two women: the birth dates differ at the source")
    with page.expect_response(f"**/api/v1/disputes/{dispute_id}/decision") as answered:
        card.get_by_role("button", name="Record decision").click()
    stack.kill()  # the moment the API has answered: Kafka has the correction, maybe no more
    decided = time.monotonic()
    assert answered.value.status == 200, answered.value.text()
    before_kill = stack.log_path.read_text(errors="replace")
    print(f"split applied before the kill: {'merge(s) undone' in before_kill}")
    expect(card.locator("p.decision")).to_contain_text(f"Split by {steward}")
    expect(card.locator("p.decision")).to_contain_text("sent to the resolver")
    page.close()

    _ready(stack, "restart after SIGKILL")
    ready = time.monotonic()
    _until(
        lambda: (
            _records(client, watching, merged) == (merged, {ids["a"], ids["c"]})
            and _records(client, watching, retired) == (retired, {ids["b"], ids["d"]})
        ),
        APART_S,
        "the two people apart",
        stack,
    )
    apart = time.monotonic()
    print(
        f"apart {apart - ready:.1f} s after the restart was ready, "
        f"{apart - decided:.1f} s after the decision (restart included)"
    )
    _until(lambda: alert in _alert_ids(client, watching, "withdrawn"), 30, "withdrawn", stack)
    assert alert not in _alert_ids(client, watching, "open")

    # the practitioner is told, and sees the two people apart and the alert withdrawn
    page = browser.new_page()
    web._sign_in(page, url, practitioner)
    nav = page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name="Notifications (1 new)")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    notice = page.locator("article.notification")
    expect(notice).to_have_count(1)
    expect(notice.get_by_role("heading", level=2)).to_have_text(
        "New: A person you viewed has been corrected"
    )
    expect(
        notice.get_by_role("link", name=f"The person the records stayed with ({merged})")
    ).to_have_attribute("href", f"#/person/{merged}")
    split_off = notice.get_by_role(
        "link", name=f"The person whose records were split off ({retired})"
    )
    expect(split_off).to_have_attribute("href", f"#/person/{retired}")
    page.evaluate(
        "sessionStorage.setItem('mast.purpose', "
        f"JSON.stringify({{purpose: '{PURPOSE}', purpose_detail: 'ref 13'}}))"
    )
    split_off.click()
    _shows_records(page, {ids["b"], ids["d"]})
    page.goto(f"{url}/#/person/{merged}")
    _shows_records(page, {ids["a"], ids["c"]})
    page.goto(f"{url}/#/alerts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(page.locator("main table tbody tr")).to_contain_text(
        "Withdrawn: a data steward undid the link between two people it relied on"
    )
    page.close()
    client.close()

    # what is stored, once stopped, equals the same accepted log put through a fresh resolver
    assert stack.stop(timeout=90) == 0, stack.tail(40)
    people, raised_alerts = _clean_run(settings)
    assert people[ids["a"]] == people[ids["c"]] == merged
    assert people[ids["b"]] == people[ids["d"]] == retired
    assert set(raised_alerts) == {alert}
    stored = run_sql(
        settings,
        {
            "people": "SELECT event_id, groupUniqArray(person_id) FROM identity_map "
            "GROUP BY event_id",
            "alerts": "SELECT alert_id FROM alerts FINAL",
            "withdrawn": "SELECT alert_id, count() FROM alert_actions "
            "WHERE action = 'withdrawn' GROUP BY alert_id",
            "merges": "SELECT merge_id FROM identity_merges FINAL",
            "splits": "SELECT merge_id, surviving_person_id, restored_person_id "
            "FROM identity_splits FINAL",
        },
    )
    assert {event: persons for event, persons in stored["people"]} == {
        event: [person] for event, person in people.items()
    }
    assert sorted(a for (a,) in stored["alerts"]) == sorted(raised_alerts)
    withdrawn_in_clean_run = {
        a for a, evidence in raised_alerts.items() if len({people[e] for e in evidence}) > 1
    }
    assert {a: n for a, n in stored["withdrawn"]} == dict.fromkeys(withdrawn_in_clean_run, 1)
    assert stored["merges"] == [[merge["merge_id"]]]
    assert stored["splits"] == [[merge["merge_id"], merged, retired]]
