"""Fixtures for tests that run the pipeline in a worker process of their own, or the API
under a real server."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from mast_core.settings import Settings
from messaging.clients import make_admin
from messaging.topics import ensure_topics, topic_specs
from query_api.app import create_app
from query_api.context import ApiContext
from tests.worker_process import WorkerProcess


@pytest.fixture
def live_server(context: ApiContext) -> Iterator[str]:
    """The app on the test module's ``context`` under uvicorn in a thread, as `mast api`
    and `mast up` serve it: requests really run at the same time on the server's thread
    pool; log level warning, so no access lines (they would quote query strings); logging
    through the standard loggers (no log_config), so that caplog sees what it logs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(lambda: {"ready": True}, context),
        log_config=None,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)  # in a thread, it leaves signals alone
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def pipeline_settings(kafka: Settings, tmp_path: Path) -> Settings:
    """Topics, consumer group and state of this test's own."""
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        environment="test",
        state_dir=tmp_path / "worker-state",
        topic_prefix=f"e2e-{run}.",
        app_id=f"mast-e2e-{run}",
        clickhouse_database="mast_e2e",
        checkpoint_interval_s=2.0,
    )
    ensure_topics(make_admin(settings), topic_specs(settings))
    return settings


@pytest.fixture
def worker(pipeline_settings: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(pipeline_settings, tmp_path / "worker.log")
    yield process
    if process.process is not None and process.process.poll() is None:
        process.kill()
