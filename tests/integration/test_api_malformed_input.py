"""Malformed input on every route that takes a body, a query or a path string: lone
surrogates, NaN and infinities, over-long text, wrong types, missing and unknown fields.
Each is a 4xx (an ingested event: a rejected event naming the field), never a 500; no answer
quotes the personal details sent with it, and nothing logged does either.

The requests go through FastAPI's TestClient and through a real uvicorn server in a thread,
because only a server logs what escapes the application (a test client re-raises it)."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

DETAILS = ("Zephyrine", "Quattlebaum", "1961-07-19", "WS9 9ZZ")
"""Recognisable personal details: sent with every bad request, looked for in every answer
and every log record."""

SURROGATE = "\ud800"
LONG = "Zephyrine Quattlebaum of WS9 9ZZ born 1961-07-19; " * 12  # over every field's limit
BAD_VALUES: dict[str, Any] = {
    "lone surrogate": SURROGATE,
    "surrogate in a name": "Zephyrine" + "\udfff",
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
    "over-long": LONG,
    "number": 1961,
    "boolean": True,
    "list": ["Zephyrine", "Quattlebaum"],
    "object": {"given_name": "Zephyrine", "postcode": "WS9 9ZZ"},
}
CLIENT_LOGGERS = ("httpx", "httpcore")  # the test's own client, naming the URLs it asks for
UNICODE_JUNK = "%ED%A0%80"  # a surrogate's UTF-8 form: not UTF-8, so not text

PERSON_SEARCH = {
    "given_name": "Zephyrine",
    "family_name": "Quattlebaum",
    "date_of_birth": "1961-07-19",
    "postcode": "WS9 9ZZ",
    "purpose": "welfare_check",
    "purpose_detail": "Zephyrine Quattlebaum, WS9 9ZZ",
}
ADDRESS_SEARCH = {
    "q": "7 Larch Close, Walsall WS9 9ZZ",
    "address": "7 Larch Close",
    "town": "Walsall",
    "postcode": "WS9 9ZZ",
    "purpose": "welfare_check",
    "purpose_detail": "Zephyrine Quattlebaum, born 1961-07-19",
}
VIEW = {"purpose": "welfare_check", "purpose_detail": "Zephyrine Quattlebaum, WS9 9ZZ"}
ASSIGNMENT = {"assignee": "Zephyrine Quattlebaum"}
DISPUTE = {
    "event_ids": ["Zephyrine-1961-07-19"],
    "reason": "Zephyrine Quattlebaum of WS9 9ZZ is another woman",
    "purpose": "welfare_check",
    "purpose_detail": "Zephyrine Quattlebaum, WS9 9ZZ",
}
DECISION = {"decision": "split", "note": "Zephyrine Quattlebaum, born 1961-07-19, is not her"}
SEEN = {"notification_ids": ["N" + "0" * 32], "up_to": "2026-04-03T10:00:00Z"}
EVENT = {
    "event_id": "bad-1",
    "event_type": "ED_ATTENDANCE",
    "occurred_at": "2026-04-20T13:00:00Z",
    "source_system": "ED Symphony",
    "subject": {
        "given_name": "Zephyrine",
        "family_name": "Quattlebaum",
        "date_of_birth": "1961-07-19",
        "address": {"line1": "7 Larch Close", "postcode": "WS9 9ZZ"},
    },
}
EVENT_FIELDS = (
    "event_id",
    "agency",
    "event_type",
    "occurred_at",
    "source_system",
    "subject.given_name",
    "subject.family_name",
    "subject.date_of_birth",
    "subject.address.line1",
    "subject.address.postcode",
)


@dataclass
class Case:
    name: str
    method: str
    url: str
    body: bytes | None = None
    content_type: str = "application/json"
    auth: str = "user"  # "user", "partner" or "none"
    rejected_field: str | None = None  # an ingested event rejected for this field
    headers: dict[str, str] = field(default_factory=dict)


def _json(value: Any) -> bytes:
    """As a client would send it: NaN and Infinity as Python's json writes them, a lone
    surrogate as the escape \\ud800."""
    return json.dumps(value, allow_nan=True).encode("ascii")


def _replace(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    target = changed
    for part in parents:
        target = target[part]
    target[last] = value
    return changed


def _body_cases(url: str, document: dict[str, Any], required: str | None) -> Iterator[Case]:
    """``required`` is the field whose absence is refused; None for a body that needs one
    of its fields, any (the cases without it send none)."""
    for name in document:
        for kind, value in BAD_VALUES.items():
            body = _json(_replace(document, name, value))
            yield Case(f"{url} {name}={kind}", "POST", url, body)
    without = {k: v for k, v in document.items() if required is not None and k != required}
    yield Case(f"{url} no {required or 'field'}", "POST", url, _json(without))
    first = next(iter(document))
    yield Case(
        f"{url} NaN and no {required or 'field'}",
        "POST",
        url,
        _json({**without, first: float("nan")}),
    )
    yield Case(f"{url} unknown field", "POST", url, _json({**document, "middle_name": LONG}))
    yield Case(f"{url} surrogate key", "POST", url, _json({**document, SURROGATE: "Zephyrine"}))
    yield Case(f"{url} a list", "POST", url, _json(list(document.values())))
    yield Case(f"{url} a string", "POST", url, _json(" ".join(DETAILS)))
    yield Case(f"{url} NaN alone", "POST", url, b"NaN")
    yield Case(f"{url} cut short", "POST", url, _json(document)[:-2])
    yield Case(f"{url} as text", "POST", url, _json(document), content_type="text/plain")
    sent = _json(document)
    raw = (  # not UTF-8: in a name where the body has one, else in its first field's name
        sent.replace(b"Zeph", b"\xed\xa0\x80")
        if b"Zeph" in sent
        else sent.replace(b'"', b'"\xed\xa0\x80', 1)
    )
    yield Case(f"{url} raw surrogate bytes", "POST", url, raw)
    yield Case(f"{url} empty", "POST", url, b"")


def _ingest_cases() -> Iterator[Case]:
    url = "/api/v1/ingest"
    for path in EVENT_FIELDS:
        for kind, value in BAD_VALUES.items():
            if path == "occurred_at" and kind == "number":
                continue  # seconds since 1970: a time, and a valid event
            event = _replace(EVENT, path, value)
            yield Case(
                f"ingest {path}={kind}",
                "POST",
                url,
                _json({"events": [event]}),
                auth="partner",
                rejected_field=path,
            )
    for kind in ("lone surrogate", "NaN", "list"):
        yield Case(
            f"ingest event={kind}",
            "POST",
            url,
            _json({"events": [BAD_VALUES[kind]]}),
            auth="partner",
            rejected_field="(event)",
        )
    for kind, value in BAD_VALUES.items():
        yield Case(
            f"ingest events={kind}",
            "POST",
            url,
            _json({"events": value}),
            auth="partner",
            rejected_field="(event)" if kind == "list" else None,  # strings, not events
        )
    for name, body in (
        ("no events", _json({"evnts": [EVENT]})),
        ("surrogate key", _json({"events": [EVENT], SURROGATE: "Zephyrine"})),
        ("NaN alone", b"NaN"),
        ("cut short", _json({"events": [EVENT]})[:-3]),
    ):
        yield Case(f"ingest {name}", "POST", url, body, auth="partner")


def _form(**fields: str) -> bytes:
    return "&".join(f"{k}={v}" for k, v in fields.items()).encode()


def _sign_in_cases() -> Iterator[Case]:
    url = "/api/v1/auth/token"
    form = "application/x-www-form-urlencoded"
    for name, body in (
        (
            "notice not a boolean",
            _form(username="Zephyrine", password="x", notice_accepted="Quattlebaum"),
        ),
        (
            "notice surrogate",
            _form(username="Zephyrine", password="x", notice_accepted=UNICODE_JUNK),
        ),
        ("no username", _form(password="Quattlebaum-1961-07-19")),
        ("no password", _form(username="Zephyrine.Quattlebaum")),
        (
            "unknown user",
            _form(username="Zephyrine", password="Quattlebaum", notice_accepted="true"),
        ),
        ("surrogate username", _form(username=UNICODE_JUNK, password="Quattlebaum")),
        ("raw surrogate bytes", b"username=Zephyrine\xed\xa0\x80&password=Quattlebaum"),
        ("over-long", _form(username=LONG.replace(" ", "+"), password=LONG.replace(" ", "+"))),
    ):
        yield Case(f"sign-in {name}", "POST", url, body, content_type=form, auth="none")
    yield Case(
        "sign-in JSON instead of a form",
        "POST",
        url,
        _json({"username": "Zephyrine", "password": "Quattlebaum", "notice_accepted": True}),
        auth="none",
    )


def _get_cases() -> Iterator[Case]:
    detail = "purpose_detail=Zephyrine+Quattlebaum+WS9+9ZZ"
    for page in ("persons", "addresses"):
        base = f"/api/v1/{page}"
        for name, url in (
            ("no purpose", f"{base}/P1?{detail}"),
            ("unknown purpose", f"{base}/P1?purpose=Zephyrine&{detail}"),
            ("surrogate purpose", f"{base}/P1?purpose={UNICODE_JUNK}&{detail}"),
            ("over-long purpose", f"{base}/P1?purpose={'Zephyrine' * 8}"),
            (
                "over-long detail",
                f"{base}/P1?purpose=welfare_check&purpose_detail={'Zephyrine+' * 60}",
            ),
            ("a name for an id", f"{base}/Zephyrine%20Quattlebaum?purpose=welfare_check&{detail}"),
            ("surrogate id", f"{base}/{UNICODE_JUNK}?purpose=welfare_check&{detail}"),
            ("over-long id", f"{base}/{'Quattlebaum' * 7}?purpose=welfare_check"),
        ):
            yield Case(f"{page} {name}", "GET", url)
    alerts = "/api/v1/alerts"
    for name, query in (
        ("status", "status=Zephyrine"),
        ("severity", "severity=NaN"),
        ("limit NaN", "limit=NaN"),
        ("limit Infinity", "limit=Infinity"),
        ("limit huge", "limit=1e400"),
        ("limit a name", "limit=Quattlebaum"),
        ("over-long rule", f"rule={'Zephyrine' * 8}"),
        ("over-long organisation", f"organisation={'Quattlebaum' * 4}"),
    ):
        yield Case(f"alerts {name}", "GET", f"{alerts}?{query}")
    yield Case("acknowledge a name", "POST", f"{alerts}/Zephyrine%20Quattlebaum/acknowledge")
    yield Case("acknowledge surrogate", "POST", f"{alerts}/{UNICODE_JUNK}/acknowledge")
    yield Case("acknowledge over-long", "POST", f"{alerts}/{'Zephyrine' * 8}/acknowledge")
    yield Case(
        "assign over-long id", "POST", f"{alerts}/{'Zephyrine' * 8}/assign", _json(ASSIGNMENT)
    )
    for name, query in (
        ("since NaN", "since=NaN"),
        ("until a date of birth", "until=1961-07-19x"),
        ("limit Infinity", "limit=Infinity"),
        ("format", "format=Zephyrine"),
        ("organisation", "organisation=Quattlebaum"),
        ("over-long username", f"username={'Zephyrine' * 8}"),
        ("over-long person", f"person_id={'Quattlebaum' * 7}"),
    ):
        yield Case(f"audit {name}", "GET", f"/api/v1/audit?{query}")
    for name, query in (
        ("agency a name", "agency=Zephyrine"),
        ("agency NaN", "agency=NaN"),
        ("agency surrogate", f"agency={UNICODE_JUNK}"),
        ("no agency", "agencies=WS9+9ZZ"),
    ):
        yield Case(f"stats {name}", "GET", f"/api/v1/stats/matching?{query}")


def _dispute_cases() -> Iterator[Case]:
    """The disputes' own parts besides their bodies: records named oddly, the queue's
    query, a dispute id that is no id."""
    url = "/api/v1/persons/P1/disputes"
    for name, event_ids in (
        ("no records", []),
        ("a blank record", ["  "]),
        ("too many records", ["Zephyrine"] * 201),
        ("an over-long record", [LONG]),
        ("a surrogate record", [SURROGATE]),
        ("a NaN record", [float("nan")]),
    ):
        yield Case(f"dispute {name}", "POST", url, _json({**DISPUTE, "event_ids": event_ids}))
    for name, reason in (("blank reason", "   "), ("over-long reason", "Zephyrine " * 51)):
        yield Case(f"dispute {name}", "POST", url, _json({**DISPUTE, "reason": reason}))
    yield Case("dispute over-long person", "POST", f"/api/v1/persons/{'Zephyrine' * 8}/disputes")
    decision = "/api/v1/disputes/{}/decision"
    for name, body in (
        ("unknown decision", {**DECISION, "decision": "Zephyrine"}),
        ("blank note", {**DECISION, "note": "  "}),
        ("over-long note", {**DECISION, "note": "Quattlebaum " * 46}),
    ):
        yield Case(f"decision {name}", "POST", decision.format("D-none"), _json(body))
    for name, dispute in (
        ("over-long id", "Zephyrine" * 8),
        ("surrogate id", UNICODE_JUNK),
    ):
        yield Case(f"decision {name}", "POST", decision.format(dispute), _json(DECISION))
    for name, query in (
        ("status", "status=Zephyrine"),
        ("limit NaN", "limit=NaN"),
        ("limit Infinity", "limit=Infinity"),
        ("limit huge", "limit=1e400"),
        ("limit a date of birth", "limit=1961-07-19"),
    ):
        yield Case(f"disputes {name}", "GET", f"/api/v1/disputes?{query}")


def _notification_cases() -> Iterator[Case]:
    """The notifications' own parts besides the marking body: ids and times that are not
    ones, and the list's query."""
    url = "/api/v1/notifications/seen"
    for name, body in (
        ("nothing named", {}),
        ("both null", {"notification_ids": None, "up_to": None}),
        ("no ids", {"notification_ids": []}),
        ("too many ids", {"notification_ids": ["N" + "0" * 32] * 201}),
        ("a name for an id", {"notification_ids": ["Zephyrine Quattlebaum"]}),
        ("a surrogate id", {"notification_ids": [SURROGATE]}),
        ("a date of birth for a time", {"up_to": "1961-07-19"}),
        ("seconds for a time", {"up_to": "1712345678"}),
        ("a number for a time", {"up_to": 1712345678}),
        ("a time with no calendar", {"up_to": "2026-02-30T10:00:00Z"}),
        ("a minute of 99", {"up_to": "2026-04-03T10:99:00Z"}),
        ("a name for a time", {"up_to": "Zephyrine Quattlebaum"}),
    ):
        yield Case(f"seen {name}", "POST", url, _json(body))
    for name, query in (
        ("unseen a name", "unseen=Zephyrine"),
        ("unseen surrogate", f"unseen={UNICODE_JUNK}"),
        ("limit NaN", "limit=NaN"),
        ("limit Infinity", "limit=Infinity"),
        ("limit huge", "limit=1e400"),
        ("limit naught", "limit=0"),
        ("limit a date of birth", "limit=1961-07-19"),
    ):
        yield Case(f"notifications {name}", "GET", f"/api/v1/notifications?{query}")


