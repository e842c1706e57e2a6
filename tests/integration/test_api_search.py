"""Search by person through the API on the real engine: the resolver's normalisation and
scoring, purposes enforced, every search audited, hostile input refused cleanly."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from stream_processors.resolution import ResolutionStage, resolved_record
from tests.factories import letters, namesake_trio
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def family() -> str:
    """A surname of this run's own, so other tests' people never match."""
    return "Quill" + letters(uuid.uuid4().hex[:5])


@pytest.fixture(scope="module")
def people(clickhouse, family):
    stage = ResolutionStage.fresh()
    events = namesake_trio(family, uuid.uuid4().hex[:6], line1="12 Alder St")
    outputs = [stage.process(event) for event in events]
    SinkWriter(clickhouse).write_resolved([resolved_record(o) for o in outputs if o])
    return [o.resolved["person_id"] for o in outputs if o]


@pytest.fixture
def api(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    name, headers = signed_in(context, client, "practitioner", "POLICE", prefix="searcher")
    return context, client, headers, name


def test_a_nickname_and_messy_details_find_the_person_first(api, people, family):
    context, client, headers, name = api
    older, same, younger = people
    assert older == same  # the resolver linked Peggy to Margaret
    response = client.post(
        "/api/v1/search/persons",
        json={
            "given_name": "peggy",
            "family_name": family.upper(),
            "date_of_birth": "13/02/1957",
            "postcode": "ws12ab",
            "purpose": "welfare_check",
            "purpose_detail": "ref 123",
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    results = response.json()
    assert results[0]["person_id"] == older
    assert results[0]["confidence"] > 0.99
    assert results[0]["records"] == 2
    assert results[0]["agencies"] == ["HEALTH", "POLICE"]
    assert all(r["person_id"] != younger or r["confidence"] < 0.5 for r in results)
    entries = context.audit.search("POLICE", username=name)
    assert entries[0]["action"] == "search_persons"
    assert entries[0]["purpose"] == "welfare_check"
    assert entries[0]["purpose_detail"] == "ref 123"
    assert older in entries[0]["person_ids"]
    assert "peggy" in entries[0]["asked"]


def test_a_family_name_and_date_of_birth_without_a_given_name(api, people, family):
    _context, client, headers, _name = api
    older, _same, younger = people
    response = client.post(
        "/api/v1/search/persons",
        json={"family_name": family, "date_of_birth": "1957-02-13", "purpose": "welfare_check"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    results = response.json()
    assert results[0]["person_id"] == older
    assert younger not in [r["person_id"] for r in results]  # born in another year
    alone = client.post(
        "/api/v1/search/persons",
        json={"family_name": family, "purpose": "welfare_check"},
        headers=headers,
    )
    assert alone.status_code == 422
    assert "date of birth or a postcode" in alone.json()["detail"]


def test_purpose_is_required_and_must_be_on_the_list(api, family):
    context, client, headers, name = api
    body = {"given_name": "Margaret", "family_name": family}
    assert client.post("/api/v1/search/persons", json=body, headers=headers).status_code == 422
    unknown = client.post(
        "/api/v1/search/persons", json=body | {"purpose": "curiosity"}, headers=headers
    )
    assert unknown.status_code == 422
    assert "welfare_check" in unknown.json()["detail"]
    refused = context.audit.search("POLICE", username=name)[0]
    assert (refused["action"], refused["outcome"]) == ("search_persons", "refused")
    assert (
        client.post("/api/v1/search/persons", json=body | {"purpose": "welfare_check"}).status_code
        == 401
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("date_of_birth", "31/31/1999"),
        ("date_of_birth", "yesterday"),
        ("given_name", "x" * 500),
        ("postcode", "W" * 40),
        ("purpose_detail", "y" * 5000),
        ("unexpected", "field"),
    ],
)
def test_bad_input_is_a_clear_4xx(api, field, value):
    _context, client, headers, _name = api
    body = {"given_name": "Ann", "family_name": "Kestrel", "purpose": "welfare_check"}
    response = client.post("/api/v1/search/persons", json=body | {field: value}, headers=headers)
    assert response.status_code == 422, response.text


def test_sql_meta_characters_are_only_data(api, clickhouse):
    _context, client, headers, _name = api
    hostile = "x'); DROP TABLE users; --"
    body = {
        "given_name": hostile,
        "family_name": hostile + ' " \\ %s {x:String}',
        "date_of_birth": None,
        "postcode": "'; --",
        "purpose": "welfare_check",
        "purpose_detail": hostile,
    }
    response = client.post("/api/v1/search/persons", json=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == []
    assert clickhouse.query("EXISTS TABLE users").result_rows == [(1,)]


def _search_cases(family: str) -> list[tuple[str, dict, bool]]:
    """(route, body, whether the document calls it valid) for the rules the schemas state."""
    purpose = {"purpose": "welfare_check"}
    return [
        ("persons", {**purpose, "given_name": "Margaret", "family_name": family}, True),
        ("persons", {**purpose, "family_name": family, "date_of_birth": "13/02/1957"}, True),
        ("persons", {**purpose, "family_name": family, "postcode": "WS1 2AB"}, True),
        ("persons", {**purpose, "given_name": "Margaret", "date_of_birth": "1957-02-13"}, True),
        ("persons", {"given_name": "Margaret", "family_name": family}, False),
        ("persons", {**purpose, "postcode": "WS1 2AB"}, False),
        ("persons", {**purpose, "family_name": family}, False),
        ("persons", {**purpose, "given_name": "Margaret", "postcode": "WS1 2AB"}, True),
        ("persons", {**purpose, "given_name": "Margaret"}, False),
        ("persons", {**purpose, "given_name": " ", "family_name": family}, False),
        ("persons", {**purpose, "given_name": "Margaret", "family_name": None}, False),
        ("addresses", {**purpose, "postcode": "WS3 1EE"}, True),
        ("addresses", {**purpose, "q": "7 Larch Close, Walsall"}, True),
        ("addresses", {**purpose, "town": "Walsall"}, False),
        ("addresses", {**purpose, "q": "   "}, False),
        ("addresses", {"postcode": "WS3 1EE"}, False),
    ]


def test_the_search_rules_the_document_states_are_the_ones_the_api_applies(api, people, family):
    _context, client, headers, _name = api
    document = client.get("/openapi.json").json()["components"]["schemas"]
    bodies = {
        "persons": Draft202012Validator(document["PersonSearchRequest"]),
        "addresses": Draft202012Validator(document["AddressSearchRequest"]),
    }
    disagreements = []
    for route, body, valid in _search_cases(family):
        said_valid = bodies[route].is_valid(body)
        answer = client.post(f"/api/v1/search/{route}", json=body, headers=headers)
        if said_valid != valid or (answer.status_code == 200) != valid:
            disagreements.append((route, body, said_valid, answer.status_code, answer.text))
    assert disagreements == []
