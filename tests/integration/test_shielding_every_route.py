"""A shielded address never appears in any answer of any route, for any role, without
break-glass: every operation of the OpenAPI document is called by a user of every role,
with the shielded person's and addresses' ids in its path, its query and its body (and
Sarah's name and the refuge's postcode where it searches), in the world of
``shielded_story``; no answer may hold the shielded addresses' lines or postcodes, nor the
name of Sarah's co-resident.

Left out, each for a reason:

- sign-in, partner ingestion and the operators' endpoints, which show no person;
- the audit log (``GET /audit`` and its export), which records what users typed, as they
  typed it, for the managers and the data protection officer who answer for it: a postcode
  typed into a search is audited as typed, whatever it names;
- ``POST /break-glass``, whose whole point is to open the record: it is called last, and the
  test then checks that the grant does open it, so that the walk is known to reach the
  pages it checks.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from query_api.security import ROLES
from tests.integration.shielded_story import ShieldedStory, write_story
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

EXEMPT = {
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/ingest"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/export"),
}
BREAK_GLASS = ("post", "/api/v1/break-glass")
PURPOSE = "welfare_check"
REASON = "Checking that nothing shows a shielded address"


def _values(story: ShieldedStory, dispute_id: str, person_id: str) -> dict[str, Any]:
    """What each named parameter or body field is given: a person's id, the refuge's, and
    the words that would find them."""
    return {
        "person_id": person_id,
        "address_id": story.refuge.address_id,
        "alert_id": story.alerts["sarah"],
        "dispute_id": dispute_id,
        "purpose": PURPOSE,
        "reason": REASON,
        "note": REASON,
        "given_name": "Sarah",
        "family_name": story.family,
        "postcode": story.refuge.postcode,
        "q": story.refuge.postcode,
        "address": story.refuge.line1,
        "event_ids": [story.events["s1"]],
    }


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _example(
    name: str, schema: dict[str, Any], spec: dict[str, Any], values: dict[str, Any]
) -> Any:
    """A value for one parameter or field: the story's where it names one, else the first
    the schema allows."""
    if name in values:
        return values[name]
    schema = _resolve(schema, spec)
    for choice in schema.get("anyOf", []):
        if choice.get("type") != "null":
            return _example(name, choice, spec, values)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return _body(schema, spec, values)
    return {"integer": 1, "number": 1, "boolean": False, "array": []}.get(
        kind, "x" * max(1, schema.get("minLength", 1))
    )


def _body(schema: dict[str, Any], spec: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(schema, spec)
    properties = schema.get("properties", {})
    wanted = [p for p in properties if p in values or p in schema.get("required", [])]
    if "person_id" in wanted and "address_id" in properties:
        wanted.remove("address_id")  # one subject of the two
    return {p: _example(p, properties[p], spec, values) for p in wanted}


def _request(
    path: str, operation: dict[str, Any], spec: dict[str, Any], values: dict[str, Any]
) -> tuple[str, dict[str, Any], Any]:
    url, query = path, {}
    for parameter in operation.get("parameters", []):
        value = _example(parameter["name"], parameter.get("schema", {}), spec, values)
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(value))
        elif parameter["in"] == "query" and (
            parameter.get("required") or parameter["name"] in values
        ):
            query[parameter["name"]] = value
    body = None
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = _body(content["application/json"]["schema"], spec, values)
    return url, query, body


@pytest.fixture(scope="module")
def walk(settings, clickhouse, kafka) -> dict[str, Any]:
    story = write_story(clickhouse)
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    users = {
        role: signed_in(context, client, role, "HEALTH" if role == "manager" else "POLICE")[1]
        for role in ROLES
    }
    raised = client.post(
        f"/api/v1/persons/{story.ben}/disputes",  # his records are at the shielded home
        json={"event_ids": [story.events["b1"]], "reason": "not him", "purpose": PURPOSE},
        headers=users["practitioner"],
    )
    assert raised.status_code in (200, 201), raised.text
    return {
        "story": story,
        "client": client,
        "users": users,
        "dispute": raised.json()["dispute_id"],
    }


def test_no_answer_of_any_route_shows_a_shielded_address(walk) -> None:
    story, client = walk["story"], walk["client"]
    spec = client.get("/openapi.json").json()
    operations = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
        if (method, path) not in EXEMPT and (method, path) != BREAK_GLASS
    ]
    assert len(operations) > 30  # the walk reaches the whole API
    statuses: dict[int, int] = {}
    # Sarah herself; Ben and Tom, who are not shielded but share a shielded address with
    # her (their own pages show their own names, so only the addresses are checked)
    for person, hidden_text in (
        (story.sarah, story.hidden_text()),
        (story.ben, story.hidden_addresses()),
        (story.tom, story.hidden_addresses()),
    ):
        values = _values(story, walk["dispute"], person)
        for role, headers in walk["users"].items():
            for method, path, operation in operations:
                url, query, body = _request(path, operation, spec, values)
                answer = client.request(
                    method.upper(), url, params=query, json=body, headers=headers
                )
                assert answer.status_code < 500, (role, method, path, answer.text)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                for hidden in hidden_text:
                    assert hidden not in answer.text, (person, role, method, path, hidden)
    assert statuses.get(200, 0) > 150, statuses  # not a walk of refusals only
    print(f"{len(operations)} operations x {len(walk['users'])} roles: {sorted(statuses.items())}")


def test_the_walk_reaches_what_break_glass_opens(walk) -> None:
    """The same requests, after break-glass, show the refuge: so the walk above did reach
    the pages that would have shown it."""
    story, client = walk["story"], walk["client"]
    headers = walk["users"]["practitioner"]
    granted = client.post(
        "/api/v1/break-glass",
        json={"person_id": story.sarah, "reason": REASON, "purpose": PURPOSE},
        headers=headers,
    )
    assert granted.status_code == 201, granted.text
    for hidden in story.hidden_text():
        assert hidden not in granted.text
    page = client.post(
        f"/api/v1/persons/{story.sarah}/view", json={"purpose": PURPOSE}, headers=headers
    )
    assert story.refuge.postcode in page.text
