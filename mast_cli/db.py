"""``mast db migrate``: ClickHouse schema."""

from __future__ import annotations

import typer

from mast_cli.console import clear_errors, say
from mast_core.settings import get_settings
from sinks.clickhouse import apply_migrations, connect

app = typer.Typer(help="ClickHouse: the store the API reads.")


@app.command()
def migrate() -> None:
    """Apply pending migrations; safe to re-run."""
    settings = get_settings()
    with clear_errors():
        client = connect(settings)
        applied = apply_migrations(client)
    for migration in applied:
        say(f"applied migration {migration.version:04d}_{migration.name}")
    if not applied:
        say("ClickHouse schema is up to date")
