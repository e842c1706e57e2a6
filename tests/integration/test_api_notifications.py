"""Viewers are told (corrections issue, item 4), through the API on the real engine (chDB):
people who saw a person while two people's records were merged into it, as the audit
recorded their views, have a notification once the merge is split; those who looked only
before the merge or after the split, or never, have none; each user sees and marks only
their own; both routes are audited.

The timeline is real: each view goes through the API (so its audit entry is the one the
API writes), and the merge and the split are stored by the sink's writer between views."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mast_core.events import parse_event
from mast_core.linkage.blocking import filed_keys
from mast_core.linkage.estimation import profiles_from_events
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from tests.factories import letters
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

PURPOSE = {"purpose": "welfare_check", "purpose_detail": "ref 5150"}
URL = "/api/v1/notifications"
TICK = 0.02
"""Seconds between steps, so that views, the merge and the split are in that order at the
millisecond the tables keep."""


def _record(run: str, name: str, agency: str, person: str, given: str, family: str, day: int):
    """A resolved record filed under the resolver's search keys, so that search finds it."""
    at = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(days=day)
    interaction = {
        "event_id": f"{run}-{name}",
        "agency": agency,
        "source_system": f"{agency.title()} records",
        "source_record_id": f"{agency[:3]}-{name}",
        "event_type": "INCIDENT",
        "occurred_at": at,
        "subject": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": "1958-11-23",
            "gender": "F",
            "address": {
                "line1": "3 Yarrow Court",
                "line2": None,
                "town": "Tipton",
                "postcode": "DY4 7QS",
                "uprn": None,
            },
            "nhs_number": None,
        },
        "case_status": None,
        "contact": {"name": "Duty", "team": "Duty", "phone": "0121 555 0199", "email": None},
    }
    [profile] = profiles_from_events([parse_event(interaction)])
    return {
        "interaction": interaction,
        "person_id": person,
        "address_id": f"A{run}",
        "match_weight": None,
        "match_reason": "new person",
        "resolved_at": at,
        "search_keys": filed_keys(profile),
    }


def _merge(merge_id: str, surviving: str, retired: str, at: datetime) -> dict[str, Any]:
    return {
        "merge_id": merge_id,
        "surviving_person_id": surviving,
        "retired_person_id": retired,
        "triggered_by_event_id": None,
        "match_weight": 12.0,
        "evidence": [{"field": "family_name", "level": "exact", "weight": 8.0}],
        "merged_at": at,
    }


def _now() -> datetime:
    time.sleep(TICK)
    moment = datetime.now(UTC)
    time.sleep(TICK)
    return moment


@dataclass
class Story:
    """Who did what, when: P (the person) and B (merged into P by ``merge_id``, split off
    again by ``split_id`` at ``split_at``); E, a person of its own until merged into P
    after the split."""

    context: ApiContext
    client: TestClient
    run: str
    family: str
    person: str
    restored: str
    other: str
    merge_id: str
    split_id: str
    merged_at: datetime
    split_at: datetime
    users: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def sign_in(self, name: str, role: str = "practitioner", organisation: str = "POLICE"):
        username, headers = signed_in(self.context, self.client, role, organisation, prefix=name)
        self.users[name], self.headers[name] = username, headers

    def view(self, name: str, person: str, page: str = "view") -> None:
        answer = self.client.post(
            f"/api/v1/persons/{person}/{page}", json=PURPOSE, headers=self.headers[name]
        )
        assert answer.status_code == 200, answer.text

    def listed(self, name: str, **params: Any) -> dict[str, Any]:
        answer = self.client.get(URL, params=params, headers=self.headers[name])
        assert answer.status_code == 200, answer.text
        return answer.json()

    def mark(self, name: str, body: dict[str, Any]):
        return self.client.post(f"{URL}/seen", json=body, headers=self.headers[name])

    def audit(self, name: str, organisation: str = "POLICE") -> list[dict[str, Any]]:
        return self.context.audit.search(organisation, username=self.users[name])


