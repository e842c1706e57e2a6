-- Interactions as received and validated: one row per event_id (the partner's idempotency
-- key). ReplacingMergeTree keeps the last copy of a replayed event once parts merge; reads
-- that must not see duplicates use FINAL.
CREATE TABLE IF NOT EXISTS interactions
(
    event_id          String,
    agency            LowCardinality(String),
    source_system     Nullable(String),
    source_record_id  Nullable(String),
    event_type        LowCardinality(Nullable(String)),
    occurred_at       Nullable(DateTime64(3, 'UTC')),
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
    ingested_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY event_id;

-- Input that could not be processed, with its reason. Keyed by where it came from so that a
-- replay of the dead-letter topic does not double-count.
CREATE TABLE IF NOT EXISTS dead_letters
(
    source_topic      LowCardinality(String),
    source_partition  Int32,
    source_offset     Int64,
    reason            LowCardinality(String),
    field             Nullable(String),
    detail            String,
    raw               String,
    failed_at         DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(failed_at)
ORDER BY (source_topic, source_partition, source_offset);
