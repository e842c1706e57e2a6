"""``mast up`` as a user runs it: its own broker (private ports and state folder here, so the
shared test broker is untouched), the pipeline, sink and API in one process; ``mast status``
while it runs; SIGTERM stops all of it, broker included."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from mast_core.events import parse_event
from mast_core.settings import Settings
from messaging.broker import LocalKafka
from producers.publisher import InteractionPublisher
from tests.factories import event_dict
from tests.worker_process import free_port

pytestmark = pytest.mark.integration

PORT, CONTROLLER_PORT = 19292, 19293


def _status(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=2) as r:
            return json.load(r)
    except OSError:
        return None


def _mast_status(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mast_cli", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_up_serves_processes_and_stops_everything_on_sigterm(tmp_path):
    api_port = free_port()
    settings = Settings(
        state_dir=tmp_path / "state",
        kafka_bootstrap=f"127.0.0.1:{PORT}",
        kafka_broker_port=PORT,
        kafka_controller_port=CONTROLLER_PORT,
        kafka_heap="256m",
        api_port=api_port,
        worker_port=free_port(),
    )
    env = os.environ | {
        "MAST_STATE_DIR": str(settings.state_dir),
        "MAST_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "MAST_KAFKA_BROKER_PORT": str(PORT),
        "MAST_KAFKA_CONTROLLER_PORT": str(CONTROLLER_PORT),
        "MAST_KAFKA_HEAP": "256m",
        "MAST_API_PORT": str(api_port),
        "MAST_WORKER_PORT": str(settings.worker_port),
    }
    log = (tmp_path / "up.log").open("w+")
    up = subprocess.Popen(
        [sys.executable, "-m", "mast_cli", "up"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 180
        while (status := _status(api_port)) is None or not status["ready"]:
            assert up.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, "mast up did not become ready"
            time.sleep(0.5)
        assert status["roles"] == ["validate", "resolve", "sink"]

        events = [parse_event(event_dict(event_id=f"up-{i}")) for i in range(3)]
        assert InteractionPublisher(settings).publish(events).failed == []
        while (_status(api_port) or {}).get("counts", {}).get("sink_resolved_interactions", 0) < 3:
            assert time.monotonic() < deadline + 60, _status(api_port)
            time.sleep(0.3)

        report = _mast_status(env)
        assert report.returncode == 0, report.stdout + report.stderr
        assert "Process (pipeline): ready" in report.stdout
        assert "resolved: 3" in report.stdout

        up.send_signal(signal.SIGTERM)
        assert up.wait(90) == 0
    finally:
        if up.poll() is None:
            up.kill()
        LocalKafka(settings).stop(say=lambda _line: None)
    output = (tmp_path / "up.log").read_text()
    # the three events reach the accepted log in one or more batches, as they arrive
    saved = re.search(r"Checkpoint saved at accepted-log offset (\d+)", output)
    assert saved is not None and 1 <= int(saved[1]) <= 3, output
    assert "Stopping the local Kafka broker" in output
    assert not LocalKafka(settings).status().running
    down = _mast_status(env)
    assert down.returncode == 3
    assert "not reachable" in down.stdout
