""" "Not the same person" through the API on the real engine (chDB) and the real broker: a
practitioner disputes records on a person's page, a steward sees them in the queue beside
the person's other records with the evidence (and no contact or case status), and decides;
a split becomes a correction on the corrections topic with the merges that brought the
disputed records, a keep publishes nothing; role checks, refusals and the audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mast_core.avro import CORRECTION, codec
from mast_core.settings import Settings
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.tables import DEAD_LETTERS, DeadLetterRow
from sinks.clickhouse.writer import SinkWriter
from tests.factories import letters
from tests.integration.signing_in import signed_in
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration

PURPOSE = {"purpose": "welfare_check", "purpose_detail": "ref 4411"}
PHONE, EMAIL = "01922 765432", "duty.desk@partner.example"
STEWARD_ORG = "OTHER"


@dataclass(frozen=True)
class Scene:
    run: str
    family: str
    person: str
    """P: the person's current id."""
    retired: str
    """B: merged into P by ``latest_merge``."""
    chained: str
    """C: merged into B by ``first_merge``, before B was merged into P."""
    first_merge: str
    latest_merge: str

    def event(self, name: str) -> str:
        return f"{self.run}-{name}"


def _record(scene_run: str, name: str, agency: str, person: str, given: str, **extra: Any):
    at = extra.pop("at", datetime(2026, 3, 1, 9, tzinfo=UTC))
    return {
        "interaction": {
            "event_id": f"{scene_run}-{name}",
            "agency": agency,
            "source_system": f"{agency.title()} system",
            "source_record_id": f"{agency[:3]}-{name}",
            "event_type": extra.pop("event_type", "INCIDENT"),
            "occurred_at": at,
            "subject": {
                "given_name": given,
                "family_name": extra.pop("family"),
                "date_of_birth": extra.pop("dob", "1961-07-19"),
                "gender": "F",
                "address": {
                    "line1": "4 Sorrel Row",
                    "line2": None,
                    "town": "Wednesbury",
                    "postcode": "WS10 8QP",
                    "uprn": None,
                },
                "nhs_number": None,
            },
            "case_status": extra.pop("case_status", None),
            "contact": {"name": "Duty desk", "team": "Duty", "phone": PHONE, "email": EMAIL},
        },
        "person_id": person,
        "address_id": f"A{scene_run}",
        "match_weight": extra.pop("weight", None),
        "match_reason": extra.pop("reason", "new person"),
        "resolved_at": at,
    }


@pytest.fixture(scope="module")
def scene(clickhouse) -> Scene:
    """P holds two records of its own; B (two records) was merged into P; C (one record)
    had been merged into B before that, a chain C → B → P."""
    run = uuid.uuid4().hex[:8]
    family = "Quorn" + letters(run)
    person, retired, chained = (f"P{run}{x}" for x in "pbc")
    writer = SinkWriter(clickhouse)
    day = timedelta(days=1)
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    writer.write_resolved(
        [
            _record(run, "police", "POLICE", person, "Edwina", family=family, at=start),
            _record(
                run,
                "health",
                "HEALTH",
                person,
                "Edwina",
                family=family,
                at=start + day,
                case_status="OPEN",
                weight=14.2,
                reason="same name, date of birth and postcode",
            ),
            _record(run, "fire", "FIRE", retired, "Edna", family=family, at=start + 2 * day),
            _record(
                run,
                "housing",
                "HOUSING",
                retired,
                "Edna",
                family=family,
                at=start + 3 * day,
                weight=9.5,
                reason="same name and postcode",
            ),
            _record(
                run, "asc", "ADULT_SOCIAL_CARE", chained, "Ed", family=family, at=start + 4 * day
            ),
        ]
    )
    first, latest = f"M{run}-1", f"M{run}-2"

    def merge(merge_id: str, surviving: str, gone: str, at: datetime, weight: float) -> dict:
        return {
            "merge_id": merge_id,
            "surviving_person_id": surviving,
            "retired_person_id": gone,
            "triggered_by_event_id": f"{run}-housing",
            "match_weight": weight,
            "evidence": [
                {"field": "family_name", "level": "exact", "weight": 7.5},
                {"field": "date_of_birth", "level": "exact", "weight": 6.0},
                {"field": "given_name", "level": "different", "weight": -2.0},
            ],
            "merged_at": at,
        }

    writer.write_merges([merge(first, retired, chained, start + 5 * day, 8.0)])
    writer.write_merges([merge(latest, person, retired, start + 6 * day, 11.5)])
    return Scene(run, family, person, retired, chained, first, latest)


