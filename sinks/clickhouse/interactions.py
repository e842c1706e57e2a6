"""Rows of the ``interactions`` table from validated events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from mast_core.events import InteractionEvent

COLUMNS = [
    "event_id",
    "agency",
    "source_system",
    "source_record_id",
    "event_type",
    "occurred_at",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "uprn",
    "nhs_number",
    "case_status",
    "contact_name",
    "contact_team",
    "contact_phone",
    "contact_email",
    "ingested_at",
]


def interaction_row(event: InteractionEvent, ingested_at: datetime) -> list[Any]:
    subject, address, contact = event.subject, event.subject.address, event.contact
    return [
        event.event_id,
        event.agency.value,
        event.source_system,
        event.source_record_id,
        event.event_type,
        event.occurred_at,
        subject.given_name,
        subject.family_name,
        subject.date_of_birth,
        subject.gender.value,
        address.line1 if address else None,
        address.line2 if address else None,
        address.town if address else None,
        address.postcode if address else None,
        address.uprn if address else None,
        subject.nhs_number,
        event.case_status.value if event.case_status else None,
        contact.name if contact else None,
        contact.team if contact else None,
        contact.phone if contact else None,
        contact.email if contact else None,
        ingested_at,
    ]


def insert_interactions(client: Client, events: Iterable[InteractionEvent]) -> int:
    """Insert one batch; returns the number of rows written."""
    now = datetime.now(UTC)
    rows = [interaction_row(event, now) for event in events]
    if rows:
        client.insert("interactions", rows, column_names=COLUMNS)
    return len(rows)