def all_cases() -> list[Case]:
    return [
        *_body_cases("/api/v1/search/persons", PERSON_SEARCH, "purpose"),
        *_body_cases("/api/v1/search/addresses", ADDRESS_SEARCH, "purpose"),
        *_body_cases("/api/v1/persons/P1/view", VIEW, "purpose"),
        *_body_cases("/api/v1/addresses/A1/view", VIEW, "purpose"),
        *_body_cases("/api/v1/alerts/AL-none/assign", ASSIGNMENT, "assignee"),
        *_body_cases("/api/v1/persons/P1/disputes", DISPUTE, "event_ids"),
        *_body_cases("/api/v1/disputes/D-none/decision", DECISION, "note"),
        *_dispute_cases(),
        *_body_cases("/api/v1/notifications/seen", SEEN, None),
        *_notification_cases(),
        *_ingest_cases(),
        *_sign_in_cases(),
        *_get_cases(),
    ]


@pytest.fixture
def context(settings, clickhouse) -> ApiContext:
    return ApiContext.create(settings, clickhouse)


@pytest.fixture
def everything_logged(caplog, monkeypatch) -> pytest.LogCaptureFixture:
    """Every record at DEBUG, from MAST's loggers and from uvicorn's and FastAPI's (the
    access log keeps the level the server sets, as in production)."""
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi", "fastapi", "starlette", "mast"):
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "disabled", False)
    logging.getLogger("uvicorn.error").debug("canary %s", "uvicorn")
    assert any(r.getMessage() == "canary uvicorn" for r in caplog.records)
    return caplog


