"""The refusals the API answers with, declared once so that every route's entry in the
OpenAPI document lists the 4xx answers it really gives, each with the body it really has.

A client generated from the document then knows, for example, that a 422 carries either a
list of problems (a part missing or malformed, refused before the route runs: field and
rule, never the value, ``query_api.errors``) or one sentence (a rule of the route's own: a
purpose not on the list, a search that cannot be run as asked); and that 400 means the body
could not be read at all, which FastAPI answers before any validation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Refusal(BaseModel):
    """Every refusal but a validation one: a sentence saying what to do instead."""

    detail: str


class FieldProblem(BaseModel):
    """One part of a request that was missing or malformed: where and which rule, never
    the value sent (it may be personal data)."""

    type: str = Field(description="The rule broken, e.g. `missing`, `string_too_long`.")
    loc: list[str | int] = Field(description="Where: `body`, `query` or `path`, then the field.")
    msg: str


class Unprocessable(BaseModel):
    """422: a list of problems when a part is missing or malformed, or one sentence when the
    request is well formed but breaks a rule of the route's own (a purpose not on the list,
    a search that cannot be run as asked)."""

    detail: str | list[FieldProblem]


_DESCRIPTIONS = {
    400: "The body could not be read (not JSON, or not the declared form encoding).",
    401: "Sign in first: the token is missing, expired or no longer valid.",
    403: "Signed in, but this user may not do this.",
    404: "Nothing by that id.",
    409: "In conflict with what is already recorded.",
    413: "The body is over the configured limit (MAST_MAX_BODY_BYTES).",
    422: "Refused as asked: each problem by field and rule, or one sentence for a rule of the "
    "route's own.",
    429: "Too many requests for now; try again after Retry-After seconds.",
    503: "Not available now; try again after Retry-After seconds.",
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
_CHALLENGE = {
    "WWW-Authenticate": {
        "description": "The scheme to authenticate with.",
        "schema": {"type": "string"},
    }
}


def refusals(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry declaring each of ``codes`` with its body and, where the API
    sends them, its headers. ``descriptions`` replaces the generic wording for a code given
    as ``_401="..."``, so a route can say why it refuses."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        answer: dict[str, Any] = {
            "model": Unprocessable if code == 422 else Refusal,
            "description": descriptions.get(f"_{code}", _DESCRIPTIONS[code]),
        }
        if code in (429, 503):
            answer["headers"] = _RETRY_AFTER
        elif code == 401:
            answer["headers"] = _CHALLENGE
        declared[code] = answer
    return declared