@pytest.fixture(scope="module")
def story(settings, clickhouse) -> Story:
    run = uuid.uuid4().hex[:8]
    family = "Pellow" + letters(run)
    person, restored, other = (f"P{run}{x}" for x in "pbe")
    writer = SinkWriter(clickhouse)
    writer.write_resolved(
        [
            _record(run, "police", "POLICE", person, "Rosalind", family, 0),
            _record(run, "fire", "FIRE", restored, "Rosa", family, 4),
            _record(run, "housing", "HOUSING", other, "Ros", family, 8),
        ]
    )
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    merge_id, split_id = f"M{run}", f"S{run}"
    unset = datetime.min.replace(tzinfo=UTC)
    s = Story(
        context, client, run, family, person, restored, other, merge_id, split_id, unset, unset
    )
    for name in ("early", "viewer", "searcher", "neighbour", "late", "never", "refused"):
        s.sign_in(name)
    s.sign_in("other", organisation="HOUSING")
    s.sign_in("manager", "manager")
    s.sign_in("steward", "steward", "OTHER")

    # before the merge: P and B are two people
    s.view("early", person)
    s.view("early", restored)
    s.merged_at = _now()
    writer.write_merges([_merge(merge_id, person, restored, s.merged_at)])

    # while merged: P's page shows B's records too
    s.view("viewer", person)
    time.sleep(TICK)
    s.view("viewer", restored)  # a retired id opens P's page
    search = s.client.post(
        "/api/v1/search/persons",
        json={
            "given_name": "Rosalind",
            "family_name": family,
            "date_of_birth": "23/11/1958",
            **PURPOSE,
        },
        headers=s.headers["searcher"],
    )
    assert search.status_code == 200, search.text
    assert person in [r["person_id"] for r in search.json()]
    address = s.client.post(
        f"/api/v1/addresses/A{run}/view", json=PURPOSE, headers=s.headers["neighbour"]
    )
    assert address.status_code == 200, address.text
    s.view("manager", person, "history/view")
    s.view("other", other)  # E, a person of its own (merged into P only after the split)
    refused = s.client.post(  # no purpose: refused, and nothing was shown
        f"/api/v1/persons/{person}/view", json={}, headers=s.headers["refused"]
    )
    assert refused.status_code == 422

    s.split_at = _now()
    writer.write_splits(
        [
            {
                "split_id": split_id,
                "merge_id": merge_id,
                "surviving_person_id": person,
                "restored_person_id": restored,
                "correction_id": f"C{run}",
                "moved_records": 1,
                "split_at": s.split_at,
            }
        ]
    )
    # after the split: two people again
    s.view("late", person)
    s.view("late", restored)
    writer.write_merges([_merge(f"M{run}-e", person, other, _now())])
    return s


def _latest_view(story: Story, name: str, organisation: str = "POLICE") -> datetime:
    views = [
        e
        for e in story.audit(name, organisation)
        if e["action"] != "list_notifications" and e["action"] != "mark_notifications_seen"
    ]
    return max(e["at"] for e in views)


def test_a_practitioner_who_viewed_the_merged_person_is_told(story):
    answer = story.listed("viewer")
    assert answer["unseen"] == 1
    [notification] = answer["notifications"]
    assert notification["kind"] == "corrected_person"
    assert notification["seen"] is False
    assert datetime.fromisoformat(notification["at"]) == story.split_at.replace(
        microsecond=story.split_at.microsecond // 1000 * 1000
    )
    assert datetime.fromisoformat(notification["viewed_at"]) == _latest_view(story, "viewer")
    assert [(link["kind"], link["id"]) for link in notification["links"]] == [
        ("person", story.person),
        ("person", story.restored),
    ]
    message = notification["message"]
    assert message.startswith("A person you viewed on ")
    assert "was two people" in message
    assert story.person in message and story.restored in message
    assert f"{story.split_at.day} {story.split_at:%B %Y}" in message
    assert story.family not in json.dumps(answer)  # ids and dates, never a name
    # the same id every time it is listed
    assert (
        story.listed("viewer")["notifications"][0]["notification_id"]
        == (notification["notification_id"])
    )


