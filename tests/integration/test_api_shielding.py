"""Shielding and break-glass through the API on the real engine (chDB), with the world of
``shielded_story``: a shielded person is found only as held by an agency with whom to call,
their pages and shielded addresses are refused without break-glass (audited), no page of
anyone else shows a shielded address, alerts do not name it; break-glass is refused without
a reason, to a steward, and for what is not shielded, expires, shows a banner, is audited
and reaches the owning organisation's managers and the data protection officer, who review
it; stewards and managers shield and lift by hand, and a hand shield covers every id of
the person."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.tables import BREAK_GLASS, BreakGlassRow
from tests.integration.shielded_story import REFUGE_PHONE, REFUGE_TEAM, ShieldedStory, write_story
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

PURPOSE = {"purpose": "welfare_check"}
REASON = "Child missing overnight; police need to reach the mother at once"


@pytest.fixture(scope="module")
def world(settings, clickhouse) -> dict[str, Any]:
    story = write_story(clickhouse)
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    return {"story": story, "context": context, "client": client}


def _user(world, role: str, organisation: str) -> dict[str, str]:
    _, headers = signed_in(world["context"], world["client"], role, organisation)
    return headers


def _assert_hidden(story: ShieldedStory, text: str, *, co_residents: bool = True) -> None:
    """No shielded address in ``text``, nor (unless it is a co-resident's own page) the
    names of Sarah's co-resident."""
    for hidden in story.hidden_text() if co_residents else story.hidden_addresses():
        assert hidden not in text, hidden


def _audit(world, headers: dict[str, str], action: str) -> list[dict[str, Any]]:
    """The audit entries of one action the manager ``headers`` may read."""
    answer = world["client"].get("/api/v1/audit", params={"limit": 10_000}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    entries = body["entries"] if isinstance(body, dict) else body
    return [
        {**e, "asked": json.loads(e["asked"]) if isinstance(e["asked"], str) else e["asked"]}
        for e in entries
        if e["action"] == action
    ]


def test_a_shielded_person_is_found_only_as_held_by_whom_to_call(world) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "practitioner", "POLICE")
    answer = client.post(
        "/api/v1/search/persons",
        json={"given_name": "Sarah", "family_name": story.family, **PURPOSE},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    [sarah] = [r for r in answer.json() if r["person_id"] == story.sarah]
    assert sarah["shielded"] is True
    assert sarah["given_name"] is None and sarah["date_of_birth"] is None
    assert sarah["postcode"] is None and sarah["town"] is None
    health = next(h for h in sarah["held_by"] if h["agency"] == "HEALTH")
    assert (health["team"], health["phone"]) == (REFUGE_TEAM, REFUGE_PHONE)
    assert (
        health["sentence"] == f"A record is held by HEALTH — contact {REFUGE_TEAM}, {REFUGE_PHONE}"
    )
    _assert_hidden(story, answer.text)


def test_a_shielded_persons_pages_are_refused_saying_whom_to_call_and_audited(world) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "practitioner", "POLICE")
    for url in (
        f"/api/v1/persons/{story.sarah}/view",
        f"/api/v1/persons/{story.sarah_old}/view",  # a retired id opens the same person
        f"/api/v1/persons/{story.sarah}/history/view",
    ):
        answer = client.post(url, json=PURPOSE, headers=headers)
        assert answer.status_code == 403, (url, answer.text)
        assert "shielded" in answer.json()["detail"]
        assert "break-glass" in answer.json()["detail"]
        _assert_hidden(story, answer.text)
    # an address id is worked out from the address: a shielded one is answered word for
    # word as one MAST does not hold, or anyone could test whether an address is a refuge
    unknown = client.post("/api/v1/addresses/Anowhere/view", json=PURPOSE, headers=headers)
    for place in (story.refuge, story.home):
        answer = client.post(
            f"/api/v1/addresses/{place.address_id}/view", json=PURPOSE, headers=headers
        )
        assert (answer.status_code, answer.json()) == (unknown.status_code, unknown.json())
        assert answer.status_code == 404
    detail = client.post(f"/api/v1/persons/{story.sarah}/view", json=PURPOSE, headers=headers)
    assert REFUGE_PHONE in detail.json()["detail"]
    manager = _user(world, "manager", "POLICE")
    entries = [
        e
        for e in _audit(world, manager, "view_person")
        if story.sarah in e["person_ids"] and e["outcome"] == "refused"
    ]
    assert entries and "shielded" in json.dumps(entries[0]["asked"])


def test_no_one_elses_page_shows_a_shielded_address(world) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "practitioner", "POLICE")
    for person in (story.tom, story.ben):
        answer = client.post(f"/api/v1/persons/{person}/view", json=PURPOSE, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["addresses"] == [] and page["withheld_addresses"] == 1
        assert all(i["address_id"] is None for i in page["interactions"])
        _assert_hidden(story, answer.text, co_residents=False)
    carl = client.post(f"/api/v1/persons/{story.carl}/view", json=PURPOSE, headers=headers)
    assert carl.json()["addresses"][0]["postcode"] == story.elsewhere.postcode
    assert carl.json()["withheld_addresses"] == 0
    search = client.post(
        "/api/v1/search/persons",
        json={"given_name": "Tomasz", "family_name": story.family, **PURPOSE},
        headers=headers,
    )
    [tom] = [r for r in search.json() if r["person_id"] == story.tom]
    assert tom["given_name"] == "Tomasz" and tom["postcode"] is None and not tom["shielded"]


def test_address_search_never_finds_a_shielded_address(world) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "practitioner", "POLICE")
    for place in (story.refuge, story.home):
        answer = client.post(
            "/api/v1/search/addresses", json={"q": place.postcode, **PURPOSE}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        assert place.address_id not in answer.text
        _assert_hidden(story, answer.text)
    found = client.post(
        "/api/v1/search/addresses",
        json={"q": story.elsewhere.postcode, **PURPOSE},
        headers=headers,
    )
    assert [a["address_id"] for a in found.json()] == [story.elsewhere.address_id]


def test_alerts_do_not_name_a_shielded_person_or_address(world) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "admin", "OTHER")
    answer = client.get("/api/v1/alerts", params={"limit": 1000}, headers=headers)
    assert answer.status_code == 200, answer.text
    by_id = {a["alert_id"]: a for a in answer.json()}
    sarah, refuge, carl = (by_id[story.alerts[k]] for k in ("sarah", "refuge", "carl"))
    assert sarah["shielded"] and sarah["subject_person"] is None
    assert refuge["shielded"] and refuge["subject_address"] is None
    assert not carl["shielded"] and carl["subject_person"]["given_name"] == "Carl"
    _assert_hidden(story, answer.text)


