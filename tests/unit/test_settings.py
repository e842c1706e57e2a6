from pathlib import Path

import pytest
from pydantic import ValidationError

from mast_core.settings import Settings


def test_defaults_run_on_one_machine():
    settings = Settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.clickhouse_dsn.startswith("chdb:///")
    assert settings.clickhouse_dsn.endswith("/clickhouse")
    assert settings.interactions_topic == "mast.interactions"


def test_environment_variables_override_with_the_mast_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("MAST_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("MAST_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MAST_TOPIC_PREFIX", "walsall.")
    settings = Settings()
    assert settings.kafka_bootstrap == "kafka-1:9092,kafka-2:9092"
    assert settings.state_dir == Path(tmp_path)
    assert settings.dead_letter_topic == "walsall.dead-letters"
    assert settings.clickhouse_dsn == f"chdb://{tmp_path}/clickhouse"


def test_a_url_switches_to_a_clickhouse_server_with_no_other_change(monkeypatch):
    monkeypatch.setenv("MAST_CLICKHOUSE_URL", "https://clickhouse.internal:8443")
    assert Settings().clickhouse_dsn == "https://clickhouse.internal:8443"


def test_production_refuses_the_embedded_database():
    with pytest.raises(ValidationError, match="MAST_CLICKHOUSE_URL"):
        Settings(environment="production")
    assert Settings(environment="production", clickhouse_url="http://ch:8123").clickhouse_url
