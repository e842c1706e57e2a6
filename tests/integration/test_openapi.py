"""The OpenAPI document is valid OpenAPI 3 and describes every endpoint a client needs, with
the OAuth2 password flow that signs in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from query_api.app import create_app
from query_api.context import ApiContext

pytestmark = pytest.mark.integration

ENDPOINTS = {
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/auth/notice"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/purposes"),
    ("get", "/api/v1/agencies"),
    ("post", "/api/v1/search/persons"),
    ("post", "/api/v1/search/addresses"),
    ("get", "/api/v1/persons/{person_id}"),
    ("get", "/api/v1/persons/{person_id}/history"),
    ("post", "/api/v1/persons/{person_id}/history/view"),
    ("get", "/api/v1/addresses/{address_id}"),
    ("get", "/api/v1/alerts"),
    ("post", "/api/v1/alerts/{alert_id}/acknowledge"),
    ("post", "/api/v1/alerts/{alert_id}/assign"),
    ("get", "/api/v1/stats/matching"),
    ("post", "/api/v1/persons/{person_id}/disputes"),
    ("get", "/api/v1/disputes"),
    ("post", "/api/v1/disputes/{dispute_id}/decision"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/seen"),
    ("get", "/api/v1/audit"),
    ("post", "/api/v1/ingest"),
    ("get", "/api/v1/status"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
}


def test_the_openapi_document_is_valid_and_complete(settings, clickhouse):
    app = create_app(lambda: {"ready": True}, ApiContext.create(settings, clickhouse))
    document = TestClient(app).get("/openapi.json").json()
    validate(document)
    described = {(method, path) for path, item in document["paths"].items() for method in item}
    assert described >= ENDPOINTS
    assert "/" not in document["paths"]  # the web page is not an API operation
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("flows", {}).get("password", {}).get("tokenUrl") for s in schemes.values())
    search = document["paths"]["/api/v1/search/persons"]["post"]
    assert search["security"], "searches must declare that they need a token"
    person = document["paths"]["/api/v1/persons/{person_id}"]["get"]
    assert "purpose" in {p["name"] for p in person["parameters"]}


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_has_a_stable_id_and_declares_what_it_answers(settings, clickhouse):
    app = create_app(lambda: {"ready": True}, ApiContext.create(settings, clickhouse))
    document = TestClient(app).get("/openapi.json").json()
    ids = [operation.get("operationId") for _m, _p, operation in _operations(document)]
    assert all(isinstance(i, str) and i.isidentifier() and i.islower() for i in ids), ids
    assert len(set(ids)) == len(ids), "operation ids are unique"
    assert {"search_persons", "get_person", "get_address", "list_alerts", "read_audit"} <= set(ids)
    for method, path, operation in _operations(document):
        answers = operation["responses"]
        ok = answers.get("200") or answers.get("201") or answers.get("204")
        assert ok is not None, (method, path)
        for shown in ("200", "201"):
            if shown in answers:
                content = answers[shown].get("content", {})
                assert content and all(c.get("schema") for c in content.values()), (method, path)
        for code, answer in answers.items():
            if code.startswith("4"):  # every refusal says what its body holds
                assert answer["content"]["application/json"]["schema"], (method, path, code)


def _schema_of(document: dict, path: str, method: str = "get") -> dict:
    schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    return schema["schema"]


def test_the_most_sensitive_answers_declare_their_fields(settings, clickhouse):
    app = create_app(lambda: {"ready": True}, ApiContext.create(settings, clickhouse))
    document = TestClient(app).get("/openapi.json").json()
    models = document["components"]["schemas"]
    assert _schema_of(document, "/api/v1/persons/{person_id}")["$ref"].endswith("/PersonPage")
    assert _schema_of(document, "/api/v1/addresses/{address_id}")["$ref"].endswith("/AddressPage")
    history = _schema_of(document, "/api/v1/persons/{person_id}/history")
    assert history["$ref"].endswith("/PersonHistory")
    assert "why" in models["PersonInteraction"]["properties"]
    assert "why" in models["AgencyRecord"]["properties"]
    assert set(models["Why"]["properties"]) == {
        "sentence",
        "strength",
        "match_weight",
        "contributions",
    }
    assert _schema_of(document, "/api/v1/alerts")["items"]["$ref"].endswith("/AlertItem")
    assert _schema_of(document, "/api/v1/audit")["items"]["$ref"].endswith("/AuditEntry")
    page = models["PersonPage"]["properties"]
    assert {"details", "records", "interactions", "open_cases", "alerts"} <= set(page)
    assert "notes" not in str(models).lower()  # MAST holds no case notes: none is declared
    audit = document["paths"]["/api/v1/audit"]["get"]["responses"]["200"]["content"]
    assert set(audit) == {"application/json", "text/csv"}
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert set(metrics) == {"text/plain"}


def test_the_purpose_is_required_from_the_configured_list(settings, clickhouse):
    app = create_app(lambda: {"ready": True}, ApiContext.create(settings, clickhouse))
    document = TestClient(app).get("/openapi.json").json()
    codes = list(settings.purposes)
    person = document["paths"]["/api/v1/persons/{person_id}"]["get"]
    purpose = next(p for p in person["parameters"] if p["name"] == "purpose")
    assert purpose["required"] is True and purpose["schema"]["enum"] == codes
    for body in ("PersonSearchRequest", "AddressSearchRequest", "DisputeRequest"):
        model = document["components"]["schemas"][body]
        assert "purpose" in model["required"]
        assert model["properties"]["purpose"]["enum"] == codes
