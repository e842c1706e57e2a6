"""Signing in through the API, as every test that needs a signed-in caller does it: a user
added to the context's store with a role and an organisation, then ``POST /api/v1/auth/token``
with the notice accepted, and the bearer token in an Authorization header.

The client is any ``httpx.Client``: FastAPI's TestClient (a subclass) or a client of a real
server. Tests of sign-in itself (wrong passwords, the notice, lock-out, guessing) send their
own forms."""

from __future__ import annotations

import uuid

import httpx

from query_api.context import ApiContext

PASSWORD = "correct horse battery"
TOKEN_URL = "/api/v1/auth/token"


def add_user(
    context: ApiContext,
    role: str = "practitioner",
    organisation: str = "POLICE",
    *,
    prefix: str | None = None,
) -> str:
    """A new user with ``PASSWORD``, named ``<prefix>-<8 hex digits>`` (the prefix is the
    role unless given), so that each test's audit entries are its own."""
    username = f"{prefix or role}-{uuid.uuid4().hex[:8]}"
    context.users.add(username, PASSWORD, role, organisation)
    return username


def sign_in_form(username: str, password: str = PASSWORD) -> dict[str, str]:
    """The sign-in form's fields, the notice accepted."""
    return {"username": username, "password": password, "notice_accepted": "true"}


def token_headers(answer: httpx.Response) -> dict[str, str]:
    """The Authorization header that carries the token of a successful sign-in."""
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Signs ``username`` in (the notice accepted): the Authorization header for its token."""
    return token_headers(client.post(TOKEN_URL, data=sign_in_form(username, password)))


def signed_in(
    context: ApiContext,
    client: httpx.Client,
    role: str = "practitioner",
    organisation: str = "POLICE",
    *,
    prefix: str | None = None,
) -> tuple[str, dict[str, str]]:
    """A new user of ``role`` in ``organisation``, signed in: its username and the
    Authorization header for its token."""
    username = add_user(context, role, organisation, prefix=prefix)
    return username, sign_in(client, username)