def test_those_who_saw_it_in_a_search_an_address_or_the_history_are_told_too(story):
    for name in ("searcher", "neighbour", "manager"):
        [notification] = story.listed(name)["notifications"]
        assert {link["id"] for link in notification["links"]} == {story.person, story.restored}
    told = ("viewer", "searcher", "neighbour", "manager")
    ids = {story.listed(name)["notifications"][0]["notification_id"] for name in told}
    assert len(ids) == 4, "each user's notification is their own"


def test_nobody_who_looked_only_before_the_merge_or_after_the_split_is_told(story):
    for name in ("early", "late", "never", "refused", "other", "steward"):
        assert story.listed(name) == {"unseen": 0, "notifications": []}, name


def test_marked_seen_by_id_it_is_no_longer_unseen(story):
    [notification] = story.listed("viewer")["notifications"]
    # another user cannot mark it: the id is not theirs
    theirs = story.mark("manager", {"notification_ids": [notification["notification_id"]]})
    assert theirs.status_code == 200, theirs.text
    assert theirs.json() == {"marked": [], "unseen": 1}
    marked = story.mark("viewer", {"notification_ids": [notification["notification_id"]]})
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": [notification["notification_id"]], "unseen": 0}
    assert story.listed("viewer", unseen="true") == {"unseen": 0, "notifications": []}
    [again] = story.listed("viewer")["notifications"]
    assert again["notification_id"] == notification["notification_id"]
    assert again["seen"] is True
    assert story.mark("viewer", {"notification_ids": [notification["notification_id"]]}).json() == {
        "marked": [],
        "unseen": 0,
    }
    assert story.listed("manager", unseen="true")["unseen"] == 1  # the manager's is still there


def test_marked_seen_up_to_a_time_only_those_at_or_before_it(story):
    before = (story.split_at - timedelta(seconds=1)).isoformat()
    early = story.mark("searcher", {"up_to": before})
    assert early.status_code == 200, early.text
    assert early.json() == {"marked": [], "unseen": 1}
    [notification] = story.listed("searcher", unseen="true")["notifications"]
    marked = story.mark("searcher", {"up_to": notification["at"]})
    assert marked.json() == {"marked": [notification["notification_id"]], "unseen": 0}
    assert story.listed("searcher", unseen="true")["notifications"] == []


def test_both_routes_are_audited_and_bad_input_is_refused(story):
    story.listed("neighbour", limit=5)
    listed = story.audit("neighbour")[0]
    assert (listed["action"], listed["outcome"]) == ("list_notifications", "shown")
    assert listed["person_ids"] == [story.person, story.restored]
    assert json.loads(listed["asked"]) == {"unseen": False, "limit": 5}

    nothing = story.mark("neighbour", {})
    assert nothing.status_code == 422
    assert isinstance(nothing.json()["detail"], str)  # a sentence: name ids or a time
    [notification] = story.listed("neighbour")["notifications"]
    for body in (
        {"notification_ids": ["not an id"]},
        {"notification_ids": []},
        {"up_to": "1712345678"},
        {"up_to": "3 April 2026"},
        {"notification_ids": [notification["notification_id"]], "everything": True},
    ):
        refused = story.mark("neighbour", body)
        assert refused.status_code == 422, body
    for params in ({"limit": 0}, {"limit": 201}, {"unseen": "perhaps"}):
        assert (
            story.client.get(URL, params=params, headers=story.headers["neighbour"]).status_code
            == 422
        )
    assert story.client.get(URL).status_code == 401
    marked = story.mark("neighbour", {"notification_ids": [notification["notification_id"]]})
    assert marked.json()["marked"] == [notification["notification_id"]]

    entries = story.audit("neighbour")
    actions = [(e["action"], e["outcome"]) for e in reversed(entries)]
    assert actions.count(("mark_notifications_seen", "refused")) == 6
    assert actions.count(("list_notifications", "refused")) == 3
    assert actions[-1] == ("mark_notifications_seen", "shown")
    assert notification["notification_id"] in entries[0]["asked"]
