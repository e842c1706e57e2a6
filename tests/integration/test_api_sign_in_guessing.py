"""Guessing passwords and usernames: lock-out that holds when forty wrong passwords arrive
at once, sign-in that costs the same password check for unknown and disabled users as for
known ones, and alert assignment that does not say which usernames exist."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
BURST = 40


@pytest.fixture
def context(settings, clickhouse) -> ApiContext:
    return ApiContext.create(settings, clickhouse)


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The hash of every password verification made, in any thread."""
    checks: list[str] = []
    verify = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        checks.append(hash if isinstance(hash, str) else hash.decode())
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return checks


def _user(context: ApiContext, org: str = "POLICE") -> str:
    name = f"guess-{uuid.uuid4().hex[:8]}"
    context.users.add(name, PASSWORD, "practitioner", org)
    return name


def _form(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password, "notice_accepted": "true"}


def test_forty_parallel_wrong_passwords_are_checked_no_more_than_the_limit(
    context, live_server, settings, password_checks
):
    name = _user(context)
    start = threading.Barrier(BURST)

    def guess(i: int) -> int:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            return client.post(
                "/api/v1/auth/token", data=_form(name, f"guess number {i}")
            ).status_code

    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(guess, range(BURST)))

    limit = settings.login_max_failures
    checked = len(password_checks)
    assert checked <= limit, f"{checked} of {BURST} wrong passwords were checked"
    assert answers.count(401) == checked
    assert answers.count(429) == BURST - checked
    window = timedelta(minutes=settings.login_window_minutes)
    assert context.users.recent_failures(name, window) <= limit
    with httpx.Client(base_url=live_server, timeout=60) as client:
        right = client.post("/api/v1/auth/token", data=_form(name, PASSWORD))
    assert right.status_code == 429  # locked: even the right password is refused
    assert len(password_checks) == checked


def test_unknown_and_disabled_users_cost_the_same_password_check(context, password_checks):
    client = TestClient(create_app(lambda: {"ready": True}, context))
    known = _user(context)
    disabled = _user(context)
    context.users.disable(disabled)
    real_hash = context.users.get(known).password_hash
    parameters = real_hash.rsplit("$", 2)[0]  # $argon2id$v=19$m=…,t=…,p=…

    for username in (known, f"nobody-{uuid.uuid4().hex[:8]}", disabled):
        before = len(password_checks)
        answer = client.post("/api/v1/auth/token", data=_form(username, "not the password"))
        assert answer.status_code == 401
        assert answer.json() == {"detail": "wrong username or password"}
        made = password_checks[before:]
        assert len(made) == 1, f"{username}: {len(made)} password checks"
        assert made[0].rsplit("$", 2)[0] == parameters  # a hash as costly as a real one


def test_assigning_does_not_say_which_usernames_exist(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    caller = _user(context, "CHILDREN_SOCIAL_CARE")
    colleague = _user(context, "CHILDREN_SOCIAL_CARE")
    elsewhere = _user(context, "POLICE")
    gone = _user(context, "CHILDREN_SOCIAL_CARE")
    context.users.disable(gone)
    token = client.post("/api/v1/auth/token", data=_form(caller, PASSWORD)).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    alert = f"AL{uuid.uuid4().hex[:10]}"
    at = datetime.now(UTC)
    SinkWriter(clickhouse).write_alerts(
        [
            {
                "alert_id": alert,
                "rule_id": "assign_probe",
                "severity": "HIGH",
                "subject_kind": "PERSON",
                "subject_id": "P-assign-probe",
                "window_start": at - timedelta(days=30),
                "window_end": at,
                "counts_by_agency": {"POLICE": 2, "CHILDREN_SOCIAL_CARE": 1},
                "evidence_event_ids": ["e1"],
                "summary": "probe",
                "raised_at": at,
            }
        ]
    )

    def assign(assignee: str) -> httpx.Response:
        return client.post(
            f"/api/v1/alerts/{alert}/assign", json={"assignee": assignee}, headers=headers
        )

    answers = {
        who: (r.status_code, r.text)
        for who, r in (
            ("unknown", assign(f"nobody-{uuid.uuid4().hex[:8]}")),
            ("another organisation", assign(elsewhere)),
            ("disabled", assign(gone)),
        )
    }
    assert len(set(answers.values())) == 1, answers
    assert answers["unknown"][0] == 422
    assert assign(colleague).status_code == 204
    entries = [
        (e["outcome"], e["person_ids"])
        for e in context.audit.search("CHILDREN_SOCIAL_CARE", username=caller)
        if e["action"] == "alert_assigned"
    ]
    assert entries == [("shown", ["P-assign-probe"])] + [("refused", ["P-assign-probe"])] * 3
