"""The columns of MAST's ClickHouse tables, in one place.

Each table's row is a named tuple whose fields are the table's columns, in the table's
order: the sink builds rows by name (``ResolvedRow(event_id=…, person_id=…)``), reads them by
name (``row.address_id``), and inserts them with ``column_names=ResolvedRow._fields``, so a
column added or moved is changed here once and no index elsewhere goes stale. Readers (the
API) take their column lists from here too. ``tests/integration/test_clickhouse.py`` checks
every list against the table the migrations build.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

# Written by the sink ----------------------------------------------------------------------------

RESOLVED_INTERACTIONS = "resolved_interactions"


class ResolvedRow(NamedTuple):
    """One interaction with the person and address it was resolved to."""

    event_id: str
    person_id: str
    address_id: str
    agency: str
    event_type: str
    event_time: datetime
    occurred_at: datetime | None
    source_system: str | None
    source_record_id: str | None
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    gender: str
    address_line1: str | None
    address_line2: str | None
    town: str | None
    postcode: str | None
    uprn: str | None
    nhs_number: str | None
    case_status: str | None
    contact_name: str | None
    contact_team: str | None
    contact_phone: str | None
    contact_email: str | None
    match_weight: float | None
    match_reason: str
    resolved_at: datetime
    parameters_version: str
    match_contributions: str
    """JSON list of {field, level, weight}: the per-field contributions behind
    ``match_weight`` (empty list for a record linked by no comparison); '' for a record
    stored before resolved-interaction schema v4 carried them (migration 0014)."""
    sensitivity: str | None = None
    """REFUGE, ADOPTION, WITNESS or OTHER: the partner marked the record to be shielded
    (interaction schema v3, migration 0018); None for an ordinary record."""
    stored_at: datetime | None = None
    """When the sink stored the row (migration 0020; see ``STORED_AT``)."""


PERSON_KEYS = "person_keys"


class PersonKeyRow(NamedTuple):
    """A record under one of the blocking keys it was filed under, with what search scores."""

    key: str
    person_id: str
    event_id: str
    event_time: datetime
    agency: str
    source_system: str | None
    source_record_id: str | None
    given_name: str | None
    family_name: str | None
    date_of_birth: str | None
    gender: str
    address_line1: str | None
    town: str | None
    postcode: str | None
    nhs_number: str | None
    resolved_at: datetime


ADDRESS_KEYS = "address_keys"


class AddressKeyRow(NamedTuple):
    """One written form of an address under one of its search keys."""

    key: str
    address_id: str
    line1: str
    line2: str
    town: str
    postcode: str
    last_seen: datetime


IDENTITY_MERGES = "identity_merges"


class MergeRow(NamedTuple):
    merge_id: str
    surviving_person_id: str
    retired_person_id: str
    triggered_by_event_id: str | None
    match_weight: float
    evidence: str
    """JSON list of {field, level, weight}."""
    merged_at: datetime


PERSON_ALIASES = "person_aliases"


class AliasRow(NamedTuple):
    retired_person_id: str
    surviving_person_id: str
    merge_id: str
    merged_at: datetime
    stored_at: datetime | None = None
    """When the sink stored the row (migration 0021; see ``STORED_AT``)."""


PERSON_ALIAS_VERSIONS = "person_alias_versions"
"""Every version of ``person_aliases`` the sink wrote, append-only (migration 0025), with the
same columns (``AliasRow``): the current table keeps only each id's latest once its parts
merge, and a page as at an earlier time (``query_api.reads``) needs the version in force
then."""


IDENTITY_SPLITS = "identity_splits"


class SplitRow(NamedTuple):
    """A merge undone by a steward's correction (migration 0016), or records detached from
    a person they were linked to directly (``merge_id`` empty; migration 0027)."""

    split_id: str
    merge_id: str
    surviving_person_id: str
    restored_person_id: str
    correction_id: str
    moved_records: int
    detached_agencies: list[str]
    detached_event_ids: list[str]
    split_at: datetime


EVENT_RETRACTIONS = "event_retractions"


class RetractionRow(NamedTuple):
    """A partner's retraction of one of its events, ids only (migration 0019): the audit
    that it happened, and the tombstone that keeps the withdrawn record's rows out."""

    retraction_id: str
    agency: str
    retracted_event_id: str
    retracting_event_id: str
    kind: str
    """WITHDRAWN, or CORRECTED (the retracting event carries the corrected record)."""
    person_id: str
    merge_ids_undone: list[str]
    retracted_at: datetime


RETRACTION_COLUMNS: tuple[str, ...] = RetractionRow._fields
DETAIL_TABLES_BY_EVENT: tuple[str, ...] = (
    "resolved_interactions",
    "address_interactions",
    "person_keys",
)
"""The tables whose rows hold one event's details, keyed by (agency, event_id): a retraction
deletes its rows from each (``address_keys``, keyed by the written address, is handled on
its own: a form another record shares stays)."""


POSSIBLE_MATCHES = "possible_matches"


