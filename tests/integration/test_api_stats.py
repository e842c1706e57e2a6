"""Match statistics through the API: counts move exactly as a known set of records says."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from mast_core.events import parse_event
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.writer import SinkWriter
from stream_processors.resolution import ResolutionStage, resolved_record
from tests.factories import letters
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration


def _event(event_id: str, agency: str, given: str, family: str, dob: str, line1: str):
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "occurred_at": "2026-05-01T10:00:00Z",
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "address": {"line1": line1, "town": "Dudley", "postcode": "DY1 1AA"},
            },
        }
    )


def test_matching_statistics(settings, clickhouse):
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    _name, headers = signed_in(context, client, "manager", "PROBATION", prefix="stats")

    def stats() -> dict:
        response = client.get(
            "/api/v1/stats/matching", params={"agency": "PROBATION"}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    before = stats()
    run = uuid.uuid4().hex[:6]
    family = "Stat" + letters(run)
    house = f"{int(run[:4], 16) % 900 + 10} Hawthorn Rise {run}"
    flat = f"Flat {int(run[2:], 16) % 90 + 1} Cedar Court {run}"
    stage = ResolutionStage.fresh()
    events = [
        _event(f"{run}-1", "PROBATION", "Gary", family, "1981-07-07", house),
        _event(f"{run}-2", "PROBATION", "Gary", family, "1981-07-07", house),
        _event(f"{run}-3", "HOUSING", "Gary", family, "1981-07-07", house),
        _event(f"{run}-4", "PROBATION", "Lorna", family, "1990-12-01", flat),
    ]
    outputs = [stage.process(event) for event in events]
    SinkWriter(clickhouse).write_resolved([resolved_record(o) for o in outputs if o])
    after = stats()

    assert after["people"] - before["people"] == 2
    assert after["matched_elsewhere"] - before["matched_elsewhere"] == 1
    housing_before = before["also_known_to"].get("HOUSING", 0)
    assert after["also_known_to"]["HOUSING"] - housing_before == 1
    band_before = before["addresses_by_matched_incidents"]["1-5"]
    assert after["addresses_by_matched_incidents"]["1-5"] - band_before == 1
    assert 0 <= after["percent"] <= 100
    assert (
        client.get("/api/v1/stats/matching", params={"agency": "MI6"}, headers=headers).status_code
        == 422
    )
