"""The public shapes of the person page, the address page and the alerts they show.

``query_api.records`` reads rows into plain dictionaries; a route returns them through these
models, so the OpenAPI document states field by field what the most sensitive answers hold
(the minimum dataset and the contact to call, never case notes) and a column added to a
query is not shown to anyone until it is added here.

A page opened ``as_at`` an earlier time is the same model, field for field what the API
answered at that time; only ``as_at`` (the time asked for) tells it apart."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

AS_AT_FIELD = (
    "Null for the page as it stands. For a page opened as it stood at an earlier time "
    "(``as_at``), that time (UTC, to the millisecond): every other field is what the API "
    "answered then. The audit entry of each {view} records the time its data stood at "
    "(``data_as_at`` in ``asked``), which opens the same page again."
)


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


class Contribution(BaseModel):
    """One field's part in a link, as the resolver weighed it."""

    field: str = Field(
        description="given_name, family_name, date_of_birth, gender, residence, nhs_number "
        "or partner_record; or one of the resolver's checks: twin_check, names (given and "
        "family written the other way round)."
    )
    level: str = Field(description="The agreement level, e.g. exact, nickname, same_address.")
    words: str = Field(description='The level in words, e.g. "given name a known short form".')
    weight: float = Field(description="Bits it added to the match weight (negative: against).")


class Why(BaseModel):
    """Why a record belongs to the person, or why two identities were merged: the
    resolver's explanation, worded by ``mast_core.linkage.explanation``."""

    sentence: str = Field(
        description='e.g. "date of birth exact, family name exact, given name a known short '
        'form, same address: very strong"; for the first record of a person, "the first '
        'record of this person: no earlier record matched". A record stored before its '
        "contributions were kept says what the resolver said then."
    )
    strength: Literal["very strong", "strong", "possible", "weak"] | None = Field(
        description="From the match probability; null for a record linked by no comparison "
        "(the first of a person, or the same details as an earlier record)."
    )
    match_weight: float | None = Field(description="Log2 odds that the records are one person.")
    contributions: list[Contribution] = Field(
        description="Strongest evidence first, evidence against after it, fields not on both "
        "records last; empty when there was no comparison or it was not kept."
    )


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
    why: Why = Field(description="How this partner record's earliest interaction was linked.")


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


class PersonInteraction(Interaction):
    why: Why = Field(description="Why this record belongs to the person.")


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


class HeldByEntry(BaseModel):
    """An agency holding a record of a shielded person, and whom to call there."""

    agency: str
    team: str | None
    phone: str | None
    sentence: str = Field(description='"A record is held by POLICE — contact Team, phone".')


class BreakGlassBanner(BaseModel):
    """Shown on a page opened by break-glass (``query_api.shielding``): why, and until
    when."""

    grant_id: str
    reason: str
    granted_at: datetime
    expires_at: datetime
    message: str = Field(description="The banner's text.")


BREAK_GLASS_FIELD = (
    "Set when the page is of a shielded {kind}, opened under the caller's break-glass in "
    "force (POST /api/v1/break-glass): the banner to show. Null otherwise."
)


class PersonPage(BaseModel):
    person_id: str = Field(description="The person's current id.")
    requested_id: str = Field(description="The id asked for: a retired id opens its person.")
    merged_ids: list[str] = Field(description="Ids retired into this person.")
    details: PersonDetails = Field(description="As the latest record has them.")
    records: list[AgencyRecord]
    addresses: list[KnownAddress]
    timeline: list[MonthCount] = Field(description="Interactions by month and agency.")
    interactions: list[PersonInteraction] = Field(description="The latest first (1,000 at most).")
    open_cases: list[OpenCase]
    alerts: list[Alert]
    as_at: datetime | None = Field(default=None, description=AS_AT_FIELD.format(view="view_person"))
    withheld_addresses: int = Field(
        default=0,
        description="Addresses of this person's records not shown because they are "
        "shielded (someone who has a record there is): their records are listed without an "
        "address, and alerts about those addresses are left out.",
    )
    break_glass: BreakGlassBanner | None = Field(
        default=None, description=BREAK_GLASS_FIELD.format(kind="person")
    )


class TriggeringEvent(BaseModel):
    agency: str | None = Field(
        description="Null when the event is not one of this person's records: a merge made "
        "when records kept apart were judged again names the event being resolved then."
    )
    event_id: str


class MergeEntry(BaseModel):
    """Two identities found to be one person: the retired id's records joined the
    surviving id's."""

    kind: Literal["merge"] = Field(description="What happened: a merge, or a split (below).")
    merge_id: str
    at: datetime
    surviving_person_id: str
    retired_person_id: str
    triggered_by: TriggeringEvent | None = Field(description="The event that brought it about.")
    why: Why = Field(description="The evidence that the two were one person.")


class SplitEntry(BaseModel):
    """A merge undone by a steward's decision on a dispute: the restored id is a person of
    its own again, with the records the merge had moved, and the two are never merged
    again. The merge stays in the history before it. Or records detached: linked to the
    person directly (no merge brought them), they went to a new identity, the restored
    id, never linked to the person again."""

    kind: Literal["split"]
    split_id: str
    merge_id: str = Field(description="The merge undone; empty for records detached.")
    at: datetime
    surviving_person_id: str
    restored_person_id: str
    moved_records: int = Field(description="Distinct records that went back to the restored id.")
    detached_event_ids: list[str] = Field(
        default_factory=list,
        description="Records detached (their event ids; `merge_id` is empty): linked to "
        "the person directly, they went to the restored id, a new identity.",
    )
    correction_id: str


class PersonHistory(BaseModel):
    person_id: str = Field(description="The person's current id.")
    requested_id: str = Field(description="The id asked for: a retired id opens its person.")
    merged_ids: list[str] = Field(description="Ids retired into this person.")
    entries: list[Annotated[MergeEntry | SplitEntry, Field(discriminator="kind")]] = Field(
        description="The merges and splits this person's ids took part in, latest first."
    )


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
    shielded: bool = Field(
        default=False,
        description="A shielded person, listed on an address opened by break-glass: their "
        "names, date of birth and gender are withheld unless the caller broke the glass "
        "into that person too.",
    )


class AddressPage(BaseModel):
    address_id: str
    address: Address = Field(description="As the latest interaction there wrote it.")
    people: list[PersonAtAddress] = Field(description="Most interactions first.")
    timeline: list[MonthCount]
    interactions: list[Interaction]
    alerts: list[Alert]
    as_at: datetime | None = Field(
        default=None, description=AS_AT_FIELD.format(view="view_address")
    )
    break_glass: BreakGlassBanner | None = Field(
        default=None, description=BREAK_GLASS_FIELD.format(kind="address")
    )