class PossibleMatchRow(NamedTuple):
    """A record the resolver kept for review beside an identity it may be (migration 0022):
    ids, the score and its evidence only. The stewards' queue shows it
    (``query_api.possible_matches``)."""

    possible_id: str
    agency: str
    event_id: str
    person_id: str
    candidate_person_id: str
    match_weight: float
    reason: str
    evidence: str
    """JSON list of {field, level, weight}."""
    found_at: datetime


POSSIBLE_MATCH_COLUMNS: tuple[str, ...] = PossibleMatchRow._fields


ALERTS = "alerts"


class AlertRow(NamedTuple):
    alert_id: str
    rule_id: str
    severity: str
    subject_kind: str
    subject_id: str
    window_start: datetime
    window_end: datetime
    counts_by_agency: dict[str, int]
    evidence_event_ids: list[str]
    summary: str
    raised_at: datetime
    stored_at: datetime | None = None
    """When the sink stored the row (migration 0021; see ``STORED_AT``)."""


ALERT_VERSIONS = "alert_versions"
"""Every version of each alert the sink wrote, append-only (migration 0025), with the same
columns (``AlertRow``): an alert raised again under its id replaces its earlier version in
``alerts`` once the parts merge; a page as at a time (``query_api.records``) reads this."""


STORED_AT = "stored_at"
"""The column of the rows a person or address page reads (resolved interactions, person
aliases, alerts) that says when the sink stored each (migrations 0020, 0021): a row built with
``stored_at=None`` is stamped by ``SinkWriter`` as it inserts it, under the lock the API
reads under, so a page read as at a time (``query_api.records``) sees exactly the rows that
were in then. Not a field of the Avro records: the sink's own."""


DEAD_LETTERS = "dead_letters"


class DeadLetterRow(NamedTuple):
    source_topic: str
    source_partition: int
    source_offset: int
    reason: str
    field: str | None
    detail: str
    raw: bytes
    failed_at: datetime


LINKAGE_PARAMETERS = "linkage_parameters"


class ParameterSetRow(NamedTuple):
    """A linkage parameter set the resolver put in force, as the resolution stage published
    it: the API's person search scores with the newest."""

    version: str
    published_at: datetime
    """The received time of the event after which the set was in force (the same on every
    replay of the log), not the clock of the moment it was written."""
    body: str
    """``Parameters.to_dict()`` as JSON."""


# Written by the API -----------------------------------------------------------------------------

USERS = "users"


class UserRow(NamedTuple):
    username: str
    password_hash: str
    role: str
    organisation: str
    display_name: str
    disabled: int
    updated_at: datetime


LOGIN_ATTEMPTS = "login_attempts"


class LoginAttemptRow(NamedTuple):
    username: str
    at: datetime
    succeeded: int


AUDIT_LOG = "audit_log"


class AuditRow(NamedTuple):
    audit_id: Any
    at: datetime
    username: str
    organisation: str
    role: str
    action: str
    outcome: str
    purpose: str
    purpose_detail: str
    asked: str
    person_ids: list[str]
    address_ids: list[str]
    event_ids: list[str]


ALERT_ACTIONS = "alert_actions"


class AlertActionRow(NamedTuple):
    alert_id: str
    at: datetime
    username: str
    organisation: str
    action: str
    """``acknowledged`` or ``assigned`` by a user; ``withdrawn`` by MAST."""
    assignee: str
    """The user assigned; for a withdrawal, the split that undid the link it relied on."""
    stored_at: datetime | None = None
    """When the sink stored the row (migration 0025; stamped by ``SinkWriter._insert``, see
    ``STORED_AT``): a page as at a time leaves off the alerts withdrawn by then. NULL in the
    table for a row stored otherwise (the API's own actions, rows older than the column),
    read as stored at ``at``."""


WITHDRAWN = "withdrawn"
"""The action of an alert withdrawn because a split undid the link its evidence relied on
(written by the sink, ``SinkWriter.write_splits``): it is no longer open, and no one acts
on it."""
WITHDRAWN_BY = "MAST"


ALERTS_SEEN = "alerts_seen"


class AlertsSeenRow(NamedTuple):
    username: str
    looked_at: datetime


PARTNER_KEYS = "partner_keys"


class PartnerKeyRow(NamedTuple):
    key_id: str
    secret_hash: str
    agency: str
    name: str
    created_at: datetime
    revoked: int
    updated_at: datetime


DISPUTES = "disputes"


class DisputeRow(NamedTuple):
    """A practitioner's "not the same person": records on a person's page marked as not
    theirs, with the reason. Append-only; a dispute's outcome is its decision."""

    dispute_id: str
    person_id: str
    """The person whose page showed the records (their current id when raised)."""
    agencies: list[str]
    event_ids: list[str]
    """The disputed records' keys, (``agencies[i]``, ``event_ids[i]``)."""
    held_as: list[str]
    """The person id each record was resolved to (``resolved_interactions.person_id``)
    when the dispute was raised: the person itself, or an id merged into it."""
    reason: str
    raised_by: str
    raised_org: str
    raised_at: datetime


DISPUTE_DECISIONS = "dispute_decisions"


