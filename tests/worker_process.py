"""A MAST worker in a child process, as a deployment runs it: for end-to-end tests and
benchmarks, which need the real process boundary (kill, restart) and their own state.

chDB allows one data folder per process, and the test process may hold its own; so the
worker gets a state folder of its own, and what it wrote to ClickHouse is read afterwards
by another short child process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mast_core.errors import MastError
from mast_core.settings import Settings

_QUERY = """
import json, sys
from clickhouse_connect import get_client
client = get_client(dsn=sys.argv[1])
client.database = sys.argv[2]
print(json.dumps([list(r) for r in client.query(sys.argv[3]).result_rows], default=str))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WorkerProcessError(MastError):
    reason = "worker_process"


class WorkerProcess:
    def __init__(self, settings: Settings, log_path: Path, role: str | None = None) -> None:
        self.settings = settings
        self.role = role
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "MAST_STATE_DIR": str(s.state_dir),
            "MAST_TOPIC_PREFIX": s.topic_prefix,
            "MAST_APP_ID": s.app_id,
            "MAST_CLICKHOUSE_DATABASE": s.clickhouse_database,
            "MAST_WORKER_PORT": str(self.port),
            "MAST_CHECKPOINT_INTERVAL_S": str(s.checkpoint_interval_s),
            "MAST_LOG_LEVEL": "INFO",
        }

    def start(self, timeout: float = 90.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mast_cli",
                "worker",
                "--port",
                str(self.port),
                *(["--role", self.role] if self.role else []),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_for(lambda status: bool(status.get("ready")), timeout, "the worker to be ready")

    def status(self) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.port}/api/v1/status"
        try:
            with urllib.request.urlopen(url, timeout=2.0) as response:
                return dict(json.load(response))
        except OSError:
            return None

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        process = self._running()
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise WorkerProcessError(f"worker exited ({process.returncode}): {self.tail()}")
            status = self.status()
            if status is not None and predicate(status):
                return status
            time.sleep(0.2)
        raise WorkerProcessError(f"timed out waiting for {what}; last status {self.status()}")

    def _running(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise WorkerProcessError("the worker was never started")
        return self.process

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, as an orchestrator stops it; returns the exit code."""
        process = self._running()
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL: no flush, no final checkpoint, as a crash would."""
        process = self._running()
        process.kill()
        process.wait(30)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def query(self, sql: str) -> list[list[Any]]:
        """Read the worker's ClickHouse (only while it is stopped: one process per folder)."""
        if self.process is not None and self.process.poll() is None:
            raise WorkerProcessError("stop the worker before reading its embedded ClickHouse")
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                _QUERY,
                self.settings.clickhouse_dsn,
                self.settings.clickhouse_database,
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return list(json.loads(result.stdout))
