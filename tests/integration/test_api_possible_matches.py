"""Possible matches in the stewards' queue, through the API on the real engine (chDB) and the
real broker: a record the resolver kept for review appears in GET /disputes as its own kind,
the two sides' records side by side (minimum dataset) with the evidence; a steward confirms
it (a CONFIRM_MATCH correction on the corrections topic, which the resolution stage applies
as an ordinary explained merge: the pages then show one person and the history the merge)
or marks the two different (MARK_DIFFERENT: a later record kept for review beside the same
person does not bring them back to the queue); role checks, refusals and the audit.

The pipeline's part runs in process (``Pipeline`` with a recording publisher, fed the very
correction read back from the broker), and its records are stored by the sink's writer: the
worker's own embedded ClickHouse cannot be opened beside this process's (one chDB folder per
process); tests/integration/test_possible_matches_pipeline.py runs the worker itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mast_core.avro import (
    ACCEPTED_BATCH,
    CORRECTION,
    IDENTITY_MERGE,
    POSSIBLE_MATCH,
    RESOLVED_INTERACTION,
    codec,
)
from mast_core.events import InteractionEvent, encode_interaction
from mast_core.settings import Settings
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from stream_processors.corrections import CORRECTION_HEADER, CORRECTION_MARK
from stream_processors.pipeline import Pipeline
from stream_processors.resolution import ResolutionStage
from tests.correction_cases import later_record, possible_match_case
from tests.integration.signing_in import signed_in
from tests.integration.topic_reader import read_topic
from tests.unit.stream.recording import RecordingPublisher

pytestmark = pytest.mark.integration

PURPOSE = {"purpose": "welfare_check"}
RECEIVED = 1_775_250_000.0


@dataclass
class Scene:
    """One run's pipeline, in process, and the possible match it published."""

    pipeline: Pipeline
    publisher: RecordingPublisher
    writer: SinkWriter
    settings: Settings
    possible: dict[str, Any]
    offset: int = 0

    def resolve(self, event: InteractionEvent) -> None:
        """Resolve one event and store what the pipeline published, as the sink would."""
        before = len(self.publisher.sent)
        batch = codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(event)]})
        self.pipeline.resolve(batch, self.offset, RECEIVED + self.offset)
        self.offset += 1
        self._store(before)

    def correct(self, raw: bytes) -> None:
        """Apply a correction as read from the corrections topic, and store the outcome."""
        before = len(self.publisher.sent)
        self.pipeline.resolve(
            raw, self.offset, RECEIVED + self.offset, [(CORRECTION_HEADER, CORRECTION_MARK)]
        )
        self.offset += 1
        self._store(before)

    def _store(self, before: int) -> None:
        s = self.settings
        new: dict[str, list[bytes]] = {}
        for topic, value, _key, _ts in self.publisher.sent[before:]:
            new.setdefault(topic, []).append(value)
        self.writer.write_resolved(
            [
                codec(RESOLVED_INTERACTION).decode(v)
                for v in new.get(s.resolved_interactions_topic, [])
            ]
        )
        self.writer.write_possible_matches(
            [codec(POSSIBLE_MATCH).decode(v) for v in new.get(s.possible_matches_topic, [])]
        )
        self.writer.write_merges(
            [codec(IDENTITY_MERGE).decode(v) for v in new.get(s.identity_merges_topic, [])]
        )


@pytest.fixture
def scene(kafka: Settings, clickhouse) -> Scene:
    run = uuid.uuid4().hex[:8]
    publisher = RecordingPublisher()
    pipeline = Pipeline(kafka, ResolutionStage.fresh(), publisher)  # type: ignore[arg-type]
    made = Scene(pipeline, publisher, SinkWriter(clickhouse), kafka, {})
    for event in possible_match_case(run):
        made.resolve(event)
    (possible,) = [
        codec(POSSIBLE_MATCH).decode(v) for v in publisher.on(kafka.possible_matches_topic)
    ]
    made.possible = possible
    return made


@dataclass
class Api:
    context: ApiContext
    client: TestClient
    practitioner: dict[str, str]
    steward: dict[str, str]
    steward_name: str