def test_break_glass_is_refused_without_a_reason_to_a_steward_and_for_what_is_not_shielded(
    world,
) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "practitioner", "POLICE")
    for body in (
        {"person_id": story.sarah, **PURPOSE},
        {"person_id": story.sarah, "reason": "   ", **PURPOSE},
        {"person_id": story.sarah, "reason": "because", **PURPOSE},
        {
            "person_id": story.sarah,
            "address_id": story.refuge.address_id,
            "reason": REASON,
            **PURPOSE,
        },
        {"person_id": story.sarah, "reason": REASON},
    ):
        answer = client.post("/api/v1/break-glass", json=body, headers=headers)
        assert answer.status_code == 422, (body, answer.text)
    steward = _user(world, "steward", "OTHER")
    refused = client.post(
        "/api/v1/break-glass",
        json={"person_id": story.sarah, "reason": REASON, **PURPOSE},
        headers=steward,
    )
    assert refused.status_code == 403
    not_shielded = client.post(
        "/api/v1/break-glass",
        json={"person_id": story.carl, "reason": REASON, **PURPOSE},
        headers=headers,
    )
    assert not_shielded.status_code == 404
    still = client.post(f"/api/v1/persons/{story.sarah}/view", json=PURPOSE, headers=headers)
    assert still.status_code == 403


