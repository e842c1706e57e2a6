"""Health, readiness, metrics and status, as an orchestrator and ``mast status`` see them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from query_api.app import create_app
from stream_processors import metrics


def test_health_ready_metrics_and_status():
    state = {"ready": False, "counts": {"resolved": 3}}
    client = TestClient(create_app(lambda: dict(state)))
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").status_code == 503
    state["ready"] = True
    assert client.get("/ready").status_code == 200
    metrics.DEAD_LETTERS.labels("avro_decode").inc()
    text = client.get("/metrics").text
    assert 'mast_dead_letters_total{reason="avro_decode"}' in text
    assert "mast_resolution_seconds_bucket" in text
    status = client.get("/api/v1/status").json()
    assert status["counts"] == {"resolved": 3}
    assert "now" in status
    assert "/health" in client.get("/openapi.json").json()["paths"]
