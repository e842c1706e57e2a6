"""Headers and surfaces: every API answer is not to be stored and carries the web page's
security headers; the interactive documentation is served in development only; metrics and
the pipeline status need the operator token when one is configured."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mast_core.settings import Settings
from query_api.app import create_app
from query_api.context import ApiContext
from tests.integration.signing_in import TOKEN_URL, add_user, sign_in_form, token_headers

pytestmark = pytest.mark.integration

OPERATOR_TOKEN = "operator-" + "x" * 32
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _variant(settings: Settings, **changes) -> Settings:
    return Settings(**{**settings.model_dump(), **changes})


@pytest.fixture
def api(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    return context, TestClient(create_app(lambda: {"ready": True}, context))


def test_every_api_answer_carries_no_store_and_the_security_headers(api):
    context, client = api
    name = add_user(context, "manager", "POLICE")
    signed_in = client.post(TOKEN_URL, data=sign_in_form(name))
    headers = token_headers(signed_in)
    answers = {
        "sign-in": signed_in,
        "wrong password": client.post(
            TOKEN_URL, data={"username": name, "password": "not the password"}
        ),
        "notice": client.get("/api/v1/auth/notice"),
        "me": client.get("/api/v1/me", headers=headers),
        "no token": client.get("/api/v1/me"),
        "purposes": client.get("/api/v1/purposes", headers=headers),
        "no such person": client.get(
            "/api/v1/persons/P-none", params={"purpose": "welfare_check"}, headers=headers
        ),
        "invalid": client.get("/api/v1/audit", params={"since": "never"}, headers=headers),
        "audit csv": client.get("/api/v1/audit", params={"format": "csv"}, headers=headers),
        "status": client.get("/api/v1/status"),
        "web page": client.get("/"),
        "script": client.get("/static/main.js"),
    }
    for what, answer in answers.items():
        for header, value in SECURITY_HEADERS.items():
            assert answer.headers.get(header) == value, (what, header, answer.headers)
        assert "default-src 'self'" in answer.headers.get("content-security-policy", ""), what
        assert answer.headers.get_list("cache-control") == ["no-store"], what


def test_interactive_docs_are_served_in_development_only(settings, clickhouse):
    for environment, served in (("test", False), ("production", False), ("development", True)):
        changes = {"environment": environment}
        if environment == "production":
            changes["clickhouse_url"] = "http://clickhouse.invalid:8123"
        context = ApiContext.create(_variant(settings, **changes), clickhouse)
        client = TestClient(create_app(lambda: {"ready": True}, context))
        for page in ("/docs", "/redoc"):
            assert (client.get(page).status_code == 200) is served, (environment, page)
        assert client.get("/openapi.json").status_code == 200


def test_metrics_and_status_need_the_operator_token_when_one_is_configured(settings, clickhouse):
    guarded = _variant(settings, operator_token=OPERATOR_TOKEN)
    for context in (None, ApiContext.create(guarded, clickhouse)):
        client = TestClient(
            create_app(lambda: {"ready": True, "role": "api"}, context, settings=guarded)
        )
        for path in ("/metrics", "/api/v1/status"):
            assert client.get(path).status_code == 401, path
            wrong = {"Authorization": "Bearer not-the-token"}
            assert client.get(path, headers=wrong).status_code == 401, path
            bearer = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            assert client.get(path, headers=bearer).status_code == 200, path
            header = {"X-Operator-Token": OPERATOR_TOKEN}
            assert client.get(path, headers=header).status_code == 200, path
        assert client.get("/health").status_code == 200  # probes stay open
        assert client.get("/ready").status_code == 200


def test_status_answers_without_a_token_when_none_is_configured(settings, clickhouse):
    client = TestClient(
        create_app(lambda: {"ready": True}, ApiContext.create(settings, clickhouse))
    )
    assert client.get("/api/v1/status").json()["ready"] is True
    assert client.get("/metrics").status_code == 200
