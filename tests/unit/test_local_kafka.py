"""The local broker's configuration and set-up errors, without starting a JVM."""

import pytest

from mast_core.errors import SetupError
from mast_core.settings import Settings
from messaging.broker import LocalKafka
from messaging.broker.local import new_cluster_id


def _broker(tmp_path, **overrides):
    return LocalKafka(
        Settings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache", **overrides)
    )


def test_server_properties_are_single_node_kraft_on_loopback(tmp_path):
    properties = dict(
        line.split("=", 1)
        for line in _broker(tmp_path, kafka_broker_port=19092).server_properties().splitlines()
    )
    assert properties["process.roles"] == "broker,controller"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:9093"
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["log.dirs"].startswith(str(tmp_path / "state"))


def test_missing_maven_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError) as caught:
        _broker(tmp_path).assemble(say=lambda _line: None)
    assert str(caught.value).startswith("mvn not found on PATH: install Maven")
    assert "\n" not in str(caught.value)


def test_missing_java_is_one_clear_line(tmp_path, monkeypatch):
    broker = _broker(tmp_path)
    broker.libs_dir.mkdir(parents=True)
    (broker.libs_dir / ".complete").touch()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match="java not found on PATH: install Java 17"):
        broker.start(say=lambda _line: None)


def test_an_assembled_class_path_is_reused_without_maven(tmp_path, monkeypatch):
    broker = _broker(tmp_path)
    broker.libs_dir.mkdir(parents=True)
    (broker.libs_dir / ".complete").touch()
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn: must not be needed
    assert broker.assemble(say=lambda _line: None) == broker.libs_dir


def test_status_and_stop_with_nothing_running(tmp_path):
    broker = _broker(tmp_path)
    lines: list[str] = []
    assert broker.stop(say=lines.append) is False
    assert lines == ["Kafka is not running; nothing to stop"]
    assert broker.status().running is False


def test_a_pid_file_naming_another_process_is_treated_as_stale(tmp_path):
    broker = _broker(tmp_path)
    broker.home.mkdir(parents=True)
    broker.pid_file.write_text("1\n")  # pid 1 is alive but is not our broker
    assert "stale pid file" in broker.status().message
    lines: list[str] = []
    assert broker.stop(say=lines.append) is False
    assert "stale pid file" in lines[0]
    assert not broker.pid_file.exists()


def test_cluster_ids_never_start_with_a_dash_the_storage_tool_would_read_as_an_option():
    ids = [new_cluster_id() for _ in range(5_000)]
    assert not any(cluster_id.startswith("-") for cluster_id in ids)
    assert all(len(cluster_id) == 22 for cluster_id in ids)
    assert len(set(ids)) == len(ids)
