"""Schemathesis over every operation of the OpenAPI document, against the real application
in process (ASGI) with real credentials: no route answers 500 to anything it generates, and
every check passes — the answers' status codes, content types, headers and bodies are the
ones the document declares, what the document calls valid is accepted and what it calls
invalid is refused.

One allowance is configured, for rules that depend on data rather than on the request's
shape, which no JSON Schema can state: a search whose details the schema accepts may still
be refused (422) when they normalise to nothing to look up (a name of digits or of a title
only, a date of birth that is not one), an alert may be assigned only to an active user of
the caller's organisation, and a dispute may name only records on the person's page. Such
a refusal must then be a sentence saying what to give, never a list of field problems (that
would be the document and the validation disagreeing): a check of this module's own. The
run is bounded (examples per operation) and derandomised with a fixed seed, so CI sees the
same cases every time; its figures are printed (run with ``-s``)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.engine import Status, StopReason, events

from mast_core.normalise.dates import parse_birth_date
from mast_core.settings import Settings
from messaging.clients import make_admin
from messaging.topics import ensure_topics, topic_specs
from query_api.app import create_app
from query_api.context import ApiContext
from query_api.routes.persons import BIRTH_DATE
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

OPERATOR_TOKEN = "fuzz-operator-token-0123456789"
SEED = 20261130
EXAMPLES = 6
"""Cases per operation in the fuzzing phase; the coverage phase adds its own boundary and
type-violating cases (most of the run). A well-formed sign-in costs a password check
(argon2, slow by design), so sign-in draws two well-formed cases in all and the coverage
phase sends it only malformed ones."""
SIGN_IN_EXAMPLES = 2
RULED_BY_DATA = {
    "search_persons": "POST /api/v1/search/persons",
    "search_addresses": "POST /api/v1/search/addresses",
    "assign_alert": "POST /api/v1/alerts/{alert_id}/assign",
    "raise_dispute": "POST /api/v1/persons/{person_id}/disputes",
}
"""The operations that may refuse a schema-valid request with a 422 sentence (above)."""
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
"""Schemathesis' own list for ``positive_data_acceptance``; ``RULED_BY_DATA`` adds 422."""

_FORMS = (
    "{d:%Y-%m-%d}",
    "{d:%d/%m/%Y}",
    "{d:%Y%m%d}",
    "{d.day} {d:%b %Y}",
    "{d:%B} {d.day}, {d.year}",
)


def birth_dates() -> st.SearchStrategy[str]:
    """Dates of birth as practitioners type them (the ``birth-date`` format the document
    describes), so that valid searches reach the search itself."""
    days = st.dates(min_value=date(1901, 1, 2), max_value=date.today())  # noqa: DTZ011
    return st.builds(lambda d, form: form.format(d=d), days, st.sampled_from(_FORMS))


@schemathesis.check
def a_valid_request_is_refused_only_by_a_rule_of_data(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """The one kind of 422 a schema-valid request may get: a sentence, not field problems."""
    meta = case.meta
    if (
        case.operation.label in RULED_BY_DATA.values()
        and meta is not None
        and meta.generation.mode.is_positive
        and response.status_code == 422
        and not isinstance(response.json().get("detail"), str)
    ):
        raise AssertionError(f"validation refused what the schema allows: {response.text}")
    return None


@dataclass
class Run:
    cases: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: StopReason | None = None
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{len(self.cases)} operations, {sum(self.cases.values())} cases in "
            f"{self.seconds:.1f} s, stopped: {self.stop}; "
            f"{len(self.failures)} failures, {len(self.errors)} errors"
        )


@pytest.fixture(scope="module")
def fuzzed(kafka: Settings, clickhouse: Any) -> tuple[Any, dict[str, str]]:
    """The application as `mast up` builds it, with an operator token configured (so the
    guarded operations are fuzzed as deployed), a manager of POLICE and a partner key. Its
    topics are its own: should a generated batch hold a valid event, it is published where
    no other test reads."""
    guarded = Settings(
        **{
            **kafka.model_dump(),
            "operator_token": OPERATOR_TOKEN,
            "topic_prefix": f"fuzz-{uuid.uuid4().hex[:8]}.",
        }
    )
    ensure_topics(make_admin(guarded), topic_specs(guarded))
    context = ApiContext.create(guarded, clickhouse)
    app = create_app(lambda: {"ready": True, "role": "api"}, context)
    _name, manager = signed_in(context, TestClient(app), "manager", "POLICE", prefix="fuzz")
    _partner, key = context.partners.issue("HEALTH", "schema fuzz")
    headers = {
        **manager,
        "X-API-Key": key,
        "X-Operator-Token": OPERATOR_TOKEN,
    }
    return app, headers


def _config(headers: dict[str, str]) -> schemathesis.Config:
    ruled_by_data = [
        {
            "include-operation-id": operation,
            "checks": {
                "positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "422"]}
            },
        }
        for operation in RULED_BY_DATA
    ]
    sign_in = {
        "include-operation-id": "sign_in",
        "generation": {"max-examples": SIGN_IN_EXAMPLES},
        "phases": {"coverage": {"generation": {"mode": "negative"}}},
    }
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            # sequences of linked calls add a quarter to the time and reach little more: the
            # coverage phase already reuses the ids the API answers with
            "phases": {"stateful": {"enabled": False}},
            "operations": [*ruled_by_data, sign_in],
        }
    )


def _run(app: Any, headers: dict[str, str]) -> Run:
    schemathesis.openapi.format(BIRTH_DATE, birth_dates())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(headers))
    run = Run()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            run.cases[event.recorder.label] += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        run.failures.append(
                            f"{event.recorder.label}: {failure.title}: {failure.message}\n"
                            f"  {check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            run.errors.append(f"{type(event).__name__}: {event}")
        elif isinstance(event, events.EngineFinished):
            run.stop, run.seconds = event.stop_reason, event.running_time
    return run


def test_every_operation_answers_as_its_document_says(fuzzed):
    app, headers = fuzzed
    operations = {
        f"{method.upper()} {path}"
        for path, item in TestClient(app).get("/openapi.json").json()["paths"].items()
        for method in item
    }
    run = _run(app, headers)
    print(run)  # the figures, for whoever runs it with -s
    assert run.failures == [], f"{run}\n" + "\n".join(sorted(set(run.failures)))
    assert run.errors == [], run
    assert run.stop == StopReason.COMPLETED, f"the bounded run did not finish: {run}"
    assert set(run.cases) >= operations, operations - set(run.cases)
    assert min(run.cases[operation] for operation in operations) > 0


@hypothesis_settings(max_examples=50, derandomize=True, database=None)
@given(birth_dates())
def test_the_birth_date_generator_makes_dates_the_search_takes(typed: str) -> None:
    """A refusal of a generated date of birth is then the API's, not the generator's."""
    assert parse_birth_date(typed) is not None
