"""Entry point of the ``mast`` console script."""

from __future__ import annotations

import typer

from mast_cli import db, demo, kafka

app = typer.Typer(
    name="mast",
    help="MAST, the Multi-Agency Safeguarding Tracker.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kafka.app, name="kafka")
app.add_typer(db.app, name="db")
app.command("demo")(demo.demo)


@app.command()
def setup() -> None:
    """Create the Kafka topics and apply ClickHouse migrations (against running services)."""
    kafka.create_topics()
    db.migrate()


def main() -> None:
    app()