def _send(
    client: httpx.Client | TestClient, case: Case, credentials: dict[str, dict[str, str]]
) -> httpx.Response:
    headers = dict(case.headers)
    if case.body is not None:
        headers["Content-Type"] = case.content_type
    headers.update(credentials[case.auth])
    return client.request(case.method, case.url, content=case.body, headers=headers)


def _problems(case: Case, response: httpx.Response) -> list[str]:
    text = response.text
    found = [detail for detail in DETAILS if detail in text]
    if found:
        return [f"{case.name}: {response.status_code} quotes {found}"]
    if case.rejected_field is not None:
        if response.status_code != 200:
            return [f"{case.name}: {response.status_code}, not a rejected event"]
        result = response.json()
        fields = {p["field"] for r in result["rejected"] for p in r["problems"]}
        if result["accepted"] or case.rejected_field not in fields:
            return [f"{case.name}: accepted {result['accepted']}, rejected for {fields}"]
        return []
    if not 400 <= response.status_code < 500:
        return [f"{case.name}: {response.status_code}"]
    if response.status_code == 422:
        for problem in response.json()["detail"]:
            if not isinstance(problem, dict):
                continue
            if "input" in problem or "ctx" in problem or not problem.get("loc"):
                return [f"{case.name}: 422 without a field or with the input: {problem}"]
    return []


