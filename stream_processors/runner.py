"""Running the pipeline: the whole stack in one process (``mast up``), or the worker alone
(``mast worker``) beside separate API processes, as docker-compose.yml does.

Order of start: broker (``mast up`` only), topics, ClickHouse migrations and retention, the
resolution state from its checkpoint, the consumer group rewound to that checkpoint, then
Faust's agents and the HTTP server in one event loop. Ctrl-C or SIGTERM stops Faust (its
worker owns the signals), then the last outputs are flushed, the state checkpointed, and the
broker stopped if this command started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import faust
import mode
import uvicorn
from clickhouse_connect.driver.client import Client
from fastapi import FastAPI

from mast_core.errors import MastError
from mast_core.settings import Settings
from messaging.broker import LocalKafka
from messaging.clients import make_admin
from messaging.lag import consumer_lag
from messaging.topics import ensure_topics, topic_specs
from query_api.app import create_app
from sinks.clickhouse import apply_migrations, connect
from sinks.clickhouse.retention import apply_retention
from sinks.clickhouse.writer import SinkWriter
from stream_processors import metrics
from stream_processors.app import build_app
from stream_processors.pipeline import Pipeline, rewind_resolution_log
from stream_processors.publishing import OutputPublisher
from stream_processors.resolution import ResolutionStage

log = logging.getLogger(__name__)

Say = Callable[[str], None]
LAG_INTERVAL_S = 10.0


class PipelineCrashed(MastError):
    reason = "crashed"


@dataclass(frozen=True)
class StackOptions:
    start_broker: bool
    """Start (and later stop) the local broker: ``mast up`` on one machine."""
    sink: bool = True
    host: str = "127.0.0.1"
    port: int = 8000


class _QuietServer(uvicorn.Server):
    """uvicorn inside Faust's loop: Faust's worker owns the signals and stops us."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpService(mode.Service):
    """The HTTP server as a service of the Faust worker, started and stopped with it."""

    def __init__(self, app: FastAPI, host: str, port: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def on_start(self) -> None:
        self._task = asyncio.ensure_future(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # re-raise why it could not start (port taken, ...)
                raise RuntimeError("HTTP server stopped while starting")
            await asyncio.sleep(0.05)

    async def on_stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


def prepare_database(settings: Settings) -> Client:
    client = connect(settings)
    apply_migrations(client)
    apply_retention(client, settings.retention_days)
    return client


def run_stack(settings: Settings, options: StackOptions, say: Say) -> None:
    """Run until stopped by a signal."""
    broker = LocalKafka(settings)
    started_broker = False
    if options.start_broker:
        started_broker = not broker.status().running
        broker.start(say=say)
    try:
        _run_pipeline(settings, options, say)
    finally:
        if started_broker:
            say("Stopping the local Kafka broker")
            broker.stop(say=say)


def _run_pipeline(settings: Settings, options: StackOptions, say: Say) -> None:
    report = ensure_topics(make_admin(settings), topic_specs(settings))
    if report.created:
        say(f"Created topics: {', '.join(report.created)}")
    lock = threading.Lock()
    writer: SinkWriter | None = None
    if options.sink:
        say(f"ClickHouse: {_describe_dsn(settings)}")
        writer = SinkWriter(prepare_database(settings), lock)
    stage = ResolutionStage.load_or_fresh(
        settings.checkpoint_path,
        parameters_file=settings.parameters_file,
        rules_file=settings.rules_file,
    )
    say(f"Resolution state at accepted-log offset {stage.next_offset}")
    rewind_resolution_log(settings, stage.next_offset, say)
    pipeline = Pipeline(settings, stage, OutputPublisher(settings), writer)
    app = build_app(pipeline, sink=options.sink)
    lag_cache: dict[str, Any] = {}
    _watch_lag(app, settings, lag_cache)

    def status() -> dict[str, Any]:
        return _status(pipeline, lag_cache)

    http = HttpService(create_app(status), options.host, options.port)
    say(f"Serving on http://{options.host}:{options.port} (health, ready, metrics); Ctrl-C stops")
    worker = faust.Worker(
        app, http, loglevel=settings.log_level.lower(), override_logging=False, quiet=True
    )
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    finally:
        say("Stopping: flushing outputs and saving the resolution checkpoint")
        pipeline.close()
        say(f"Checkpoint saved at accepted-log offset {stage.next_offset}")
    if worker.crash_reason is not None:
        raise PipelineCrashed(f"the pipeline stopped on an error: {worker.crash_reason!r}")


def _watch_lag(app: faust.App, settings: Settings, cache: dict[str, Any]) -> None:
    topics = [
        settings.interactions_topic,
        settings.accepted_interactions_topic,
        settings.resolved_interactions_topic,
        settings.identity_merges_topic,
        settings.alerts_topic,
        settings.dead_letter_topic,
    ]

    @app.timer(LAG_INTERVAL_S)
    async def measure_lag() -> None:
        try:
            lags = await asyncio.to_thread(consumer_lag, settings, settings.app_id, topics)
        except Exception as exc:  # a broker hiccup must not stop the worker
            log.warning("could not measure consumer lag: %s", exc)
            return
        for item in lags:
            metrics.CONSUMER_LAG.labels(item.topic, str(item.partition)).set(item.lag)
        cache["lag"] = {topic: sum(i.lag for i in lags if i.topic == topic) for topic in topics}


def _status(pipeline: Pipeline, lag_cache: dict[str, Any]) -> dict[str, Any]:
    health = pipeline.health
    return {
        "ready": health.running,
        "role": "pipeline",
        "started_at": health.started_at.isoformat(),
        "accepted_log_offset": pipeline.stage.next_offset,
        "last_checkpoint_at": health.last_checkpoint_at.isoformat()
        if health.last_checkpoint_at
        else None,
        "counts": dict(health.counts),
        "persons": pipeline.stage.resolver.stats.new_persons - pipeline.stage.resolver.stats.merges,
        "consumer_lag": lag_cache.get("lag", {}),
        "sink": pipeline.writer is not None,
    }


def _describe_dsn(settings: Settings) -> str:
    if settings.clickhouse_url:
        return "server (MAST_CLICKHOUSE_URL)"
    return f"embedded chDB in {settings.state_dir / 'clickhouse'}"
