"""Small builders for test data. Names are invented."""

from __future__ import annotations

from typing import Any


def event_dict(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "fire-2026-000123",
        "agency": "FIRE",
        "source_system": "FireIncidents",
        "source_record_id": "F-123",
        "event_type": "FIRE_ATTENDANCE",
        "occurred_at": "2026-04-03T21:15:00Z",
        "subject": {
            "given_name": "Maisie",
            "family_name": "Thornbury-Kaye",
            "date_of_birth": "2012-02-13",
            "gender": "F",
            "address": {
                "line1": "12 Alder Street",
                "line2": None,
                "town": "Walsall",
                "postcode": "WS1 2AB",
                "uprn": "100071234567",
            },
            "nhs_number": "9434765919",
        },
        "case_status": None,
        "contact": {
            "name": "Watch Manager Reid",
            "team": "Blue Watch",
            "phone": "01922 000000",
            "email": "blue.watch@fire.example",
        },
    }
    event.update(overrides)
    return event
