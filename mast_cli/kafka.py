"""``mast kafka start|stop|status|topics``: the local broker and MAST's topics."""

from __future__ import annotations

import typer

from mast_cli.console import clear_errors, say
from mast_core.settings import get_settings
from messaging.broker import LocalKafka
from messaging.clients import make_admin
from messaging.topics import ensure_topics, topic_specs

app = typer.Typer(help="The local Kafka broker (single node, KRaft, from Maven Central).")


@app.command()
def start() -> None:
    """Start the broker (assembling it on first use) and create MAST's topics."""
    settings = get_settings()
    with clear_errors():
        LocalKafka(settings).start(say=say)
        create_topics()


@app.command()
def stop() -> None:
    """Stop the broker cleanly (controlled shutdown); harmless when none is running."""
    with clear_errors():
        LocalKafka(get_settings()).stop(say=say)


@app.command()
def status() -> None:
    """Say whether the broker runs and accepts clients; exit 3 when it does not."""
    state = LocalKafka(get_settings()).status()
    say(state.message)
    if not (state.running and state.accepting):
        raise typer.Exit(3)


@app.command("topics")
def create_topics() -> None:
    """Create any missing MAST topic with its partitions and retention."""
    settings = get_settings()
    with clear_errors():
        report = ensure_topics(
            make_admin(settings), topic_specs(settings), replication=settings.topic_replication
        )
    for name in report.created:
        say(f"created topic {name}")
    if report.existing:
        say(f"{len(report.existing)} topics already present")
