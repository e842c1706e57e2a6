"""The public shapes of the person page, the address page and the alerts they show.

``query_api.records`` reads rows into plain dictionaries; a route returns them through these
models, so the OpenAPI document states field by field what the most sensitive answers hold
(the minimum dataset and the contact to call, never case notes) and a column added to a
query is not shown to anyone until it is added here."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Contact(BaseModel):
    """Whom to call at the agency about this record."""

    name: str | None
    team: str | None
    phone: str | None
    email: str | None


class PersonDetails(BaseModel):
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None = Field(description="As the partner wrote it.")
    gender: str = Field(description="F, M, X or U; empty when not given.")


class AgencyRecord(PersonDetails):
    """One partner record (agency, system, reference): how that agency knows the person."""

    agency: str
    source_system: str | None
    source_record_id: str | None
    postcode: str | None
    first_seen: datetime
    last_seen: datetime
    events: int
    contact: Contact


class KnownAddress(BaseModel):
    address_id: str
    line1: str | None
    town: str | None
    postcode: str | None
    last_seen: datetime


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM", pattern=r"^\d{4}-\d{2}$")
    agency: str
    count: int


class Interaction(BaseModel):
    """That an interaction happened, with whom to call: never what happened in it."""

    event_id: str
    person_id: str = Field(description="The person it belongs to now (merges applied).")
    occurred_at: datetime | None
    agency: str
    event_type: str | None
    case_status: str | None
    address_id: str | None
    contact: Contact


class OpenCase(BaseModel):
    agency: str
    source_record_id: str | None
    open_since: datetime = Field(description="The earliest OPEN since the last CLOSED.")
    contact: Contact


class Alert(BaseModel):
    """The Avro ``alert`` record's fields (docs/alerts.md)."""

    alert_id: str
    rule_id: str
    severity: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    subject_kind: Literal["PERSON", "ADDRESS"]
    subject_id: str
    window_start: datetime
    window_end: datetime
    counts_by_agency: dict[str, int]
    evidence_event_ids: list[str]
    summary: str
    raised_at: datetime


class AgencyContact(Contact):
    """Whom to call at one agency that owns an alert: the contact of that agency's latest
    event among the alert's evidence."""

    agency: str


class PersonPage(BaseModel):
    person_id: str = Field(description="The person's current id.")
    requested_id: str = Field(description="The id asked for: a retired id opens its person.")
    merged_ids: list[str] = Field(description="Ids retired into this person.")
    details: PersonDetails = Field(description="As the latest record has them.")
    records: list[AgencyRecord]
    addresses: list[KnownAddress]
    timeline: list[MonthCount] = Field(description="Interactions by month and agency.")
    interactions: list[Interaction] = Field(description="The latest first (1,000 at most).")
    open_cases: list[OpenCase]
    alerts: list[Alert]


class Address(BaseModel):
    line1: str | None
    line2: str | None
    town: str | None
    postcode: str | None


class PersonAtAddress(PersonDetails):
    """A person linked to the address, with how many of its interactions are theirs."""

    person_id: str
    agencies: list[str]
    events: int


class AddressPage(BaseModel):
    address_id: str
    address: Address = Field(description="As the latest interaction there wrote it.")
    people: list[PersonAtAddress] = Field(description="Most interactions first.")
    timeline: list[MonthCount]
    interactions: list[Interaction]
    alerts: list[Alert]
