"""The API's refusals and failures never quote what was sent: a 422 names the field and the
problem without the input, and an exception nothing handled leaves the application (to be
logged by the server) as its types and code locations, without messages."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import ValidationError

from query_api.bodies import RequestBody
from query_api.errors import (
    UnhandledError,
    describe,
    install_error_handling,
    is_text,
    validation_problems,
)

NAME = "Zephyrine Quattlebaum"


class Body(RequestBody):
    name: str
    score: float = 0.0


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    def echo(body: Body) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/look")
    def look(name: Annotated[str, Query(max_length=8)]) -> dict[str, str]:
        return {"name": name}

    @app.get("/fail")
    def fail() -> None:
        raise ValueError(f"no record for {NAME}")

    @app.get("/chained")
    def chained() -> None:
        try:
            raise LookupError(f"{NAME} not found")
        except LookupError as exc:
            raise RuntimeError(f"while looking for {NAME}") from exc

    install_error_handling(app)
    return app


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": NaN}',
        b'{"name": "\\ud800"}',
        b'{"name": "Zephyrine", "score": NaN}',
        b'{"name": "Zephyrine", "score": Infinity}',
        b'{"name": "Zephyrine", "score": -Infinity}',
        b'{"score": "Zephyrine Quattlebaum"}',
        b'{"name": "Zephyrine", "\\ud800": "Quattlebaum"}',
        b'["Zephyrine", "Quattlebaum"]',
        b'{"name": "Zephyrine"',
        b"NaN",
    ],
)
def test_a_refused_body_is_a_422_naming_the_field_without_the_value(body):
    client = TestClient(_app())
    response = client.post("/echo", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert "Zephyrine" not in response.text
    assert "Quattlebaum" not in response.text
    for problem in response.json()["detail"]:
        assert set(problem) == {"type", "loc", "msg"}
        assert problem["loc"][0] == "body"


def test_a_refused_query_is_a_422_without_the_value():
    response = TestClient(_app()).get("/look", params={"name": NAME})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "string_too_long",
                "loc": ["query", "name"],
                "msg": "String should have at most 8 characters",
            }
        ]
    }


def test_non_finite_numbers_and_lone_surrogates_are_refused_by_request_bodies():
    for value in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValidationError):
            Body(name="x", score=value)
    with pytest.raises(ValidationError):
        Body.model_validate(json.loads('{"name": "\\ud800"}'))
    assert Body(name="  padded ").name == "padded"


def test_problems_keep_the_field_and_drop_input_context_and_url():
    errors = [
        {
            "type": "extra_forbidden",
            "loc": ("body", "\ud800" + "x" * 100),
            "msg": "Extra inputs are not permitted",
            "input": NAME,
            "ctx": {"error": NAME},
            "url": "https://errors.pydantic.dev",
        },
        {"type": "json_invalid", "loc": ("body", 12), "msg": "JSON decode error", "input": {}},
    ]
    problems = validation_problems(errors)
    assert problems[1] == {"type": "json_invalid", "loc": ["body", 12], "msg": "JSON decode error"}
    assert set(problems[0]) == {"type", "loc", "msg"}
    assert all(is_text(part) for part in problems[0]["loc"] if isinstance(part, str))
    assert len(problems[0]["loc"][1]) <= 64
    json.dumps(problems).encode("utf-8")


def test_is_text():
    assert is_text("Zéphyrine ✓")
    assert not is_text("Zeph\ud800")


def test_an_unhandled_exception_leaves_without_its_message(caplog):
    caplog.set_level(logging.DEBUG)
    client = TestClient(_app())
    with pytest.raises(UnhandledError) as raised:
        client.get("/fail")
    logged = "".join(traceback.format_exception(raised.value))
    assert "Zephyrine" not in logged
    assert "ValueError" in logged
    assert "test_api_errors.py" in logged  # where it was raised, for whoever reads the log
    assert raised.value.__context__ is None
    assert raised.value.__cause__ is None
    assert "Zephyrine" not in caplog.text

    quiet = TestClient(_app(), raise_server_exceptions=False)
    response = quiet.get("/fail")
    assert response.status_code == 500
    assert "Zephyrine" not in response.text


def test_a_chain_of_exceptions_is_described_by_types_and_places():
    with pytest.raises(UnhandledError) as raised:
        TestClient(_app()).get("/chained")
    text = str(raised.value)
    assert "RuntimeError at " in text
    assert "raised while handling LookupError at " in text
    assert "in chained" in text
    assert "Zephyrine" not in text


def test_describe_names_the_exceptions_in_a_group():
    try:
        raise ExceptionGroup(NAME, [ValueError(NAME), KeyError(NAME)])
    except ExceptionGroup as group:
        text = describe(group)
    assert text.startswith("ExceptionGroup[ValueError, KeyError] at ")
    assert "Zephyrine" not in text
