"""Running the pipeline: the whole stack in one process (``mast up``), or the worker alone
(``mast worker``) beside separate API processes, as docker-compose.yml does. This is the
composition root, so it lives with the command line: it wires the stream processors, the
sink and the query API together, and no lower folder imports a higher one.

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
from query_api.context import ApiContext
from sinks.clickhouse import apply_migrations, connect
from sinks.clickhouse.consumer import ClickHouseSink, sink_group
from sinks.clickhouse.retention import apply_retention
from sinks.clickhouse.writer import SinkWriter
from stream_processors import metrics
from stream_processors.app import PROCESSORS, ROLES, build_app, group_id, role_topics
from stream_processors.pipeline import Health, Pipeline, halt_process, rewind_resolution_log
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
    roles: frozenset[str] = frozenset(ROLES)
    api: bool = False
    """Serve the practitioners' API too (needs the sink's ClickHouse client: ``mast up``)."""
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
    apply_retention(client, settings)
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


class SinkService(mode.Service):
    """The ClickHouse sink's thread, started and stopped with the worker."""

    def __init__(self, sink: ClickHouseSink, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sink = sink

    async def on_start(self) -> None:
        self.sink.start()

    async def on_stop(self) -> None:
        await asyncio.to_thread(self.sink.stop)


@dataclass
class Services:
    """A process's services, built and ready to run: the worker that runs them, and what
    must be flushed and checkpointed when it stops."""

    worker: mode.Worker
    pipeline: Pipeline | None
    stage: ResolutionStage | None


def _run_pipeline(settings: Settings, options: StackOptions, say: Say) -> None:
    run_services(build_services(settings, options, say), say)


def build_services(settings: Settings, options: StackOptions, say: Say) -> Services:
    """Topics, the sink, the resolution state rewound to its checkpoint, the agents, the lag
    watcher and the HTTP server, composed for ``options.roles``."""
    roles = options.roles
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    report = ensure_topics(make_admin(settings), topic_specs(settings))
    if report.created:
        say(f"Created topics: {', '.join(report.created)}")
    health = Health.kept_in(settings.state_dir)
    services: list[mode.ServiceT] = []
    sink: ClickHouseSink | None = None
    if "sink" in roles:
        say(f"ClickHouse: {_describe_dsn(settings)}")
        sink = _make_sink(settings, health)
        services.append(SinkService(sink))
    stage: ResolutionStage | None = None
    app: faust.App | None = None
    pipeline: Pipeline | None = None
    if roles & PROCESSORS:
        group = group_id(settings, roles)
        if "resolve" in roles:
            stage = ResolutionStage.load_or_fresh(
                settings.checkpoint_path,
                parameters_file=settings.parameters_file,
                rules_file=settings.rules_file,
            )
            say(f"Resolution state at accepted-log offset {stage.next_offset}")
            rewind_resolution_log(settings, stage.next_offset, group, say)
        pipeline = Pipeline(settings, stage, OutputPublisher(settings), health)
        pipeline.announce_parameters()  # the restored state's set, for a sink that missed it
        app = build_app(pipeline, roles)
    lag_cache: dict[str, Any] = {}
    watcher = LagWatcher(settings, roles, lag_cache)
    services.append(watcher)

    def status() -> dict[str, Any]:
        return _status(health, stage, sink, roles, lag_cache)

    api_context = None
    if options.api and sink is not None:
        api_context = ApiContext.create(settings, sink.writer.client, sink.writer.lock)
    services.insert(0, HttpService(create_app(status, api_context), options.host, options.port))
    say(
        f"Running {', '.join(r for r in ROLES if r in roles)}; health and metrics on "
        f"http://{options.host}:{options.port}; Ctrl-C stops"
    )
    level = settings.log_level.lower()
    worker: mode.Worker
    if app is not None:
        worker = faust.Worker(app, *services, loglevel=level, override_logging=False, quiet=True)
    else:
        health.running = True
        worker = mode.Worker(*services, loglevel=level, override_logging=False, quiet=True)
    return Services(worker, pipeline, stage)


def run_services(services: Services, say: Say) -> None:
    """Run until a signal stops the worker; then flush what was produced and checkpoint."""
    worker, pipeline, stage = services.worker, services.pipeline, services.stage
    exit_code: object = 0
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:  # mode's worker always ends this way; the code says how
        exit_code = exc.code
    finally:
        if pipeline is not None:
            say(
                "Stopping: flushing what was produced"
                + (" and saving the checkpoint" if stage else "")
            )
            pipeline.close()
        if stage is not None:
            say(f"Checkpoint saved at accepted-log offset {stage.next_offset}")
    if exit_code not in (0, None) or worker.crash_reason is not None:
        reason = repr(worker.crash_reason) if worker.crash_reason else f"exit code {exit_code}"
        raise PipelineCrashed(f"the pipeline stopped on an error ({reason}); see the log above")


def _make_sink(settings: Settings, health: Health) -> ClickHouseSink:
    writer = SinkWriter(prepare_database(settings), threading.Lock())

    def on_batch(table: str, rows: int, seconds: float) -> None:
        metrics.SINK_BATCH_SECONDS.labels(table).observe(seconds)
        metrics.SINK_BATCH_ROWS.labels(table).observe(rows)
        health.count(f"sink_{table}", rows)

    def on_message(topic: str) -> None:
        metrics.EVENTS_IN.labels(topic).inc()

    def on_failure(_error: BaseException) -> None:
        halt_process(health, "sink")

    return ClickHouseSink(settings, writer, on_batch, on_message, on_failure)


class LagWatcher(mode.Service):
    """Measures consumer lag of this process's groups every few seconds, for the metric and
    the status; a broker hiccup is logged, never fatal."""

    def __init__(
        self, settings: Settings, roles: frozenset[str], cache: dict[str, Any], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.cache = cache
        self.groups: list[tuple[str, list[str]]] = []
        if roles & PROCESSORS:
            topics = [
                t for r in ("validate", "resolve") if r in roles for t in role_topics(settings, r)
            ]
            self.groups.append((group_id(settings, roles), topics))
        if "sink" in roles:
            self.groups.append((sink_group(settings), role_topics(settings, "sink")))

    @mode.Service.timer(LAG_INTERVAL_S)
    async def _measure(self) -> None:
        lags: dict[str, int] = {}
        for group, topics in self.groups:
            try:
                found = await asyncio.to_thread(consumer_lag, self.settings, group, topics)
            except Exception as exc:
                log.warning("could not measure consumer lag: %s", exc)
                return
            for item in found:
                metrics.CONSUMER_LAG.labels(item.topic, str(item.partition)).set(item.lag)
                lags[item.topic] = lags.get(item.topic, 0) + item.lag
        self.cache["lag"] = lags


def _status(
    health: Health,
    stage: ResolutionStage | None,
    sink: ClickHouseSink | None,
    roles: frozenset[str],
    lag_cache: dict[str, Any],
) -> dict[str, Any]:
    sink_ok = sink is None or (sink.alive and sink.error is None)
    looping = health.crash_looping()
    snapshot: dict[str, Any] = {
        "ready": health.running and sink_ok and not looping,
        "role": "pipeline",
        "roles": [role for role in ROLES if role in roles],
        "started_at": health.started_at.isoformat(),
        "counts": dict(health.counts),
        "consumer_lag": lag_cache.get("lag", {}),
    }
    if sink is not None and sink.error is not None:
        snapshot["sink_error"] = type(sink.error).__name__
    if looping:
        snapshot["crash_loop"] = looping
    if stage is not None:
        stats = stage.resolver.stats
        snapshot["accepted_log_offset"] = stage.next_offset
        snapshot["persons"] = stats.new_persons - stats.merges + stats.splits
        checkpoint = health.last_checkpoint_at
        snapshot["last_checkpoint_at"] = checkpoint.isoformat() if checkpoint else None
    return snapshot


def _describe_dsn(settings: Settings) -> str:
    if settings.clickhouse_url:
        return "server (MAST_CLICKHOUSE_URL)"
    return f"embedded chDB in {settings.state_dir / 'clickhouse'}"