def test_break_glass_opens_the_pages_with_a_banner_audited_and_reviewed(world) -> None:
    story, client, context = world["story"], world["client"], world["context"]
    username, headers = signed_in(context, client, "practitioner", "POLICE")
    answer = client.post(
        "/api/v1/break-glass",
        json={"person_id": story.sarah_old, "reason": REASON, **PURPOSE},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    grant = answer.json()
    assert grant["subject_id"] == story.sarah and grant["reviewed_by"] == ["HEALTH"]
    expires = datetime.fromisoformat(grant["expires_at"])
    minutes = context.settings.break_glass_minutes
    assert (
        timedelta(minutes=minutes - 1) < expires - datetime.now(UTC) <= timedelta(minutes=minutes)
    )

    page = client.post(f"/api/v1/persons/{story.sarah}/view", json=PURPOSE, headers=headers)
    assert page.status_code == 200, page.text
    assert page.json()["break_glass"]["grant_id"] == grant["grant_id"]
    assert "audited" in page.json()["break_glass"]["message"]
    assert {a["postcode"] for a in page.json()["addresses"]} == {
        story.refuge.postcode,
        story.home.postcode,
    }
    history = client.post(
        f"/api/v1/persons/{story.sarah}/history/view", json=PURPOSE, headers=headers
    )
    assert history.status_code == 200
    # the grant is for that person only, and that user only
    assert (
        client.post(
            f"/api/v1/addresses/{story.refuge.address_id}/view", json=PURPOSE, headers=headers
        ).status_code
        == 404
    )
    other = _user(world, "practitioner", "POLICE")
    assert (
        client.post(f"/api/v1/persons/{story.sarah}/view", json=PURPOSE, headers=other).status_code
        == 403
    )

    manager = _user(world, "manager", "POLICE")
    [glass] = [e for e in _audit(world, manager, "break_glass") if e["username"] == username]
    assert glass["asked"]["reason"] == REASON and glass["person_ids"] == [story.sarah_old]
    views = [
        e
        for e in _audit(world, manager, "view_person")
        if e["username"] == username and e["outcome"] == "shown"
    ]
    assert views and views[0]["asked"]["break_glass"] == grant["grant_id"]

    health_manager = _user(world, "manager", "HEALTH")
    dpo = _user(world, "dpo", "OTHER")
    for reviewer in (health_manager, dpo):
        queue = client.get("/api/v1/break-glass/reviews", headers=reviewer)
        assert queue.status_code == 200, queue.text
        assert grant["grant_id"] in [g["grant_id"] for g in queue.json()]
        told = client.get("/api/v1/notifications", headers=reviewer).json()["notifications"]
        assert any(
            n["kind"] == "break_glass" and n["links"][0]["id"] == grant["grant_id"] for n in told
        )
    police_queue = client.get("/api/v1/break-glass/reviews", headers=manager)
    assert grant["grant_id"] not in police_queue.text  # police hold no shielded record of hers
    assert client.get("/api/v1/break-glass/reviews", headers=other).status_code == 403
    assert (
        client.post(
            f"/api/v1/break-glass/{grant['grant_id']}/review",
            json={"outcome": "justified", "note": "checked"},
            headers=manager,
        ).status_code
        == 404
    )

    reviewed = client.post(
        f"/api/v1/break-glass/{grant['grant_id']}/review",
        json={"outcome": "justified", "note": "Confirmed with the duty inspector"},
        headers=health_manager,
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["outcome"] == "justified"
    assert reviewed.json()["reviewer_role"] == "manager"
    mine = client.get("/api/v1/break-glass/reviews", headers=health_manager).json()
    assert grant["grant_id"] not in [g["grant_id"] for g in mine]  # reviewed by a manager
    # the officer reviews independently: still open for them, with the manager's outcome
    [still] = [
        g
        for g in client.get("/api/v1/break-glass/reviews", headers=dpo).json()
        if g["grant_id"] == grant["grant_id"]
    ]
    assert still["outcome"] is None and still["outcomes"][0]["reviewer_role"] == "manager"
    officer = client.post(
        f"/api/v1/break-glass/{grant['grant_id']}/review",
        json={"outcome": "referred", "note": "Second look at the reason given"},
        headers=dpo,
    )
    assert officer.status_code == 200, officer.text
    open_now = client.get("/api/v1/break-glass/reviews", headers=dpo).json()
    assert grant["grant_id"] not in [g["grant_id"] for g in open_now]
    done = client.get("/api/v1/break-glass/reviews", params={"status": "reviewed"}, headers=dpo)
    assert grant["grant_id"] in [g["grant_id"] for g in done.json()]


def test_no_one_reviews_their_own_break_glass(world) -> None:
    story, client = world["story"], world["client"]
    manager = _user(world, "manager", "HEALTH")
    granted = client.post(
        "/api/v1/break-glass",
        json={"person_id": story.sarah, "reason": REASON, **PURPOSE},
        headers=manager,
    )
    assert granted.status_code == 201, granted.text
    grant_id = granted.json()["grant_id"]
    queue = client.get("/api/v1/break-glass/reviews", params={"status": "all"}, headers=manager)
    assert grant_id not in [g["grant_id"] for g in queue.json()]
    own = client.post(
        f"/api/v1/break-glass/{grant_id}/review",
        json={"outcome": "justified", "note": "my own"},
        headers=manager,
    )
    assert own.status_code == 404
    another = _user(world, "manager", "HEALTH")
    assert grant_id in [
        g["grant_id"] for g in client.get("/api/v1/break-glass/reviews", headers=another).json()
    ]


def test_an_expired_break_glass_opens_nothing(world) -> None:
    story, client, context = world["story"], world["client"], world["context"]
    username, headers = signed_in(context, client, "practitioner", "POLICE")
    past = datetime.now(UTC) - timedelta(hours=1)
    row = BreakGlassRow(
        "G" + secrets.token_hex(16),
        username,
        "POLICE",
        "practitioner",
        "PERSON",
        story.sarah,
        ["HEALTH"],
        REASON,
        "welfare_check",
        past,
        past + timedelta(minutes=15),
    )
    context.client.insert(BREAK_GLASS, [row], column_names=BreakGlassRow._fields)
    answer = client.post(f"/api/v1/persons/{story.sarah}/view", json=PURPOSE, headers=headers)
    assert answer.status_code == 403


def test_stewards_and_managers_shield_and_lift_by_hand(world) -> None:
    story, client = world["story"], world["client"]
    practitioner = _user(world, "practitioner", "FIRE")
    steward = _user(world, "steward", "OTHER")
    body = {"person_id": story.carl, "reason": "Witness in a trial; police asked for it"}
    assert client.post("/api/v1/shields/place", json=body, headers=practitioner).status_code == 403
    shielded = client.post("/api/v1/shields/place", json=body, headers=steward)
    assert shielded.status_code == 200, shielded.text
    assert shielded.json()["ids"] == [story.carl]
    listed = client.get("/api/v1/shields", headers=steward).json()
    assert story.carl in [s["subject_id"] for s in listed]
    assert (
        client.post(
            f"/api/v1/persons/{story.carl}/view", json=PURPOSE, headers=practitioner
        ).status_code
        == 403
    )
    search = client.post(
        "/api/v1/search/addresses",
        json={"q": story.elsewhere.postcode, **PURPOSE},
        headers=practitioner,
    )
    assert search.json() == []  # his address went with him
    health = _user(world, "manager", "HEALTH")
    police = _user(world, "manager", "POLICE")
    managed = {"person_id": story.carl, "reason": "Health asked for this for a witness"}
    assert client.post("/api/v1/shields/place", json=managed, headers=health).status_code == 200
    # another organisation's manager may not lift it; the steward's lift below lifts both
    assert client.post("/api/v1/shields/lift", json=managed, headers=police).status_code == 403
    lifted = client.post("/api/v1/shields/lift", json=body, headers=steward)
    assert lifted.status_code == 200 and lifted.json()["still_shielded"] is False
    assert (
        client.post(
            f"/api/v1/persons/{story.carl}/view", json=PURPOSE, headers=practitioner
        ).status_code
        == 200
    )
    # a partner's mark is not lifted by hand
    sarah = client.post(
        "/api/v1/shields/lift",
        json={"person_id": story.sarah, "reason": "asked to lift it"},
        headers=steward,
    )
    assert sarah.json()["still_shielded"] is True


def test_a_hand_shield_covers_every_id_of_the_person(world) -> None:
    story, client = world["story"], world["client"]
    manager = _user(world, "manager", "POLICE")
    answer = client.post(
        "/api/v1/shields/place",
        json={"person_id": story.sarah_old, "reason": "Asked by the refuge manager"},
        headers=manager,
    )
    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["ids"]) == sorted([story.sarah, story.sarah_old])
    unknown = client.post(
        "/api/v1/shields/place",
        json={"person_id": "Pnobody", "reason": "Asked by the refuge manager"},
        headers=manager,
    )
    assert unknown.status_code == 404


def test_the_officer_breaks_glass_into_a_shielded_persons_report(world) -> None:
    story, client = world["story"], world["client"]
    dpo = _user(world, "dpo", "OTHER")
    sar = {"purpose": "subject_access_request"}
    refused = client.get(f"/api/v1/subject-access/{story.sarah}", params=sar, headers=dpo)
    assert refused.status_code == 403 and "shielded" in refused.json()["detail"]
    _assert_hidden(story, refused.text)
    practitioner = _user(world, "practitioner", "POLICE")
    body = {"person_id": story.sarah, "reason": REASON, **sar}
    # the report's purpose is the officer's only: a practitioner gives a look-up purpose
    assert client.post("/api/v1/break-glass", json=body, headers=practitioner).status_code == 422
    granted = client.post("/api/v1/break-glass", json=body, headers=dpo)
    assert granted.status_code == 201, granted.text
    report = client.get(f"/api/v1/subject-access/{story.sarah}", params=sar, headers=dpo)
    assert report.status_code == 200, report.text
    assert report.json()["break_glass"]["grant_id"] == granted.json()["grant_id"]
    assert story.refuge.postcode in report.text  # her own records, in full


def test_a_shielded_persons_score_does_not_say_whether_a_postcode_is_hers(world) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "practitioner", "POLICE")
    scores = []
    for postcode in (story.refuge.postcode, story.home.postcode, "DY1 1AA"):
        answer = client.post(
            "/api/v1/search/persons",
            json={
                "given_name": "Sarah",
                "family_name": story.family,
                "date_of_birth": "14/06/1988",
                "postcode": postcode,
                **PURPOSE,
            },
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        [sarah] = [r for r in answer.json() if r["person_id"] == story.sarah]
        scores.append((sarah["confidence"], sarah["match_weight"]))
    assert len(set(scores)) == 1, scores
    # found only through the refuge's postcode, she is not found at all
    only = client.post(
        "/api/v1/search/persons",
        json={"family_name": story.family, "postcode": story.refuge.postcode, **PURPOSE},
        headers=headers,
    )
    assert only.status_code == 200 and story.sarah not in only.text


def test_break_glass_into_an_address_opens_it_but_not_a_shielded_resident(world) -> None:
    story, client = world["story"], world["client"]
    headers = _user(world, "practitioner", "FIRE")
    granted = client.post(
        "/api/v1/break-glass",
        json={"address_id": story.refuge.address_id, "reason": REASON, **PURPOSE},
        headers=headers,
    )
    assert granted.status_code == 201, granted.text
    page = client.post(
        f"/api/v1/addresses/{story.refuge.address_id}/view", json=PURPOSE, headers=headers
    )
    assert page.status_code == 200, page.text
    assert page.json()["address"]["postcode"] == story.refuge.postcode
    people = {p["person_id"]: p for p in page.json()["people"]}
    assert people[story.tom]["given_name"] == "Tomasz" and not people[story.tom]["shielded"]
    sarah = people[story.sarah]
    assert sarah["shielded"] and sarah["given_name"] is None and sarah["date_of_birth"] is None
    assert story.family not in {p["family_name"] for p in people.values() if p["shielded"]}
