"""Fixtures for tests that run the pipeline in a worker process of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mast_core.settings import Settings
from messaging.clients import make_admin
from messaging.topics import ensure_topics, topic_specs
from stream_processors.child_process import WorkerProcess


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
