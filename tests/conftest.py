"""Shared fixtures. Real services live in session-scoped fixtures: the local Kafka broker
(started by the test command, and started here if it is not) and one embedded chDB engine
per test process (chDB allows one data folder per process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from mast_core.settings import Settings


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mast-state")


@pytest.fixture(scope="session")
def settings(state_dir: Path) -> Settings:
    """Default broker address, but a topic prefix and a ClickHouse folder of this run's own."""
    return Settings(
        environment="test",
        state_dir=state_dir,
        topic_prefix=f"test-{uuid.uuid4().hex[:8]}.",
        clickhouse_database="mast_test",
    )


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> Iterator[Settings]:
    """The shared local broker, with this run's topics created."""
    from messaging.broker import LocalKafka
    from messaging.clients import make_admin
    from messaging.topics import ensure_topics, topic_specs

    broker_settings = Settings(**{**settings.model_dump(), "state_dir": Settings().state_dir})
    LocalKafka(broker_settings).start(say=lambda _line: None)
    ensure_topics(make_admin(settings), topic_specs(settings))
    yield settings


@pytest.fixture(scope="session")
def clickhouse(settings: Settings) -> Client:
    from sinks.clickhouse import apply_migrations, connect

    client = connect(settings)
    apply_migrations(client)
    return client
