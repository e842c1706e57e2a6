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
    ("get", "/api/v1/addresses/{address_id}"),
    ("get", "/api/v1/alerts"),
    ("post", "/api/v1/alerts/{alert_id}/acknowledge"),
    ("post", "/api/v1/alerts/{alert_id}/assign"),
    ("get", "/api/v1/stats/matching"),
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
