"""``mast users add|list|disable``: who may sign in, with which role, for which agency."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from mast_cli.console import clear_errors, fail, say
from mast_core.settings import get_settings
from query_api.accounts import AccountError, UserStore
from query_api.security import ROLES
from sinks.clickhouse import apply_migrations, connect

app = typer.Typer(help="Users of the query API and web app.")


def _store() -> UserStore:
    client = connect(get_settings())
    apply_migrations(client)
    return UserStore(client)


@app.command()
def add(
    username: Annotated[str, typer.Option(help="Sign-in name.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    org: Annotated[str, typer.Option(help="The user's agency, e.g. POLICE.")],
    password: Annotated[
        str | None,
        typer.Option(help="At least 12 characters; asked for when not given."),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Add a user (the password is stored as an argon2id hash)."""
    if password is None:
        password = getpass.getpass("Password: ")
    with clear_errors():
        try:
            user = _store().add(username, password, role, org.upper(), name)
        except AccountError as exc:
            fail(str(exc), code=2)
    say(f"added {user.username} ({user.role}, {user.organisation})")


@app.command("list")
def list_users() -> None:
    """List users: name, role, organisation, and whether disabled."""
    with clear_errors():
        users = _store().all()
    if not users:
        say("no users yet: mast users add --username … --role … --org …")
    for user in users:
        state = "disabled" if user.disabled else "active"
        say(f"{user.username:<24} {user.role:<13} {user.organisation:<22} {state}")


@app.command()
def disable(username: Annotated[str, typer.Option(help="Sign-in name.")]) -> None:
    """Stop a user signing in; their tokens stop working at once."""
    with clear_errors():
        try:
            _store().disable(username)
        except AccountError as exc:
            fail(str(exc), code=2)
    say(f"disabled {username}")
