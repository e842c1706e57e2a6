"""`mast status` reads /api/v1/status with the operator token when one is configured."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mast_cli.stack import _fetch_status
from mast_core.settings import Settings

TOKEN = "operator-" + "y" * 32


class _Status(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/api/v1/status" or self.headers.get("X-Operator-Token") != TOKEN:
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"ready": True, "role": "api"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def guarded_status() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_mast_status_sends_the_operator_token(guarded_status, tmp_path):
    def settings(**token: str) -> Settings:
        return Settings(
            environment="test",
            state_dir=tmp_path,
            api_port=guarded_status,
            worker_port=guarded_status,
            **token,
        )

    assert _fetch_status(settings()) is None
    assert _fetch_status(settings(operator_token=TOKEN)) == {"ready": True, "role": "api"}