class DisputeDecisionRow(NamedTuple):
    """A steward's decision on a dispute. Append-only: one per dispute (a second is
    refused), the first by ``decided_at`` if two processes raced."""

    dispute_id: str
    decision: str
    """``split`` or ``keep``."""
    note: str
    decided_by: str
    decided_org: str
    decided_at: datetime
    correction_id: str
    """The correction published for a split; '' for keep."""
    merge_ids: list[str]
    """The merges the split undoes, latest first; empty for keep."""


NOTIFICATIONS_SEEN = "notifications_seen"


class NotificationSeenRow(NamedTuple):
    """A notification a user has seen (migration 0017). Notifications are derived, not
    stored (``query_api.notifications``); this remembers only that one was seen."""

    username: str
    notification_id: str
    seen_at: datetime


ACCESS_REVIEW_OUTCOMES = "access_review_outcomes"


class AccessReviewOutcomeRow(NamedTuple):
    """What a data protection officer decided about one unusual-access finding (migration
    0024). Findings are derived from the audit log (``mast_core.access_review``)."""

    finding_id: str
    outcome: str
    note: str
    reviewed_by: str
    organisation: str
    reviewed_at: datetime


SHIELDS = "shields"


class ShieldRow(NamedTuple):
    """A steward's or manager's shield on a person or address id, or its lifting (migration
    0026; ``query_api.shielding``)."""

    subject_kind: str
    subject_id: str
    action: str
    reason: str
    decided_by: str
    organisation: str
    at: datetime


BREAK_GLASS = "break_glass"


class BreakGlassRow(NamedTuple):
    """Time-limited access to one shielded person or address (migration 0026)."""

    grant_id: str
    username: str
    organisation: str
    role: str
    subject_kind: str
    subject_id: str
    owners: list[str]
    reason: str
    purpose: str
    granted_at: datetime
    expires_at: datetime


BREAK_GLASS_REVIEWS = "break_glass_reviews"


class BreakGlassReviewRow(NamedTuple):
    """What a reviewer decided about one break-glass (migration 0026)."""

    grant_id: str
    reviewer_role: str
    outcome: str
    note: str
    reviewed_by: str
    organisation: str
    reviewed_at: datetime


# Column lists -----------------------------------------------------------------------------------

RESOLVED_COLUMNS: tuple[str, ...] = ResolvedRow._fields
PERSON_KEY_COLUMNS: tuple[str, ...] = PersonKeyRow._fields
ADDRESS_KEY_COLUMNS: tuple[str, ...] = AddressKeyRow._fields
MERGE_COLUMNS: tuple[str, ...] = MergeRow._fields
ALIAS_COLUMNS: tuple[str, ...] = AliasRow._fields
SPLIT_COLUMNS: tuple[str, ...] = SplitRow._fields
ALERT_ACTION_COLUMNS: tuple[str, ...] = AlertActionRow._fields
ALERT_COLUMNS: tuple[str, ...] = AlertRow._fields
DEAD_LETTER_COLUMNS: tuple[str, ...] = DeadLetterRow._fields
PARAMETER_SET_COLUMNS: tuple[str, ...] = ParameterSetRow._fields

TABLES: dict[str, type[tuple[Any, ...]]] = {
    RESOLVED_INTERACTIONS: ResolvedRow,
    PERSON_KEYS: PersonKeyRow,
    ADDRESS_KEYS: AddressKeyRow,
    IDENTITY_MERGES: MergeRow,
    PERSON_ALIASES: AliasRow,
    PERSON_ALIAS_VERSIONS: AliasRow,
    IDENTITY_SPLITS: SplitRow,
    EVENT_RETRACTIONS: RetractionRow,
    ALERTS: AlertRow,
    ALERT_VERSIONS: AlertRow,
    DEAD_LETTERS: DeadLetterRow,
    LINKAGE_PARAMETERS: ParameterSetRow,
    USERS: UserRow,
    LOGIN_ATTEMPTS: LoginAttemptRow,
    AUDIT_LOG: AuditRow,
    ALERT_ACTIONS: AlertActionRow,
    ALERTS_SEEN: AlertsSeenRow,
    PARTNER_KEYS: PartnerKeyRow,
    DISPUTES: DisputeRow,
    DISPUTE_DECISIONS: DisputeDecisionRow,
    POSSIBLE_MATCHES: PossibleMatchRow,
    NOTIFICATIONS_SEEN: NotificationSeenRow,
    ACCESS_REVIEW_OUTCOMES: AccessReviewOutcomeRow,
    SHIELDS: ShieldRow,
    BREAK_GLASS: BreakGlassRow,
    BREAK_GLASS_REVIEWS: BreakGlassReviewRow,
}
"""Every table whose rows MAST writes, by name, with its row type."""


def select_list(columns: Iterable[str], alias: str | None = None) -> str:
    """``a, b, c`` (or ``t.a, t.b, t.c``) for a SELECT of these columns, so the columns a
    reader asks for and the names it reads them by come from one list."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + column for column in columns)


def named(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows of a ``SELECT select_list(columns)`` as dicts by column name."""
    return [dict(zip(columns, row, strict=True)) for row in rows]
