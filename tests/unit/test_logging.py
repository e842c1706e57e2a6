"""Log lines for people (text) or for a log shipper (one JSON object per line)."""

from __future__ import annotations

import json
import logging

from mast_cli.app import _configure
from mast_core.settings import get_settings


def test_json_log_lines(monkeypatch, capsys):
    monkeypatch.setenv("MAST_LOG_FORMAT", "json")
    monkeypatch.setenv("MAST_LOG_LEVEL", "INFO")
    get_settings.cache_clear()
    try:
        _configure()
        logging.getLogger("mast.test").warning("dead letter: %s at %s", "avro_decode", "t[0]@4")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["level"] == "WARNING"
        assert record["logger"] == "mast.test"
        assert record["message"] == "dead letter: avro_decode at t[0]@4"
        assert "time" in record
    finally:
        get_settings.cache_clear()
        logging.basicConfig(force=True)
