"""POST /api/v1/ingest on the real broker and engine: a partner key fixes the agency, each
event is admitted as every door admits it (``producers.admission``: the pipeline's rules, in
the words a CSV or JSONL report uses), the answer says what was accepted and what was
rejected and why, and the accepted events are on the interactions topic."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from mast_core.events import decode_interaction
from producers.admission import NOT_AN_OBJECT, REPEATED
from query_api.app import create_app
from query_api.context import ApiContext
from tests.integration.topic_reader import read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
def api(kafka, clickhouse):
    context = ApiContext.create(kafka, clickhouse)
    return context, TestClient(create_app(lambda: {"ready": True}, context))


def _event(event_id: str, family: str, **extra):
    return {
        "event_id": event_id,
        "event_type": "ED_ATTENDANCE",
        "occurred_at": "2026-04-20T13:00:00Z",
        "subject": {"given_name": "Edna", "family_name": family, "date_of_birth": "1950-03-04"},
        **extra,
    }


def test_a_batch_is_validated_answered_and_published(api, kafka):
    context, client = api
    _partner, key = context.partners.issue("HEALTH", "ED Symphony")
    family = "Ing" + uuid.uuid4().hex[:6]
    batch = [
        _event(f"{family}-1", family),
        _event(f"{family}-2", family, agency="HEALTH"),
        _event(f"{family}-3", family, agency="POLICE"),  # not this partner's to send
        {"event_id": f"{family}-4", "agency": "HEALTH"},  # no subject
        _event(f"{family}-5", family, occurred_at="last Tuesday"),
        _event(f"{family}-1", family),  # repeated in the batch
        "not an object",
    ]
    response = client.post("/api/v1/ingest", json={"events": batch}, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 2
    assert result["event_ids"] == [f"{family}-1", f"{family}-2"]
    rejected = {r["index"]: r for r in result["rejected"]}
    assert set(rejected) == {2, 3, 4, 5, 6}
    assert rejected[2]["problems"] == [
        {"field": "agency", "problem": "is not HEALTH, the agency sending these events"}
    ]
    assert rejected[3]["problems"][0]["field"] == "subject"
    assert rejected[4]["problems"][0]["field"] == "occurred_at"
    assert "Tuesday" not in response.text  # problems name fields, never values
    assert rejected[5]["event_id"] == f"{family}-1"
    assert rejected[5]["problems"] == [{"field": "event_id", "problem": REPEATED}]
    assert rejected[6] == {
        "index": 6,
        "event_id": None,
        "problems": [{"field": "(event)", "problem": NOT_AN_OBJECT}],
    }

    published = [decode_interaction(m.value()) for m in read_topic(kafka, kafka.interactions_topic)]
    mine = [e for e in published if e.subject.family_name == family]
    assert sorted(e.event_id for e in mine) == [f"{family}-1", f"{family}-2"]
    assert {e.agency.value for e in mine} == {"HEALTH"}


def test_keys_are_checked(api):
    context, client = api
    partner, key = context.partners.issue("FIRE", "IRS")
    body = {"events": [_event("x-1", "Keyless")]}
    assert client.post("/api/v1/ingest", json=body).status_code == 401
    for wrong in (
        "nonsense",
        key[:-1] + ("A" if key[-1] != "A" else "B"),
        "mast_000000000000_" + "a" * 43,
    ):
        assert (
            client.post("/api/v1/ingest", json=body, headers={"X-API-Key": wrong}).status_code
            == 401
        )
    context.partners.revoke(partner.key_id)
    assert client.post("/api/v1/ingest", json=body, headers={"X-API-Key": key}).status_code == 401
    assert [p.revoked for p in context.partners.list() if p.key_id == partner.key_id] == [True]


def test_oversized_and_empty_batches_are_refused(api):
    context, client = api
    _partner, key = context.partners.issue("HOUSING", "Housing CRM")
    headers = {"X-API-Key": key}
    assert client.post("/api/v1/ingest", json={"events": []}, headers=headers).status_code == 422
    big = {"events": [_event(f"b-{i}", "Big") for i in range(1001)]}
    assert client.post("/api/v1/ingest", json=big, headers=headers).status_code == 422
    assert client.post("/api/v1/ingest", json={"evnts": []}, headers=headers).status_code == 422


def test_a_key_over_its_rate_waits_and_huge_bodies_are_refused(kafka, clickhouse):
    settings = kafka.model_copy(update={"ingest_events_per_minute": 3, "max_body_bytes": 20_000})
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    _partner, key = context.partners.issue("EDUCATION", "SIMS")
    headers = {"X-API-Key": key}
    family = "Rate" + uuid.uuid4().hex[:6]
    first = {"events": [_event(f"{family}-{i}", family) for i in range(3)]}
    assert client.post("/api/v1/ingest", json=first, headers=headers).status_code == 200
    over = client.post(
        "/api/v1/ingest", json={"events": [_event(f"{family}-4", family)]}, headers=headers
    )
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    huge = {"events": [_event(f"{family}-x{i}", family * 20) for i in range(200)]}
    refused = client.post("/api/v1/ingest", json=huge, headers=headers)
    assert refused.status_code == 413
    assert "send smaller batches" in refused.json()["detail"]
