"""A second, private broker (own ports, own state folder) taken through start, start again,
an unclean kill, recovery and stop, without disturbing the broker the other tests use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from mast_core.errors import SetupError
from mast_core.settings import Settings
from messaging.broker import LocalKafka

pytestmark = pytest.mark.integration

PORT, CONTROLLER_PORT = 19192, 19193


@pytest.fixture
def private_settings(tmp_path) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        kafka_bootstrap=f"127.0.0.1:{PORT}",
        kafka_broker_port=PORT,
        kafka_controller_port=CONTROLLER_PORT,
        kafka_heap="256m",
    )


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "MAST_STATE_DIR": str(settings.state_dir),
        "MAST_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "MAST_KAFKA_BROKER_PORT": str(settings.kafka_broker_port),
        "MAST_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "MAST_KAFKA_HEAP": settings.kafka_heap,
    }
    return subprocess.run(
        [sys.executable, "-m", "mast_cli", "kafka", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=180,
    )


def test_start_twice_kill_recover_stop(private_settings):
    broker = LocalKafka(private_settings)
    lines: list[str] = []
    try:
        status = broker.start(say=lines.append)
        assert status.running and status.accepting
        first_pid = status.pid
        assert (broker.data_dir / "meta.properties").exists()

        lines.clear()
        again = broker.start(say=lines.append)
        assert again.pid == first_pid
        assert lines[0].startswith(f"Kafka is already running (pid {first_pid})")

        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)  # an unclean stop: power cut, OOM killer
        while broker.status().running:
            time.sleep(0.1)
        assert "stale pid file" in broker.status().message

        lines.clear()
        recovered = broker.start(say=lines.append)
        assert recovered.running and recovered.accepting
        assert recovered.pid != first_pid
        assert any("stale pid file" in line for line in lines)
        assert not any("Formatting" in line for line in lines)  # storage is formatted once
    finally:
        lines.clear()
        stopped = broker.stop(say=lines.append)
    assert stopped is True
    assert lines[-1] == "Kafka stopped"
    assert not broker.pid_file.exists()
    lines.clear()
    assert broker.stop(say=lines.append) is False
    assert lines == ["Kafka is not running; nothing to stop"]


def test_the_cli_says_what_it_did(private_settings):
    try:
        started = _cli(private_settings, "start")
        assert started.returncode == 0, started.stderr
        assert f"accepting clients on 127.0.0.1:{PORT}" in started.stdout
        assert "created topic mast.interactions" in started.stdout
        status = _cli(private_settings, "status")
        assert status.returncode == 0
        assert "accepting clients" in status.stdout
    finally:
        stopped = _cli(private_settings, "stop")
    assert stopped.returncode == 0
    assert "Kafka stopped" in stopped.stdout
    status = _cli(private_settings, "status")
    assert status.returncode == 3
    assert status.stdout.strip() == "Kafka is not running"


def test_a_port_taken_by_another_program_is_a_clear_error(private_settings):
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", PORT))
        squatter.listen()
        with pytest.raises(SetupError, match=f"port {PORT} on 127.0.0.1 is taken"):
            LocalKafka(private_settings).start(say=lambda _line: None)
