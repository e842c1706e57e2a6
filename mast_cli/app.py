"""Entry point of the ``mast`` console script."""

from __future__ import annotations

import logging

import typer
from pythonjsonlogger.json import JsonFormatter

from mast_cli import db, demo, kafka, linkage, partners, produce, stack, users
from mast_core.settings import get_settings

app = typer.Typer(
    name="mast",
    help="MAST, the Multi-Agency Safeguarding Tracker.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kafka.app, name="kafka")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(produce.app, name="produce")
app.add_typer(partners.app, name="partners")
app.command("demo")(demo.demo)
app.command("down")(demo.down)
app.command("resolve")(linkage.resolve)
app.command("synth")(linkage.synth)
app.command("quality")(linkage.quality)
app.command("estimate")(linkage.estimate)
app.command("up")(stack.up)
app.command("worker")(stack.worker)
app.command("api")(stack.api)
app.command("status")(stack.status)


@app.command()
def setup() -> None:
    """Create the Kafka topics and apply ClickHouse migrations (against running services)."""
    kafka.create_topics()
    db.migrate()


@app.callback()
def _configure() -> None:
    """Logs go to stderr, one line each (JSON objects with MAST_LOG_FORMAT=json, for a log
    shipper); progress for people goes to stdout. Log lines never carry personal data: they
    name events by topic and offset and problems by field."""
    settings = get_settings()
    level = settings.log_level
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # librdkafka retries transient conditions (a coordinator still loading) and says so at
    # WARNING; an operator needs its errors, which the commands also report themselves.
    if level != "DEBUG":
        logging.getLogger("mast.kafka.librdkafka").setLevel(logging.ERROR)


def main() -> None:
    app()
