"""The FastAPI app and web UI that practitioners and managers use (issue: query API)."""