def _logged_details(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    leaks = []
    for record in caplog.records:
        if record.name.startswith(CLIENT_LOGGERS):
            continue
        line = formatter.format(record)
        found = [detail for detail in DETAILS if detail in line]
        if found:
            leaks.append(f"{record.name} {record.levelname} logged {found}")
    return leaks


def _credentials(context: ApiContext, client: httpx.Client) -> dict[str, dict[str, str]]:
    """The headers each kind of caller sends: a signed-in manager of POLICE's token, a
    partner's key, nothing."""
    _name, user = signed_in(context, client, "manager", "POLICE", prefix="probe")
    _partner, key = context.partners.issue("HEALTH", "malformed input probe")
    return {"user": user, "partner": {"X-API-Key": key}, "none": {}}


def test_every_malformed_input_is_a_4xx_that_quotes_nothing_through_the_test_client(
    context, everything_logged
):
    client = TestClient(create_app(lambda: {"ready": True}, context))
    credentials = _credentials(context, client)
    failures: list[str] = []
    for case in all_cases():
        try:
            failures += _problems(case, _send(client, case, credentials))
        except Exception as exc:  # a 500 re-raised by the test client
            failures.append(f"{case.name}: raised {type(exc).__name__}")
    logged = _logged_details(everything_logged)
    assert {"answers": failures, "logged": logged} == {"answers": [], "logged": []}


def test_every_malformed_input_is_a_4xx_and_nothing_logged_quotes_it(
    context, live_server, everything_logged
):
    with httpx.Client(base_url=live_server, timeout=30) as client:
        credentials = _credentials(context, client)
        failures: list[str] = []
        for case in all_cases():
            try:
                failures += _problems(case, _send(client, case, credentials))
            except httpx.TransportError as exc:  # the server gave up on the request
                failures.append(f"{case.name}: {type(exc).__name__}")
    logged = _logged_details(everything_logged)
    assert {"answers": failures, "logged": logged} == {"answers": [], "logged": []}


def test_a_padded_purpose_is_the_purpose_for_searches_and_views(context):
    client = TestClient(create_app(lambda: {"ready": True}, context))
    headers = _credentials(context, client)["user"]
    search = client.post(
        "/api/v1/search/persons",
        json={**PERSON_SEARCH, "purpose": " welfare_check "},
        headers=headers,
    )
    assert search.status_code == 200, search.text
    view = client.get(
        "/api/v1/persons/P-none", params={"purpose": " welfare_check "}, headers=headers
    )
    assert view.status_code == 404, view.text  # past the purpose check: no such person
