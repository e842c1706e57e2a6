"""Person search scores with the linkage parameters the pipeline has learnt: the resolution
stage publishes its resolver's set on the linkage-parameters topic (the real broker), the
ClickHouse sink's consumer stores it in ``linkage_parameters`` (real chDB), and the API's
search reads the newest set, cached, falling back to the shipped set when there is none or
it cannot be read.

A database of this module's own: a set with another prior must not reach other modules'
searches."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from clickhouse_connect.driver.client import Client
from fastapi.testclient import TestClient

from mast_core.avro import ACCEPTED_BATCH, codec
from mast_core.events import encode_interaction
from mast_core.linkage.parameters import Parameters
from mast_core.settings import Settings
from messaging.clients import make_admin
from messaging.topics import ensure_topics, topic_specs
from query_api.app import create_app
from query_api.context import ApiContext
from query_api.search import LearntParameters, PersonQuery, PersonSearch, confidence
from sinks.clickhouse import apply_migrations, connect
from sinks.clickhouse.consumer import ClickHouseSink
from sinks.clickhouse.writer import SinkWriter
from stream_processors.pipeline import Pipeline
from stream_processors.publishing import OutputPublisher
from stream_processors.resolution import ResolutionStage
from tests.factories import namesake_trio
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

SHIFT = -6.0
"""Bits taken from the prior of the set the pipeline is started with: every search weight
falls by exactly this much against the shipped set."""
RECEIVED = datetime(2026, 4, 3, 21, 0, 0, 123000, tzinfo=UTC)
FAMILY = "Quenby" + uuid.uuid4().hex[:4]


@pytest.fixture(scope="module")
def own(kafka: Settings) -> Settings:
    run = uuid.uuid4().hex[:8]
    settings = kafka.model_copy(
        update={
            "topic_prefix": f"learnt-{run}.",
            "app_id": f"mast-learnt-{run}",
            "clickhouse_database": f"mast_learnt_{run}",
        }
    )
    ensure_topics(make_admin(settings), topic_specs(settings))
    return settings


@pytest.fixture(scope="module")
def client(own: Settings, clickhouse: Client) -> Client:
    """The session's engine (chDB allows one a process), a database of this module's own."""
    own_client = connect(own)
    apply_migrations(own_client)
    return own_client


@pytest.fixture(scope="module")
def learnt(own: Settings, tmp_path_factory: pytest.TempPathFactory) -> Parameters:
    shipped = Parameters.default()
    parameters = dataclasses.replace(shipped, prior_weight=shipped.prior_weight + SHIFT)
    path = tmp_path_factory.mktemp("learnt") / "parameters.json"
    parameters.save(path)
    return Parameters.load(path)


@pytest.fixture(scope="module")
def sink(own: Settings, client: Client) -> Iterator[ClickHouseSink]:
    running = ClickHouseSink(own, SinkWriter(client))
    running.start()
    yield running
    running.stop()


def _rows(client: Client, sql: str) -> list[tuple]:
    return [tuple(row) for row in client.query(sql).result_rows]


def _wait_for(client: Client, sql: str, expected: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = _rows(client, sql)
        if found == expected:
            return
        assert time.monotonic() < deadline, f"{sql}: {found} rather than {expected}"
        time.sleep(0.25)


def test_search_scores_with_the_shipped_set_while_none_is_published(client):
    assert _rows(client, "SELECT count() FROM linkage_parameters") == [(0,)]
    assert LearntParameters(client).current().version == Parameters.default().version


def test_a_published_set_reaches_the_table_and_search_scores_with_it(
    own, client, learnt, sink, tmp_path
):
    assert learnt.version != Parameters.default().version
    # The resolution stage, started with the set, resolves two records of one woman and a
    # namesake born another year; the first event publishes the set.
    path = tmp_path / "parameters.json"
    learnt.save(path)
    stage = ResolutionStage.fresh(parameters_file=path)
    pipeline = Pipeline(own, stage, OutputPublisher(own))
    events = namesake_trio(FAMILY, FAMILY)
    batch = codec(ACCEPTED_BATCH).encode({"events": [encode_interaction(e) for e in events]})
    pipeline.resolve(batch, 0, RECEIVED.timestamp())
    pipeline.publisher.flush_blocking()

    received_ms = round(RECEIVED.timestamp() * 1000)
    _wait_for(
        client,
        "SELECT version, toUnixTimestamp64Milli(published_at) FROM linkage_parameters FINAL",
        [(learnt.version, received_ms)],
    )
    _wait_for(
        client,
        f"SELECT uniqExact(event_id) FROM person_keys WHERE event_id LIKE '{FAMILY}-%'",
        [(3,)],
    )
    (body,) = _rows(client, "SELECT body FROM linkage_parameters")[0]
    assert Parameters.from_dict(json.loads(body)).version == learnt.version

    query = PersonQuery("Peggy", FAMILY, "13/02/1957", "ws1 2ab")
    shipped = PersonSearch(client, parameters=Parameters.default()).search(query)
    scored = PersonSearch(client, parameters=LearntParameters(client)).search(query)
    assert [m.person_id for m in scored] == [m.person_id for m in shipped][: len(scored)]
    best, best_shipped = scored[0], shipped[0]
    assert best.records == 2 and best.agencies == ["HEALTH", "POLICE"]
    assert best.match_weight == pytest.approx(best_shipped.match_weight + SHIFT, abs=0.011)
    # still a sensible confidence: the posterior of the weight, high for the right woman
    assert best.confidence == confidence(best.match_weight)
    assert 0.99 < best.confidence <= 1.0
    assert all(0.5 <= m.confidence <= 1.0 for m in scored)  # "more likely than not" or better

    # The API's search route, through its context's shared cache, scores the same way.
    context = ApiContext.create(own, client)
    api = TestClient(create_app(lambda: {"ready": True}, context))
    _name, headers = signed_in(context, api, "practitioner", "POLICE", prefix="learnt")
    response = api.post(
        "/api/v1/search/persons",
        json={
            "given_name": "peggy",
            "family_name": FAMILY,
            "date_of_birth": "13/02/1957",
            "postcode": "ws12ab",
            "purpose": "welfare_check",
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    first = response.json()[0]
    assert first["person_id"] == best.person_id
    assert first["match_weight"] == best.match_weight
    assert first["confidence"] == best.confidence


def test_the_newest_set_is_read_at_most_once_a_refresh_and_a_bad_body_falls_back(
    client, learnt, caplog
):
    writer = SinkWriter(client)
    later = datetime(2031, 1, 1, tzinfo=UTC)  # newer than anything the pipeline published
    now = [0.0]
    cached = LearntParameters(client, refresh_s=60.0, clock=lambda: now[0])
    before = cached.current()
    assert before.version == learnt.version

    newer = dataclasses.replace(learnt, prior_weight=learnt.prior_weight - 1.0)
    writer.write_parameter_sets(
        [{"version": newer.version, "published_at": later, "body": json.dumps(newer.to_dict())}]
    )
    now[0] = 59.0
    assert cached.current().version == learnt.version  # not read again within the minute
    now[0] = 60.0
    assert cached.current().version == newer.version

    # A newest set whose body is not a parameter set: the shipped set, and one warning that
    # names the version and the kind of problem, never the body.
    writer.write_parameter_sets(
        [
            {
                "version": "vbroken",
                "published_at": later + timedelta(days=1),
                "body": '{"prior_weight": "Margaret Thornbury"}',
            }
        ]
    )
    now[0] = 200.0
    with caplog.at_level(logging.WARNING, logger="query_api.search"):
        assert cached.current().version == Parameters.default().version
        now[0] = 400.0
        assert cached.current().version == Parameters.default().version
    warnings = [r.getMessage() for r in caplog.records if r.name == "query_api.search"]
    assert len(warnings) == 1
    assert "vbroken" in warnings[0] and "shipped parameters" in warnings[0]
    assert "Margaret" not in warnings[0]