@pytest.fixture
def api(kafka: Settings, clickhouse) -> Api:
    context = ApiContext.create(kafka, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    _name, practitioner = signed_in(context, client, "practitioner", "HOUSING")
    steward_name, steward = signed_in(context, client, "steward", "OTHER")
    return Api(context, client, practitioner, steward, steward_name)


def _queue(api: Api, status: str = "all") -> dict[str, dict[str, Any]]:
    answer = api.client.get(
        "/api/v1/disputes",
        params={"kind": "possible_match", "status": status, "limit": 200},
        headers=api.steward,
    )
    assert answer.status_code == 200, answer.text
    return {item["dispute_id"]: item for item in answer.json()}


def _decide(api: Api, queue_id: str, decision: str, headers: dict[str, str] | None = None):
    return api.client.post(
        f"/api/v1/disputes/{queue_id}/decision",
        json={"decision": decision, "note": f"{decision}: checked with both agencies"},
        headers=headers or api.steward,
    )


def _correction(settings: Settings, queue_id: str) -> tuple[bytes, dict[str, Any]]:
    (message,) = [
        m
        for m in read_topic(settings, settings.corrections_topic)
        if codec(CORRECTION).decode(m.value())["dispute_id"] == queue_id
    ]
    return message.value(), codec(CORRECTION).decode(message.value())


def test_a_possible_match_is_in_the_queue_and_a_confirmation_makes_one_person(api, scene, kafka):
    possible = scene.possible
    queue_id, first, second = (
        possible["possible_id"],
        possible["candidate_person_id"],
        possible["person_id"],
    )
    item = _queue(api, "open")[queue_id]
    assert item["kind"] == "possible_match" and item["status"] == "open"
    assert (item["person_id"], item["candidate_person_id"]) == (second, first)
    assert (item["record"]["agency"], item["record"]["event_id"]) == (
        "POLICE",
        possible["event_id"],
    )
    assert item["record"]["date_of_birth"] == "1957-03-13"  # the minimum dataset, side by side
    assert [r["agency"] for r in item["candidate_records"]] == ["HEALTH"]
    assert item["candidate_records"][0]["date_of_birth"] == "1957-02-13"
    assert {c["field"] for c in item["evidence"]} >= {"given_name", "date_of_birth", "gender"}
    assert item["match_weight"] == possible["match_weight"]
    shown = repr(item)
    assert "contact" not in shown and "case_status" not in shown
    # with the disputes by default, and as their own kind
    everything = api.client.get("/api/v1/disputes", params={"limit": 200}, headers=api.steward)
    assert queue_id in {i["dispute_id"] for i in everything.json() if i["kind"] == "possible_match"}

    # role checks: only a steward sees the queue and decides; a dispute's decision is refused
    assert api.client.get("/api/v1/disputes", headers=api.practitioner).status_code == 403
    assert _decide(api, queue_id, "merge", api.practitioner).status_code == 403
    assert _decide(api, queue_id, "split").status_code == 422

    decided = _decide(api, queue_id, "merge")
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "merge" and decided.json()["correction_id"]
    raw, correction = _correction(kafka, queue_id)
    assert correction["kind"] == "CONFIRM_MATCH"
    assert {correction["person_id"], correction["other_person_id"]} == {first, second}
    assert correction["correction_id"] == decided.json()["correction_id"]
    assert _decide(api, queue_id, "merge").status_code == 409  # decided once

    # the resolution stage applies the very correction: an ordinary, explained merge
    scene.correct(raw)
    for asked in (first, second):
        page = api.client.get(f"/api/v1/persons/{asked}", params=PURPOSE, headers=api.practitioner)
        assert page.status_code == 200, page.text
        assert page.json()["person_id"] == first  # the older identity survives
        assert {i["event_id"] for i in page.json()["interactions"]} >= {
            possible["event_id"],
            item["candidate_records"][0]["event_id"],
        }
    history = api.client.get(
        f"/api/v1/persons/{first}/history", params=PURPOSE, headers=api.practitioner
    )
    assert history.status_code == 200, history.text
    merges = [e for e in history.json()["entries"] if e["kind"] == "merge"]
    assert len(merges) == 1 and merges[0]["retired_person_id"] == second
    assert merges[0]["why"]["contributions"], merges[0]  # explained, as any merge
    assert merges[0]["triggered_by"] is None  # a steward's decision, not an event

    assert queue_id not in _queue(api, "open")
    assert _queue(api, "decided")[queue_id]["status"] == "merged"
    audit = api.context.audit.search("OTHER", username=api.steward_name)
    actions = [(e["action"], e["outcome"]) for e in audit]
    assert ("decide_dispute", "refused") in actions and ("list_disputes", "shown") in actions
    (confirmed,) = [e for e in audit if (e["action"], e["outcome"]) == ("decide_dispute", "shown")]
    assert {first, second} <= set(confirmed["person_ids"])


def test_marked_different_they_stay_apart_and_leave_the_queue(api, scene, kafka):
    possible = scene.possible
    queue_id = possible["possible_id"]
    decided = _decide(api, queue_id, "different")
    assert decided.status_code == 200, decided.text
    raw, correction = _correction(kafka, queue_id)
    assert correction["kind"] == "MARK_DIFFERENT"
    scene.correct(raw)

    # a later record joins the second person and is kept for review beside the first again
    run = possible["event_id"].removesuffix("pm-2")
    scene.resolve(later_record(run))
    later = [
        codec(POSSIBLE_MATCH).decode(v)
        for v in scene.publisher.on(kafka.possible_matches_topic)
        if codec(POSSIBLE_MATCH).decode(v)["event_id"] == f"{run}pm-3"
    ]
    assert [p["candidate_person_id"] for p in later] == [possible["candidate_person_id"]]
    open_ids = _queue(api, "open")
    assert queue_id not in open_ids and later[0]["possible_id"] not in open_ids
    assert _decide(api, later[0]["possible_id"], "merge").status_code == 409  # pair decided
    page = api.client.get(
        f"/api/v1/persons/{possible['person_id']}", params=PURPOSE, headers=api.practitioner
    )
    assert page.json()["person_id"] == possible["person_id"]  # apart
    assert scene.publisher.on(kafka.identity_merges_topic) == []


def test_an_unknown_queue_entry_is_a_404(api):
    assert _decide(api, "Q0000000000000000", "merge").status_code == 404
