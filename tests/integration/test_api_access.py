"""Sign-in, tokens, lock-out, purposes and the manager's audit, on the real engine (chDB)."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient

from query_api.accounts import AccountError, UserStore
from query_api.app import create_app
from query_api.audit import Entry
from query_api.context import ApiContext
from query_api.security import Principal, issue_token
from tests.integration.signing_in import PASSWORD, TOKEN_URL, add_user, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def api(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    return context, TestClient(create_app(lambda: {"ready": True}, context))


def _sign_in(client: TestClient, username: str, password: str = PASSWORD, notice: bool = True):
    data = {"username": username, "password": password}
    if notice:
        data["notice_accepted"] = "true"
    return client.post(TOKEN_URL, data=data)


def _viewed_by(context: ApiContext, practitioner: str, organisation: str) -> str:
    """A new person id, and ``practitioner``'s view of that person in the audit."""
    person = f"P{uuid.uuid4().hex[:10]}"
    context.audit.record(
        Principal(practitioner, "practitioner", organisation),
        Entry(action="view_person", purpose="welfare_check", person_ids=[person]),
    )
    return person


def _audit(client: TestClient, reader: str, /, **params: str) -> httpx.Response:
    """The audit as ``reader`` reads it, signed in afresh, asked with ``params``."""
    return client.get("/api/v1/audit", params=params, headers=sign_in(client, reader))


def test_users_are_checked_when_added(api):
    context, _client = api
    store: UserStore = context.users
    for bad in (
        dict(password="short", role="practitioner", organisation="POLICE"),
        dict(password=PASSWORD, role="chief", organisation="POLICE"),
        dict(password=PASSWORD, role="manager", organisation="MI6"),
    ):
        with pytest.raises(AccountError):
            store.add(f"u-{uuid.uuid4().hex[:6]}", **bad)
    name = add_user(context)
    with pytest.raises(AccountError, match="exists"):
        store.add(name, PASSWORD, "practitioner", "POLICE")
    stored = store.get(name)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_sign_in_needs_the_password_and_the_notice(api):
    context, client = api
    name = add_user(context)
    assert "audited" in client.get("/api/v1/auth/notice").json()["notice"]
    assert _sign_in(client, name, "wrong password!").status_code == 401
    assert _sign_in(client, "nobody-at-all").status_code == 401
    refused = _sign_in(client, name, notice=False)
    assert refused.status_code == 403
    assert "notice" in refused.json()["detail"]
    granted = _sign_in(client, name)
    assert granted.status_code == 200
    body = granted.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "practitioner"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == name


def test_missing_expired_forged_and_disabled_tokens_are_refused(api):
    context, client = api
    name = add_user(context)
    assert client.get("/api/v1/purposes").status_code == 401
    expired, _ = issue_token(Principal(name, "practitioner", "POLICE"), context.key, -1)
    assert (
        client.get("/api/v1/purposes", headers={"Authorization": f"Bearer {expired}"}).status_code
        == 401
    )
    forged, _ = issue_token(Principal(name, "manager", "POLICE"), "a different key " * 3, 30)
    assert (
        client.get("/api/v1/purposes", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    headers = sign_in(client, name)
    assert client.get("/api/v1/purposes", headers=headers).status_code == 200
    context.users.disable(name)
    assert client.get("/api/v1/purposes", headers=headers).status_code == 401
    assert _sign_in(client, name).status_code == 401


def test_repeated_failures_lock_the_account(api, settings):
    context, client = api
    name = add_user(context)
    for _ in range(settings.login_max_failures):
        assert _sign_in(client, name, "not the password").status_code == 401
    locked = _sign_in(client, name)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_purposes_are_the_configured_list(api, settings):
    context, client = api
    purposes = client.get("/api/v1/purposes", headers=sign_in(client, add_user(context))).json()
    assert {p["code"]: p["label"] for p in purposes} == settings.purposes


def test_managers_see_their_own_organisation_only_and_export_is_audited(api):
    context, client = api
    practitioner = add_user(context, "practitioner", "FIRE")
    manager = add_user(context, "manager", "FIRE")
    other_manager = add_user(context, "manager", "HEALTH")
    person = _viewed_by(context, practitioner, "FIRE")
    assert _audit(client, practitioner).status_code == 403

    mine = _audit(client, manager, person_id=person).json()
    assert [(e["username"], e["action"], e["purpose"]) for e in mine] == [
        (practitioner, "view_person", "welfare_check")
    ]
    assert _audit(client, other_manager, person_id=person).json() == []

    exported = _audit(client, manager, person_id=person, format="csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    # the manager's own reading of this person's audit is in it: every read is audited
    assert [(row["username"], row["action"]) for row in rows] == [
        (manager, "view_audit"),
        (practitioner, "view_person"),
    ]
    after = _audit(client, manager, username=manager).json()
    assert [e["action"] for e in after] == ["export_audit", "view_audit"]
    assert _audit(client, manager, since="not-a-date").status_code == 422


def test_refusals_of_the_audit_are_audited_with_the_person_asked_about(api):
    context, client = api
    practitioner = add_user(context, "practitioner", "HOUSING")
    manager = add_user(context, "manager", "HOUSING")
    admin = add_user(context, "admin", "OTHER")
    person = _viewed_by(context, practitioner, "HOUSING")
    refused = _audit(client, manager, person_id=person, organisation="POLICE")
    assert refused.status_code == 403
    as_practitioner = _audit(client, practitioner, person_id=person)
    assert as_practitioner.status_code == 403
    own = _audit(client, manager, person_id=person).json()
    refusals = [
        (e["username"], e["action"], e["outcome"]) for e in own if e["outcome"] == "refused"
    ]
    assert sorted(refusals) == sorted(
        [(manager, "view_audit", "refused"), (practitioner, "view_audit", "refused")]
    )
    # an administrator may read any organisation's audit
    theirs = _audit(client, admin, person_id=person, organisation="HOUSING")
    assert theirs.status_code == 200
    assert {e["username"] for e in theirs.json()} == {practitioner, manager}
    assert _audit(client, admin, organisation="NOWHERE").status_code == 422


def test_the_audit_takes_days_as_the_document_writes_them_and_any_such_day(api):
    context, client = api
    manager = add_user(context, "manager", "FIRE")
    headers = sign_in(client, manager)
    for written in ("0", "20240101", "1 Jan 2024", "2024-02-30"):  # not YYYY-MM-DD days
        answer = client.get("/api/v1/audit", params={"until": written}, headers=headers)
        assert answer.status_code == 422, (written, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["query", "until"]
    # days beyond what the log's column holds read as its ends: the same entries, no 500
    for since, until in (("0249-07-11", "9999-12-31"), ("0001-01-01", "0001-01-01")):
        answer = client.get(
            "/api/v1/audit", params={"since": since, "until": until}, headers=headers
        )
        assert answer.status_code == 200, (since, until, answer.text)
    wide = client.get(
        "/api/v1/audit", params={"since": "0249-07-11", "until": "9999-12-31"}, headers=headers
    ).json()
    assert [e["action"] for e in wide][:1] == ["view_audit"]  # the reads just made are there
    before = client.get("/api/v1/audit", params={"until": "0001-01-01"}, headers=headers).json()
    assert before == []
