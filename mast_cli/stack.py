"""``mast up``, ``mast worker``, ``mast api`` and ``mast status``: running the pipeline and
seeing at a glance whether it is healthy."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from enum import StrEnum
from typing import Annotated, Any

import typer
import uvicorn

from mast_cli.console import clear_errors, say
from mast_core.settings import Settings, get_settings
from messaging.clients import make_admin
from messaging.lag import consumer_lag
from messaging.topics import topic_specs

HostOption = Annotated[str | None, typer.Option(help="Address to serve on [MAST_API_HOST].")]
PortOption = Annotated[int | None, typer.Option(help="Port to serve on [MAST_API_PORT].")]


def up(host: HostOption = None, port: PortOption = None) -> None:
    """Start the whole stack on this machine: the local Kafka broker, the processors, the
    ClickHouse sink and the API. Ctrl-C or SIGTERM stops all of it cleanly."""
    from mast_cli.runtime import StackOptions, run_stack

    settings = get_settings()
    options = StackOptions(
        start_broker=True,
        api=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
    )
    with clear_errors():
        run_stack(settings, options, say)
    say("MAST stopped")


class Role(StrEnum):
    validate = "validate"
    resolve = "resolve"
    sink = "sink"


def worker(
    host: HostOption = None,
    port: PortOption = None,
    role: Annotated[
        Role | None,
        typer.Option(help="Do one stage only (default: all three in this process)."),
    ] = None,
) -> None:
    """Run the processors and the ClickHouse sink against a running Kafka (a deployment's
    worker; health and metrics on MAST_WORKER_PORT). With --role, one stage per process:
    resolution and the sink run in exactly one process each; validation in up to one
    process per partition of the interactions topic."""
    from mast_cli.runtime import StackOptions, run_stack
    from stream_processors.app import ROLES

    settings = get_settings()
    options = StackOptions(
        start_broker=False,
        roles=frozenset([role.value] if role else ROLES),
        host=host or settings.api_host,
        port=port or settings.worker_port,
    )
    with clear_errors():
        run_stack(settings, options, say)


def api(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the HTTP API alone, against a ClickHouse server (a deployment's API process)."""
    from query_api.app import create_app
    from query_api.context import ApiContext
    from sinks.clickhouse import apply_migrations, connect

    settings = get_settings()
    with clear_errors():
        client = connect(settings)
        apply_migrations(client)
        lock = threading.Lock()
        context = ApiContext.create(settings, client, lock)

    def status() -> dict[str, Any]:
        try:
            with lock:
                client.query("SELECT 1")
        except Exception as exc:  # report, do not crash the probe
            return {"ready": False, "role": "api", "error": type(exc).__name__}
        return {"ready": True, "role": "api"}

    uvicorn.run(
        create_app(status, context),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level="warning",
    )


def status() -> None:
    """The pipeline's health at a glance: broker, topics, consumer lag, the running process.
    Exit 3 when something is down."""
    settings = get_settings()
    healthy = True
    say("Kafka")
    try:
        topics = make_admin(settings).list_topics(timeout=5.0).topics
        say(f"  broker {settings.kafka_bootstrap}: up")
    except Exception:
        say(f"  broker {settings.kafka_bootstrap}: not reachable (mast kafka start)")
        raise typer.Exit(3) from None
    from stream_processors.app import ROLES, role_topics

    names = [spec.name for spec in topic_specs(settings)]
    missing = [name for name in names if name not in topics]
    if missing:
        healthy = False
        say(f"  missing topics: {', '.join(missing)} (mast kafka topics)")
    say("Consumer groups: messages in topic / not yet processed")
    for role in ROLES:
        role_names = [name for name in role_topics(settings, role) if name in topics]
        lags = []
        for group in (settings.app_id, f"{settings.app_id}-{role}"):
            lags = consumer_lag(settings, group, role_names)
            if any(lag.committed is not None for lag in lags):
                break
        for name in role_names:
            parts = [lag for lag in lags if lag.topic == name]
            end = sum(p.end for p in parts)
            behind = sum(p.lag for p in parts)
            say(f"  {role:<9} {name:<40} {end:>10,} {behind:>10,}")
    process = _fetch_status(settings)
    if process is None:
        healthy = False
        say(
            f"Process: no MAST process answers on {settings.api_host}:{settings.api_port} "
            f"or :{settings.worker_port} (mast up)"
        )
    else:
        say(f"Process ({process.get('role')}): {'ready' if process.get('ready') else 'NOT READY'}")
        healthy = healthy and bool(process.get("ready"))
        if process.get("crash_loop"):
            say(f"  crash loop: the {', '.join(process['crash_loop'])} agent keeps crashing")
        if process.get("sink_error"):
            say(f"  sink stopped on {process['sink_error']}")
        for key in ("started_at", "accepted_log_offset", "last_checkpoint_at", "persons"):
            if key in process:
                say(f"  {key.replace('_', ' ')}: {process[key]}")
        for key, value in sorted(process.get("counts", {}).items()):
            say(f"  {key.replace('_', ' ')}: {value:,}")
    if not healthy:
        raise typer.Exit(3)


def _fetch_status(settings: Settings) -> dict[str, Any] | None:
    """The status of the process answering on the API or the worker port, asked with the
    operator token when one is configured."""
    from query_api.ops import operator_headers

    for port in (settings.api_port, settings.worker_port):
        url = f"http://{settings.api_host}:{port}/api/v1/status"
        request = urllib.request.Request(url, headers=operator_headers(settings.operator_token))
        try:
            with urllib.request.urlopen(request, timeout=3.0) as response:  # noqa: S310
                return dict(json.load(response))
        except (urllib.error.URLError, OSError, ValueError):
            continue
    return None
