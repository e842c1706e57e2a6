from __future__ import annotations

from typing import Any

import pytest

from mast_core.events import InteractionEvent, parse_event
from mast_core.linkage.profile import Profile, build_profile
from mast_core.normalise.postcodes import normalise_postcode

_counter = iter(range(10**9))


def person_event(
    given: str | None = "Margaret",
    family: str | None = "Thornbury",
    dob: str | None = "1957-02-13",
    gender: str = "F",
    line1: str | None = "12 Alder Street",
    postcode: str | None = "WS1 2AB",
    town: str | None = "Walsall",
    agency: str = "POLICE",
    record: str | None = None,
    nhs: str | None = None,
    event_id: str | None = None,
) -> InteractionEvent:
    address: dict[str, Any] | None = (
        {"line1": line1, "town": town, "postcode": postcode} if line1 or postcode else None
    )
    return parse_event(
        {
            "event_id": event_id or f"e-{next(_counter)}",
            "agency": agency,
            "source_system": "SYS",
            "source_record_id": record,
            "occurred_at": "2026-04-03T21:15:00Z",
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "gender": gender,
                "address": address,
                "nhs_number": nhs,
            },
        }
    )


def profile(address_id: str | None = "A1", **fields: Any) -> Profile:
    event = person_event(**fields)
    postcode = event.subject.address.postcode if event.subject.address else None
    return build_profile(event, address_id, normalise_postcode(postcode))


@pytest.fixture
def make_event():
    return person_event


@pytest.fixture
def make_profile():
    return profile
