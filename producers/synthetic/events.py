"""The one way synthetic data writes a partner's record: an interaction event in the JSON form
of docs/event-contract.md, with the ground truth that goes with it. The population generator,
the region and the named scenarios (and the FEBRL benchmark data) all build their events
here, so every synthetic event has the same shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SyntheticEvent:
    event: dict[str, Any]
    person_id: str
    """Ground truth: the synthetic person the record is about."""
    address_id: str
    """Ground truth: the dwelling."""
    scenario: str | None = None
    """The named scenario the record belongs to, if any (producers/synthetic/scenarios.py)."""


def duty_desk(agency: str) -> str:
    """Whom a record names when no worker is allocated: ``Adult social care duty desk``."""
    return f"{agency.title().replace('_', ' ')} duty desk"


def whom_to_call(name: str, team: str = "", phone: str = "") -> dict[str, str | None]:
    """The event's ``contact``: a team or phone not known is null."""
    return {"name": name, "team": team or None, "phone": phone or None}


def interaction_event(
    event_id: str,
    agency: str,
    source_system: str,
    event_type: str,
    when: datetime,
    subject: dict[str, Any],
    *,
    record: str | None = None,
    case_status: str | None = None,
    contact: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """One partner's record of one interaction; ``when`` is an aware UTC time, written with
    a ``Z``; ``record`` is the partner's own reference (``source_record_id``)."""
    return {
        "event_id": event_id,
        "agency": agency,
        "source_system": source_system,
        "source_record_id": record,
        "event_type": event_type,
        "occurred_at": when.isoformat().replace("+00:00", "Z"),
        "subject": subject,
        "case_status": case_status,
        "contact": contact,
    }