@dataclass
class Api:
    context: ApiContext
    client: TestClient
    practitioner: dict[str, str]
    practitioner_name: str
    steward: dict[str, str]
    steward_name: str


@pytest.fixture
def api(kafka: Settings, clickhouse) -> Api:
    context = ApiContext.create(kafka, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    practitioner_name, practitioner = signed_in(context, client, "practitioner", "HOUSING")
    steward_name, steward = signed_in(context, client, "steward", STEWARD_ORG)
    return Api(context, client, practitioner, practitioner_name, steward, steward_name)


def _raise(api: Api, person: str, *event_ids: str, reason: str = "not her: another Edna"):
    return api.client.post(
        f"/api/v1/persons/{person}/disputes",
        json={"event_ids": list(event_ids), "reason": reason, **PURPOSE},
        headers=api.practitioner,
    )


def _decide(api: Api, dispute_id: str, decision: str, headers: dict[str, str] | None = None):
    return api.client.post(
        f"/api/v1/disputes/{dispute_id}/decision",
        json={"decision": decision, "note": f"{decision}: checked with both agencies"},
        headers=headers or api.steward,
    )


def _queue_item(api: Api, dispute_id: str) -> dict[str, Any]:
    answer = api.client.get("/api/v1/disputes", params={"limit": 200}, headers=api.steward)
    assert answer.status_code == 200, answer.text
    return next(item for item in answer.json() if item["dispute_id"] == dispute_id)


def _corrections(settings: Settings, dispute_id: str) -> list[dict[str, Any]]:
    messages = read_topic(settings, settings.corrections_topic)
    decoded = [(m.key(), codec(CORRECTION).decode(m.value())) for m in messages]
    return [{**c, "key": k.decode()} for k, c in decoded if c["dispute_id"] == dispute_id]


def _audit(api: Api, organisation: str, username: str) -> list[dict[str, Any]]:
    return list(reversed(api.context.audit.search(organisation, username=username)))


def test_a_split_of_the_retired_ids_records_is_a_correction_with_their_merge(api, scene, kafka):
    raised = _raise(api, scene.person, scene.event("fire"), scene.event("housing"))
    assert raised.status_code == 200, raised.text
    dispute = raised.json()
    assert dispute["status"] == "open"
    assert dispute["person_id"] == scene.person
    assert dispute["event_ids"] == [scene.event("fire"), scene.event("housing")]

    # the steward's queue: open, the disputed records beside the others, with the evidence
    item = _queue_item(api, dispute["dispute_id"])
    assert item["status"] == "open"
    assert item["reason"] == "not her: another Edna"
    assert (item["raised_by"], item["raised_org"]) == (api.practitioner_name, "HOUSING")
    assert item["person_ids"] == [scene.person, scene.retired, scene.chained]
    disputed = {r["event_id"]: r for r in item["disputed"]}
    assert set(disputed) == {scene.event("fire"), scene.event("housing")}
    housing = disputed[scene.event("housing")]
    assert (housing["given_name"], housing["family_name"]) == ("Edna", scene.family)
    assert housing["date_of_birth"] == "1961-07-19"
    assert housing["address"]["postcode"] == "WS10 8QP"
    assert (housing["source_system"], housing["source_record_id"]) == (
        "Housing system",
        "HOU-housing",
    )
    assert (housing["match_reason"], housing["match_weight"]) == ("same name and postcode", 9.5)
    assert (housing["held_as"], housing["linked"]) == (scene.retired, "by_merge")
    assert housing["merge_id"] == scene.latest_merge
    others = {r["event_id"]: r for r in item["other_records"]}
    assert set(others) == {scene.event(n) for n in ("police", "health", "asc")}
    assert item["other_records_total"] == 3
    assert others[scene.event("health")]["linked"] == "directly"
    assert others[scene.event("health")]["match_weight"] == 14.2
    assert others[scene.event("asc")]["merge_id"] == scene.first_merge
    merges = {m["merge_id"]: m for m in item["merges"]}
    assert set(merges) == {scene.first_merge, scene.latest_merge}
    latest = merges[scene.latest_merge]
    assert latest["undone_by_split"] is True
    assert merges[scene.first_merge]["undone_by_split"] is False
    assert (latest["retired_person_id"], latest["surviving_person_id"]) == (
        scene.retired,
        scene.person,
    )
    assert {"field": "given_name", "level": "different", "weight": -2.0} in latest["evidence"]
    assert item["split"] == {
        "possible": True,
        "merge_ids": [scene.latest_merge],
        "directly_linked": [],
        "explanation": None,
    }
    assert item["decision"] is None
    # the minimum dataset and the evidence: never a contact or a case status
    text = str(item)
    assert PHONE not in text and EMAIL not in text and "Duty desk" not in text
    assert "case_status" not in text and "contact" not in text

    decided = _decide(api, dispute["dispute_id"], "split")
    assert decided.status_code == 200, decided.text
    decision = decided.json()
    assert decision["decision"] == "split"
    assert decision["merge_ids"] == [scene.latest_merge]
    assert (decision["decided_by"], decision["decided_org"]) == (api.steward_name, STEWARD_ORG)

    corrections = _corrections(kafka, dispute["dispute_id"])
    assert len(corrections) == 1
    correction = corrections[0]
    assert correction["correction_id"] == decision["correction_id"]
    assert correction["kind"] == "SPLIT"
    assert correction["person_id"] == correction["key"] == scene.person
    assert correction["merge_ids"] == [scene.latest_merge]
    assert correction["other_person_id"] is None
    assert correction["decided_by_organisation"] == STEWARD_ORG
    assert correction["decided_at"].tzinfo is not None

    # decided once: a second decision is refused, and nothing more is published
    again = _decide(api, dispute["dispute_id"], "keep")
    assert again.status_code == 409
    assert "decided already" in again.json()["detail"]
    assert len(_corrections(kafka, dispute["dispute_id"])) == 1
    after = _queue_item(api, dispute["dispute_id"])
    assert after["status"] == "split"
    assert after["decision"]["correction_id"] == decision["correction_id"]
    assert after["split"]["possible"] is False

    # audited: the practitioner's dispute, the steward's queue, decision and refusal
    raised_entry = _audit(api, "HOUSING", api.practitioner_name)[-1]
    assert (raised_entry["action"], raised_entry["outcome"]) == ("raise_dispute", "shown")
    assert raised_entry["purpose"] == "welfare_check"
    assert raised_entry["purpose_detail"] == "ref 4411"
    assert raised_entry["person_ids"] == [scene.person, scene.retired]
    assert raised_entry["event_ids"] == [scene.event("fire"), scene.event("housing")]
    assert dispute["dispute_id"] in raised_entry["asked"]
    steward = [(e["action"], e["outcome"]) for e in _audit(api, STEWARD_ORG, api.steward_name)]
    assert steward == [
        ("list_disputes", "shown"),
        ("decide_dispute", "shown"),
        ("decide_dispute", "refused"),
        ("list_disputes", "shown"),
    ]
    entries = _audit(api, STEWARD_ORG, api.steward_name)
    listed, split = entries[0], entries[1]
    assert scene.person in listed["person_ids"] and scene.event("police") in listed["event_ids"]
    assert split["person_ids"][0] == scene.person and scene.retired in split["person_ids"]
    assert split["event_ids"] == [scene.event("fire"), scene.event("housing")]
    assert decision["correction_id"] in split["asked"]
    assert "already_decided" in entries[2]["asked"]


def test_a_chained_records_split_undoes_the_merge_that_retired_its_id(api, scene, kafka):
    """C's record came into P when C was merged into B: the split undoes that merge, not
    the later one that brought B (and B's records) too."""
    raised = _raise(api, scene.retired, scene.event("asc"))  # a retired id opens P's page
    assert raised.status_code == 200, raised.text
    dispute = raised.json()
    assert dispute["person_id"] == scene.person
    decided = _decide(api, dispute["dispute_id"], "split")
    assert decided.status_code == 200, decided.text
    assert decided.json()["merge_ids"] == [scene.first_merge]
    [correction] = _corrections(kafka, dispute["dispute_id"])
    assert correction["merge_ids"] == [scene.first_merge]


def test_records_of_several_merges_are_undone_latest_first(api, scene, kafka):
    raised = _raise(api, scene.person, scene.event("asc"), scene.event("fire"))
    dispute = raised.json()
    decided = _decide(api, dispute["dispute_id"], "split")
    assert decided.status_code == 200, decided.text
    assert decided.json()["merge_ids"] == [scene.latest_merge, scene.first_merge]
    [correction] = _corrections(kafka, dispute["dispute_id"])
    assert correction["merge_ids"] == [scene.latest_merge, scene.first_merge]


def test_a_directly_linked_record_is_detached_by_a_split(api, scene, kafka):
    raised = _raise(api, scene.person, scene.event("police"), scene.event("fire"))
    dispute = raised.json()
    item = _queue_item(api, dispute["dispute_id"])
    assert item["split"]["possible"] is True
    assert item["split"]["directly_linked"] == [scene.event("police")]
    decided = _decide(api, dispute["dispute_id"], "split")
    assert decided.status_code == 200, decided.text
    [correction] = _corrections(kafka, dispute["dispute_id"])
    assert correction["kind"] == "SPLIT"
    assert correction["records"] == [{"agency": "POLICE", "event_id": scene.event("police")}]
    assert correction["merge_ids"] == decided.json()["merge_ids"]  # the fire record's merge
    item = _queue_item(api, dispute["dispute_id"])
    assert item["status"] == "split"
    assert item["decision"]["correction_state"] == "pending"  # no resolver runs here
    # the resolver could not apply it: its dead letter names the correction
    api.context.client.insert(
        DEAD_LETTERS,
        [
            DeadLetterRow(
                "mast.interactions-accepted",
                0,
                int(uuid.uuid4().int % 1_000_000),
                "correction_not_applied",
                None,
                f"split {correction['correction_id']}: nothing to undo (records changed)",
                b"",
                datetime.now(UTC),
            )
        ],
        column_names=DeadLetterRow._fields,
    )
    assert _queue_item(api, dispute["dispute_id"])["decision"]["correction_state"] == "refused"
    entries = _audit(api, STEWARD_ORG, api.steward_name)
    [decision] = [e for e in entries if e["action"] == "decide_dispute"]
    assert decision["outcome"] == "shown"
    assert scene.event("police") in decision["asked"]


def test_keep_publishes_nothing(api, scene, kafka):
    raised = _raise(api, scene.person, scene.event("police"))
    dispute = raised.json()
    kept = _decide(api, dispute["dispute_id"], "keep")
    assert kept.status_code == 200, kept.text
    assert (kept.json()["correction_id"], kept.json()["merge_ids"]) == (None, [])
    assert _corrections(kafka, dispute["dispute_id"]) == []
    assert _queue_item(api, dispute["dispute_id"])["status"] == "kept"


def test_records_not_on_the_page_are_refused_by_name(api, scene):
    elsewhere = f"{uuid.uuid4().hex[:8]}-elsewhere"
    refused = _raise(api, scene.person, scene.event("fire"), elsewhere)
    assert refused.status_code == 422
    assert refused.json()["detail"] == f"not records on this person's page: {elsewhere}"
    assert "not her" not in refused.text  # the reason is not echoed
    entry = _audit(api, "HOUSING", api.practitioner_name)[-1]
    assert (entry["action"], entry["outcome"]) == ("raise_dispute", "refused")
    assert entry["person_ids"] == [scene.person]
    assert "not_on_page" in entry["asked"]
    assert _raise(api, f"P{uuid.uuid4().hex}", scene.event("fire")).status_code == 404
    entry = _audit(api, "HOUSING", api.practitioner_name)[-1]
    assert (entry["action"], entry["outcome"]) == ("raise_dispute", "not_found")


def test_a_dispute_needs_a_purpose_and_a_reason(api, scene):
    no_purpose = api.client.post(
        f"/api/v1/persons/{scene.person}/disputes",
        json={"event_ids": [scene.event("fire")], "reason": "another Edna"},
        headers=api.practitioner,
    )
    assert no_purpose.status_code == 422
    assert no_purpose.json()["detail"].startswith("declare a purpose")
    blank = _raise(api, scene.person, scene.event("fire"), reason="   ")
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["loc"] == ["body", "reason"]
    too_long = _raise(api, scene.person, scene.event("fire"), reason="x" * 501)
    assert too_long.status_code == 422
    entries = _audit(api, "HOUSING", api.practitioner_name)
    assert [(e["action"], e["outcome"]) for e in entries] == [("raise_dispute", "refused")] * 3


def test_only_stewards_work_the_queue_and_stewards_see_no_case_details(api, scene):
    raised = _raise(api, scene.person, scene.event("fire"))
    dispute_id = raised.json()["dispute_id"]
    # a practitioner may neither list nor decide
    assert api.client.get("/api/v1/disputes", headers=api.practitioner).status_code == 403
    refused = _decide(api, dispute_id, "split", headers=api.practitioner)
    assert refused.status_code == 403
    assert _queue_item(api, dispute_id)["status"] == "open"
    entries = _audit(api, "HOUSING", api.practitioner_name)
    assert [(e["action"], e["outcome"]) for e in entries[-2:]] == [
        ("list_disputes", "refused"),
        ("decide_dispute", "refused"),
    ]
    assert "not_a_steward" in entries[-1]["asked"]
    # a steward raises no dispute and opens no person page, search or alert list (audited)
    steward = api.steward
    assert (
        api.client.post(
            f"/api/v1/persons/{scene.person}/disputes",
            json={"event_ids": [scene.event("fire")], "reason": "x", **PURPOSE},
            headers=steward,
        ).status_code
        == 403
    )
    looks = [
        api.client.post(f"/api/v1/persons/{scene.person}/view", json=PURPOSE, headers=steward),
        api.client.get(
            f"/api/v1/persons/{scene.person}", params={"purpose": "welfare_check"}, headers=steward
        ),
        api.client.post(
            "/api/v1/search/persons",
            json={"given_name": "Edna", "family_name": scene.family, **PURPOSE},
            headers=steward,
        ),
        api.client.get("/api/v1/alerts", headers=steward),
    ]
    assert [answer.status_code for answer in looks] == [403] * 4
    assert PHONE not in "".join(answer.text for answer in looks)
    entries = _audit(api, STEWARD_ORG, api.steward_name)
    assert [(e["action"], e["outcome"]) for e in entries[-5:]] == [
        ("raise_dispute", "refused"),
        ("view_person", "refused"),
        ("view_person", "refused"),
        ("search_persons", "refused"),
        ("list_alerts", "refused"),
    ]
    view = entries[-4]
    assert view["person_ids"] == [scene.person]
    assert (view["purpose"], view["purpose_detail"]) == ("welfare_check", "ref 4411")
    assert "role: steward" in view["asked"]
    # statistics are counts, and a steward may read them
    stats = api.client.get("/api/v1/stats/matching", params={"agency": "FIRE"}, headers=steward)
    assert stats.status_code == 200


def test_an_unknown_dispute_is_a_404_and_audited(api):
    unknown = f"D{uuid.uuid4().hex}"
    answer = _decide(api, unknown, "keep")
    assert answer.status_code == 404
    entry = _audit(api, STEWARD_ORG, api.steward_name)[-1]
    assert (entry["action"], entry["outcome"]) == ("decide_dispute", "not_found")
    assert unknown in entry["asked"]


def test_without_kafka_a_split_is_a_503_and_not_recorded(api, scene, clickhouse, kafka):
    raised = _raise(api, scene.person, scene.event("housing"))
    dispute_id = raised.json()["dispute_id"]
    unreachable = Settings(**{**kafka.model_dump(), "kafka_bootstrap": "127.0.0.1:9"})
    offline = ApiContext.create(unreachable, clickhouse)
    offline.correction_timeout_s = 2.0
    client = TestClient(create_app(lambda: {"ready": True}, offline))
    name, headers = signed_in(offline, client, "steward", STEWARD_ORG)
    answer = client.post(
        f"/api/v1/disputes/{dispute_id}/decision",
        json={"decision": "split", "note": "not her"},
        headers=headers,
    )
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    entry = _audit(api, STEWARD_ORG, name)[-1]
    assert (entry["action"], entry["outcome"]) == ("decide_dispute", "refused")
    assert "not_acknowledged" in entry["asked"]
    # not recorded as made: still open, and decided once Kafka takes the correction
    assert _queue_item(api, dispute_id)["status"] == "open"
    decided = _decide(api, dispute_id, "split")
    assert decided.status_code == 200, decided.text
    assert len(_corrections(kafka, dispute_id)) == 1


ROLES = ("practitioner", "manager", "admin", "steward")
ROUTES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "me": ("GET", "/api/v1/me", {}),
    "purposes": ("GET", "/api/v1/purposes", {}),
    "queue": ("GET", "/api/v1/disputes", {}),
    "decide": (
        "POST",
        "/api/v1/disputes/D-none/decision",
        {"json": {"decision": "keep", "note": "checked"}},
    ),
    "dispute": (
        "POST",
        "/api/v1/persons/P-none/disputes",
        {"json": {"event_ids": ["E1"], "reason": "another person", **PURPOSE}},
    ),
    "person": ("POST", "/api/v1/persons/P-none/view", {"json": PURPOSE}),
    "history": ("POST", "/api/v1/persons/P-none/history/view", {"json": PURPOSE}),
    "address": ("GET", "/api/v1/addresses/A-none", {"params": {"purpose": "welfare_check"}}),
    "search": ("POST", "/api/v1/search/addresses", {"json": {"postcode": "WS10 8QP", **PURPOSE}}),
    "alerts": ("GET", "/api/v1/alerts", {}),
    "acknowledge": ("POST", "/api/v1/alerts/AL-none/acknowledge", {}),
    "stats": ("GET", "/api/v1/stats/matching", {"params": {"agency": "FIRE"}}),
    "audit": ("GET", "/api/v1/audit", {}),
}
EXPECTED = {
    # route: practitioner, manager, admin, steward (404: allowed, and nothing by that id)
    "me": (200, 200, 200, 200),
    "purposes": (200, 200, 200, 200),
    "queue": (403, 403, 403, 200),
    "decide": (403, 403, 403, 404),
    "dispute": (404, 404, 404, 403),
    "person": (404, 404, 404, 403),
    "history": (404, 404, 404, 403),
    "address": (404, 404, 404, 403),
    "search": (200, 200, 200, 403),
    "alerts": (200, 200, 200, 403),
    "acknowledge": (404, 404, 404, 403),
    "stats": (200, 200, 200, 200),
    "audit": (403, 200, 200, 403),
}


def test_what_each_role_may_do(kafka, clickhouse):
    """Every role against the new routes and those a steward may not use: a steward works
    the disputes queue and reads statistics, and sees no person, address or alert."""
    context = ApiContext.create(kafka, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    tokens = {role: signed_in(context, client, role, "FIRE")[1] for role in ROLES}
    answered = {
        route: tuple(
            client.request(method, url, headers=tokens[role], **options).status_code
            for role in ROLES
        )
        for route, (method, url, options) in ROUTES.items()
    }
    assert answered == EXPECTED
