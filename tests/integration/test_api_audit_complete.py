"""The audit is complete: a manager's reading of the audit, a look-up refused for its
purpose however the purpose was wrong (missing, empty, over-long, not on the list) or for
any other malformed part, and a view of an id that does not exist are each recorded with
who asked, what, and the outcome."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.audit import Entry
from query_api.context import ApiContext
from query_api.security import Principal
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

ORG = "EDUCATION"


@pytest.fixture
def api(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    return context, client


def _entries(context: ApiContext, name: str) -> list[dict]:
    return list(reversed(context.audit.search(ORG, username=name)))  # oldest first


def test_a_managers_reading_of_the_audit_is_audited(api):
    context, client = api
    manager, headers = signed_in(context, client, "manager", ORG)
    person = f"P{uuid.uuid4().hex[:10]}"
    context.audit.record(
        Principal("someone", "practitioner", ORG),
        Entry(action="view_person", purpose="welfare_check", person_ids=[person]),
    )
    read = client.get(
        "/api/v1/audit",
        params={"person_id": person, "username": "someone", "since": "2020-01-01"},
        headers=headers,
    )
    assert read.status_code == 200
    assert [e["username"] for e in read.json()] == ["someone"]
    entries = _entries(context, manager)
    assert [(e["action"], e["outcome"]) for e in entries] == [("view_audit", "shown")]
    assert entries[0]["person_ids"] == [person]
    assert '"username": "someone"' in entries[0]["asked"]
    assert '"organisation": "EDUCATION"' in entries[0]["asked"]


PURPOSE_PROBLEMS = {
    "missing": None,
    "empty": "",
    "spaces": "   ",
    "over-long": "welfare_check" * 6,
    "not on the list": "curiosity",
}


def _look_ups(purpose: str | None) -> dict[str, dict]:
    """Each route that declares a purpose, asked with ``purpose`` (left out when None)."""
    chosen = {} if purpose is None else {"purpose": purpose}
    return {
        "search_persons": {
            "method": "POST",
            "url": "/api/v1/search/persons",
            "json": {"given_name": "Ada", "family_name": "Lovelace", **chosen},
        },
        "search_addresses": {
            "method": "POST",
            "url": "/api/v1/search/addresses",
            "json": {"postcode": "WS3 1EE", **chosen},
        },
        "view_person": {"method": "GET", "url": "/api/v1/persons/P-asked", "params": chosen},
        "view_address": {"method": "GET", "url": "/api/v1/addresses/A-asked", "params": chosen},
    }


@pytest.mark.parametrize("problem", PURPOSE_PROBLEMS)
def test_every_purpose_refusal_is_answered_alike_and_audited(api, problem):
    context, client = api
    name, headers = signed_in(context, client, "practitioner", ORG)
    details = set()
    for action, request in _look_ups(PURPOSE_PROBLEMS[problem]).items():
        answer = client.request(**request, headers=headers)
        assert answer.status_code == 422, (action, answer.text)
        details.add(str(answer.json()["detail"]))
    assert len(details) == 1, details  # the same answer on every route
    assert "declare a purpose" in details.pop()
    entries = _entries(context, name)
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("search_persons", "refused"),
        ("search_addresses", "refused"),
        ("view_person", "refused"),
        ("view_address", "refused"),
    ]
    assert entries[2]["person_ids"] == ["P-asked"]
    assert entries[3]["address_ids"] == ["A-asked"]
    sent = (PURPOSE_PROBLEMS[problem] or "").strip()
    assert {e["purpose"] for e in entries} == {sent[:64]}


def test_other_malformed_look_ups_are_audited_with_the_purpose(api):
    context, client = api
    name, headers = signed_in(context, client, "practitioner", ORG)
    too_long = client.post(
        "/api/v1/search/persons",
        json={"given_name": "A" * 500, "family_name": "Lovelace", "purpose": "welfare_check"},
        headers=headers,
    )
    assert too_long.status_code == 422
    detail_too_long = client.post(
        "/api/v1/persons/P-asked/view",
        json={"purpose": " mash_triage ", "purpose_detail": "x" * 600},
        headers=headers,
    )
    assert detail_too_long.status_code == 422
    entries = _entries(context, name)
    assert [(e["action"], e["outcome"], e["purpose"]) for e in entries] == [
        ("search_persons", "refused", "welfare_check"),
        ("view_person", "refused", "mash_triage"),
    ]
    assert entries[1]["person_ids"] == ["P-asked"]
    assert "given_name" in entries[0]["asked"]
    assert "A" * 100 not in entries[0]["asked"]  # the problem is named, not quoted


@pytest.mark.parametrize(
    "page, action, ids",
    [("persons", "view_person", "person_ids"), ("addresses", "view_address", "address_ids")],
)
def test_a_view_of_an_id_that_does_not_exist_is_audited(api, page, action, ids):
    context, client = api
    name, headers = signed_in(context, client, "practitioner", ORG)
    missing = f"X{uuid.uuid4().hex[:10]}"
    answer = client.post(
        f"/api/v1/{page}/{missing}/view",
        json={"purpose": "welfare_check", "purpose_detail": " ref 42 "},
        headers=headers,
    )
    assert answer.status_code == 404
    entries = _entries(context, name)
    assert [(e["action"], e["outcome"]) for e in entries] == [(action, "not_found")]
    assert entries[0][ids] == [missing]
    assert (entries[0]["purpose"], entries[0]["purpose_detail"]) == ("welfare_check", "ref 42")


def test_a_search_refused_for_what_was_typed_is_audited_with_it(api):
    context, client = api
    name, headers = signed_in(context, client, "practitioner", ORG)
    for body, url in (
        ({"postcode": "WS3 1EE"}, "/api/v1/search/persons"),
        ({"given_name": "Ada", "date_of_birth": "yesterday"}, "/api/v1/search/persons"),
        ({"town": "Walsall"}, "/api/v1/search/addresses"),
    ):
        answer = client.post(url, json={**body, "purpose": "mash_triage"}, headers=headers)
        assert answer.status_code == 422, answer.text
    entries = _entries(context, name)
    assert [(e["action"], e["outcome"], e["purpose"]) for e in entries] == [
        ("search_persons", "refused", "mash_triage"),
        ("search_persons", "refused", "mash_triage"),
        ("search_addresses", "refused", "mash_triage"),
    ]
    assert '"postcode": "WS3 1EE"' in entries[0]["asked"]
    assert '"date_of_birth": "yesterday"' in entries[1]["asked"]
