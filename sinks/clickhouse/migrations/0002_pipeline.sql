-- What the streaming pipeline writes. Every table is a ReplacingMergeTree keyed so that a
-- record replayed after a crash has the same key as its first copy: duplicates collapse when
-- parts merge, and reads that must not see them use FINAL. Inserts also carry a
-- deduplication token (a hash of the batch), which ClickHouse honours on these non-replicated
-- tables only because non_replicated_deduplication_window is above 0.
-- Retention is a TTL set from MAST_RETENTION_DAYS at start (sinks/clickhouse/retention.py).

-- The time series per person: one row per interaction with the person and address it was
-- resolved to when it arrived. Merges do not rewrite it; person_aliases says which ids are
-- now one person. Ordered for "the timeline of one person".
CREATE TABLE IF NOT EXISTS resolved_interactions
(
    event_id          String,
    person_id         String,
    address_id        String COMMENT 'empty when the event carried no usable address',
    agency            LowCardinality(String),
    event_type        LowCardinality(String),
    event_time        DateTime64(3, 'UTC') COMMENT 'occurred_at, or the arrival time when the partner did not say',
    occurred_at       Nullable(DateTime64(3, 'UTC')),
    source_system     Nullable(String),
    source_record_id  Nullable(String),
    given_name        Nullable(String),
    family_name       Nullable(String),
    date_of_birth     Nullable(String),
    gender            LowCardinality(String),
    address_line1     Nullable(String),
    address_line2     Nullable(String),
    town              Nullable(String),
    postcode          Nullable(String),
    uprn              Nullable(String),
    nhs_number        Nullable(String),
    case_status       LowCardinality(Nullable(String)),
    contact_name      Nullable(String),
    contact_team      Nullable(String),
    contact_phone     Nullable(String),
    contact_email     Nullable(String),
    match_weight      Nullable(Float64),
    match_reason      String,
    resolved_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(resolved_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (person_id, event_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- The same interactions ordered for "everyone and everything at one address", kept by a
-- materialised view so the sink writes once.
CREATE TABLE IF NOT EXISTS address_interactions
(
    address_id   String,
    event_time   DateTime64(3, 'UTC'),
    event_id     String,
    person_id    String,
    agency       LowCardinality(String),
    event_type   LowCardinality(String),
    resolved_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(resolved_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (address_id, event_time, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS address_interactions_mv TO address_interactions AS
SELECT address_id, event_time, event_id, person_id, agency, event_type, resolved_at
FROM resolved_interactions
WHERE address_id != '';

-- Every merge with its evidence (per-field contributions to the weight).
CREATE TABLE IF NOT EXISTS identity_merges
(
    merge_id               String,
    surviving_person_id    String,
    retired_person_id      String,
    triggered_by_event_id  Nullable(String),
    match_weight           Float64,
    evidence               String COMMENT 'JSON list of {field, level, weight}',
    merged_at              DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(merged_at)
ORDER BY merge_id
SETTINGS non_replicated_deduplication_window = 1000;

-- Each retired person id with the id it now belongs to, merges applied transitively by the
-- sink (A into B, then B into C, gives A -> C).
CREATE TABLE IF NOT EXISTS person_aliases
(
    retired_person_id    String,
    surviving_person_id  String,
    merge_id             String,
    merged_at            DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(merged_at)
ORDER BY retired_person_id
SETTINGS non_replicated_deduplication_window = 1000;

-- The identity map: each record with the person it belongs to now.
CREATE VIEW IF NOT EXISTS identity_map AS
SELECT
    r.event_id AS event_id,
    r.agency AS agency,
    r.source_system AS source_system,
    r.source_record_id AS source_record_id,
    r.person_id AS resolved_person_id,
    if(a.surviving_person_id = '', r.person_id, a.surviving_person_id) AS person_id,
    r.address_id AS address_id,
    r.event_time AS event_time
FROM resolved_interactions AS r FINAL
LEFT JOIN (SELECT retired_person_id, surviving_person_id FROM person_aliases FINAL) AS a
    ON a.retired_person_id = r.person_id;

CREATE TABLE IF NOT EXISTS alerts
(
    alert_id            String,
    rule_id             LowCardinality(String),
    severity            LowCardinality(String),
    subject_kind        LowCardinality(String),
    subject_id          String,
    window_start        DateTime64(3, 'UTC'),
    window_end          DateTime64(3, 'UTC'),
    counts_by_agency    Map(String, UInt32),
    evidence_event_ids  Array(String),
    summary             String,
    raised_at           DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(raised_at)
ORDER BY alert_id
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE dead_letters MODIFY SETTING non_replicated_deduplication_window = 1000;
