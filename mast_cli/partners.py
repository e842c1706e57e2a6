"""``mast partners add|list|revoke``: API keys for partner systems that publish over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from mast_cli.console import clear_errors, say
from mast_core.settings import get_settings
from query_api.partners import PartnerKeys
from sinks.clickhouse import apply_migrations, connect

app = typer.Typer(help="API keys of partner systems (POST /api/v1/ingest).")


def _keys() -> PartnerKeys:
    client = connect(get_settings())
    apply_migrations(client)
    return PartnerKeys(client)


@app.command()
def add(
    agency: Annotated[str, typer.Option(help="The partner's agency; its events are from it.")],
    name: Annotated[str, typer.Option(help="Which system, e.g. 'West Midlands Fire IRS'.")],
) -> None:
    """Issue a key. It is shown once: give it to the partner and do not keep a copy."""
    with clear_errors():
        partner, key = _keys().issue(agency, name)
    say(f"key {partner.key_id} for {partner.name} ({partner.agency.value}):")
    say(key)
    say("Send it as the X-API-Key header to POST /api/v1/ingest. It is not stored; keep it safe.")


@app.command("list")
def list_keys() -> None:
    """Every key with its agency and whether it is revoked (never the secret)."""
    partners = _keys().list()
    if not partners:
        say("no partner keys")
    for partner in partners:
        state = "revoked" if partner.revoked else "active"
        say(
            f"{partner.key_id}  {partner.agency.value:<22} {state:<8} "
            f"{partner.created_at:%Y-%m-%d}  {partner.name}"
        )


@app.command()
def revoke(
    key_id: Annotated[str, typer.Option("--key-id", help="From `mast partners list`.")],
) -> None:
    """Stop a key working at once."""
    with clear_errors():
        partner = _keys().revoke(key_id)
    say(f"revoked {partner.key_id} ({partner.name}, {partner.agency.value})")
